"""How the contract keeps track of what it stored: by weakref, watched to its death, retired."""

from __future__ import annotations

import sys
import weakref
from contextlib import suppress

from refimpl._context import PluginContextBase
from refimpl.contract._evidence import describe_bare, where
from refimpl.contract._expected import Expected
from refimpl.contract._properties import PropertyChecks
from refimpl.contract._scrub import scrub

__all__ = ["Ledger"]


class Ledger(PropertyChecks):
    """Keeps `expected`, `retired` and `held` as the steps store, replace and remove
    contexts: a context is remembered with the data it must keep, watched so that its
    death (and where) is known, and retired when replaced or removed, to be watched
    for `released` from then on."""

    running: set[int]
    data_refs: list[weakref.ref[object]]

    def _watch(self, context: PluginContextBase) -> weakref.ref[PluginContextBase]:
        address, what = id(context), describe_bare(context)

        def on_death(ref: weakref.ref[PluginContextBase]) -> None:
            self.deaths[id(ref)] = where(sys._getframe(1))
            if scrub(self.held, address):  # freed while the contract still holds it
                self.overreleased.append(
                    f"the {what} was freed by the store while the contract still held a "
                    f"reference to it (an over-release: a reference released that the store "
                    f"never owned); freed at:\n{self.deaths[id(ref)]}"
                )

        watched = weakref.ref(context, on_death)
        self._watch_data(context, watched, what)
        return watched

    def _watch_data(
        self, context: PluginContextBase, watched: weakref.ref[PluginContextBase], what: str
    ) -> None:
        """Note an over-release of `context`'s data: it dies while the context, which holds
        it, still lives (a store that frees what its contexts own, as C code may)."""

        def on_death(_: weakref.ref[object]) -> None:
            if watched() is not None:
                self.overreleased.append(
                    f"the data of the {what} was freed by the store while that context still "
                    f"held it (an over-release: a reference released that the store never "
                    f"owned); freed at:\n{where(sys._getframe(1))}"
                )

        with suppress(TypeError):  # data that takes no weak reference cannot be watched
            self.data_refs.append(weakref.ref(getattr(context, "data", None), on_death))

    def _remember(
        self, name: str, context: PluginContextBase, state: str, keep: bool, data: str
    ) -> None:
        """Record that `context` is now stored under `name`, with the data (its `repr`,
        taken before the store saw it) it must keep."""
        self._retire(name)
        if keep:
            self.held.append(context)
        self.touched[name] = None
        self.ever_stored.add(name)
        self.expected[name] = Expected(
            self._watch(context),
            id(context),
            state,
            data,
            describe_bare(context),
            len(self.steps) - 1,
            type(context).__qualname__,
            data,
            name,
        )
        self._check_just_stored(name, context)

    def _retire(self, name: str, how: str = "replaced") -> None:
        """Forget what `name` held (it was `how`: replaced or removed, at this step), and
        watch it from now on for `released`."""
        old = self.expected.pop(name, None)
        if old is not None:
            when = len(self.steps) - 1
            self.retired.append(
                (old.ref, f"{old.what}, stored at step {old.step}, {how} at step {when}")
            )
