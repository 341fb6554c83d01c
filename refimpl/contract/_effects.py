"""What each rule does to the store under test, as the in-process machine runs it.

`RuleEffects._do_<rule>` runs the rule's step (see `refimpl.contract._rules`) against the
target: it calls the store, remembers and retires contexts as the step says, and fails
at once where the call's own answer is wrong; the machine then judges the step
(`_check`). An effect returns `Wrong` when what its call answered is judged with the
step's other checks.
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar, NoReturn

from refimpl._api import PluginAPI
from refimpl._context import (
    ContextTypeError,
    PluginContext,
    PluginContextBase,
    context_class,
    type_label,
)
from refimpl.contract._evidence import describe, describe_bare, describe_error
from refimpl.contract._expected import Expected
from refimpl.contract._ledger import Ledger
from refimpl.contract._names import fresh
from refimpl.contract._properties import NOT_HELD_REMOVE
from refimpl.contract._states import (
    ALL_STATE_TYPES,
    CONTEXT_CLASSES,
    STATE_TYPES,
    change_state,
    make_state,
)
from refimpl.contract._story import NOISE, spell, spoken
from refimpl.contract._target import MappingStore, open_target
from refimpl.support.collector import gc_collect, gc_disabled
from refimpl.support.reuse import reuse_address

__all__ = ["RECYCLE", "RuleEffects", "Wrong"]

RECYCLE = 256
"""How many contexts `recycle` may allocate to land one on a freed address."""


@dataclass(frozen=True, slots=True)
class Wrong:
    """What a step's own call into the target answered wrong, judged with the step."""

    stale: str | None = None
    downcast: str | None = None


class _Noise:
    """What `churn` allocates: unrelated to any plugin."""


class RuleEffects(Ledger):
    """Each rule's effect on the target, as a method named `_do_` and the rule's name."""

    factory: ClassVar[Callable[[], Any]]
    noise: list[object]
    built_at: set[int]
    """The address of every context this example built for the target (see `_new_context`)."""
    occupied: list[PluginContext[Any]]
    """Contexts built on such an address, never given to the target: held to the example's
    end, so that their blocks stay taken."""
    opened: Any
    typed: Any

    def _open(self) -> None:
        """Build the target to drive from the factory (at the start, and at `reopen`)."""
        self.opened = open_target(type(self).factory, self.mode)
        self.target: Any = self.opened.target
        self.terms = self.opened.terms
        self.typed: Any = self.target if self.mode == "api" else PluginAPI(self.target)

    def _do_store(self, name: str, state: str, seed: int, keep: bool) -> None:
        """Store a new context (replacing any), keeping an outside reference or not."""
        self._store(name, state, seed, keep)

    def _store(
        self, name: str, state: str, seed: int, keep: bool, how: str = "set"
    ) -> PluginContextBase:
        """Store a new context under `name` (see `_set`), remember it, and return it."""
        context = self._new_context(name, state, partial(make_state, state, seed))
        data = repr(context.data)
        self._set(name, context, how)
        self._remember(name, context, state, keep, data)
        return context

    def _new_context(self, name: str, state: str, data: Callable[[], object]) -> PluginContext[Any]:
        """A new context of `state` for `name` around `data()`, at an address that no context
        built in this example had.

        CPython hands a new object the block a dead one of its size left, or not, as the
        process's heap lies (arenas placed by ASLR, what ran before): a store that takes
        `id()` for identity (`id-dedup`) would lose a context in the worker and keep it when
        the story is replayed elsewhere. Landing on a freed address is `recycle`'s to do, on
        purpose and in every process alike; a context that lands there by chance is held
        (`occupied`) and another is built."""
        while True:
            context = CONTEXT_CLASSES[state](name, data())
            if id(context) not in self.built_at:
                self.built_at.add(id(context))
                return context
            self.occupied.append(context)

    def _set(self, name: str, context: PluginContextBase, how: str = "set") -> None:
        """Store `context` under `name`: through the store protocol, or with `how="update"`
        through the mapping's `update`."""
        self._pulse()
        try:
            if how == "update":
                self._users_object().update({fresh(name): context})
            else:
                self.target.set_plugin_data(fresh(name), context)
        except Exception as error:
            given = f"the {describe_bare(context)}"
            call = (
                f"store.update({{{spell(name)}: {given}}})"
                if how == "update"
                else spoken(self.terms, "set", name, given)
            )
            self._refused(call, name, error)

    def _refused(self, call: str, name: str, error: Exception) -> NoReturn:
        """A store that raises when given a valid context has not stored it: every later
        fetch answers the old context, or none, where the caller expects this one."""
        if isinstance(error, pickle.PicklingError) or "pickl" in str(error).lower():
            hint = (
                "The store serializes what it is given; the contract's contexts pickle, "
                "so this is the store's own limit on what it can hold."
            )
        elif name in self.expected:
            hint = (
                f"{name!r} already held a context: a registry that refuses a name it holds "
                "(as pluggy's register does) cannot replace a context, so the old one stays "
                "where the caller expects the new. Where refusing is the registry's "
                "documented behaviour, this verdict is that behaviour, not a memory bug."
            )
        else:
            hint = "Every later fetch under this name answers nothing where the caller expects it."
        refused = f"the store refused the context: {call} raised {describe_error(error)}."
        self._fail("no-stale", f"{refused} {hint}")

    def _do_replace(self, name: str, state: str, seed: int, keep: bool) -> None:
        """Store a new context under a name that has one."""
        self._store(name, state, seed, keep)

    def _do_recycle(self, name: str, state: str, seed: int, keep: bool) -> None:
        """Remove a stored context, then store a new one under the same name at the address
        the old one leaves free, as CPython's allocator would (if the old one dies)."""
        self._recycle(name, state, seed, keep)

    def _recycle(self, name: str, state: str, seed: int, keep: bool) -> None:
        address = self.expected[name].address
        # Everything is built before the free: nothing of a context's size may be
        # allocated between the free and the first candidate, or it takes the block. No
        # collection either: one that ran in between would free blocks of that size ahead
        # of it, where and how many as the process's heap lies, not as the story says.
        made = make_state(state, seed)
        make = partial(CONTEXT_CLASSES[state], name, made)
        data = repr(made)
        context: PluginContextBase | None = None
        with gc_disabled():
            self._remove(name)
            if self.expected[name].ref() is None:  # freed: a new context takes its place
                try:  # not `suppress`: the object it builds could take the block
                    context = reuse_address(address, make, attempts=RECYCLE)
                except RuntimeError:  # the block was taken meanwhile: no reuse
                    context = None
        if context is None:
            context = self._new_context(name, state, partial(make_state, state, seed))
        self._set(name, context)
        self._remember(name, context, state, keep, data)

    def _do_store_equal(self, name: str) -> None:
        """Store a new context equal (`==`: same class, plugin and data) to the one stored,
        but not it, and keep no reference to it: a store that takes "equal" for "the same"
        keeps the old, and the new one dies (`survival`)."""
        expected = self.expected[name]
        old = expected.ref()
        if old is not None:
            copied = partial(copy.deepcopy, getattr(old, "data", None))
            del old
            context = self._new_context(name, expected.state, copied)
            del copied
            self._set(name, context)
            self._remember(name, context, expected.state, False, expected.data)
            del context

    def _do_store_all(self, names: tuple[str, ...], state: str, seed: int) -> None:
        """Store a context under each of `names`, keeping them all: a bounded cache
        mistaken for a registry evicts some."""
        for name in names:
            self._store(name, state, seed, True)

    def _do_mutate(self, name: str) -> None:
        """Change a stored context's data in place: no other context's data may change
        with it (one data object shared between contexts, say a default reused)."""
        self._mutate(name)

    def _mutate(self, name: str) -> None:
        expected = self.expected[name]
        context = expected.ref()
        if context is None:
            return  # dead while stored: the check says so
        before = {other: self._data_now(e) for other, e in self.expected.items() if other != name}
        change_state(getattr(context, "data", None))
        expected.data = repr(getattr(context, "data", None))
        del context
        for other, was in before.items():
            now = self._data_now(self.expected[other])
            if was is not None and now is not None and now != was:
                self._fail(
                    "survival",
                    f"changing the data of the {expected.what} under {name!r} also changed "
                    f"the data of the {self.expected[other].what} under {other!r}, from {was} to "
                    f"{now}: the two contexts share one data object, so no plugin's state "
                    f"is its own",
                )

    @staticmethod
    def _data_now(expected: Expected) -> str | None:
        context = expected.ref()
        return None if context is None else repr(getattr(context, "data", None))

    def _do_second_store(self) -> None:
        """Build a second store with the factory: it must start empty, whatever the first
        holds (instances that share state answer each other's contexts)."""
        other = open_target(type(self).factory, self.mode)
        try:
            self._check_fresh(other.target, shared_story=False)
        finally:
            with suppress(Exception):
                other.close()

    def _do_store_lookalikes(self, pair: tuple[str, str], state: str, seed: int) -> None:
        """Store a context under each of two names that differ only in case, whitespace,
        Unicode normal form or a trailing number, for two plugins that keep running (the
        contract holds both contexts to the end of the example, `drop_refs` included): each
        name must answer its own. A store that folds the two into one key answers the
        second plugin's context for the first (`no-stale`), on every run alike."""
        for name in pair:
            self.running.add(id(self._store(name, state, seed, True)))

    def _do_remove_absent(self, name: str) -> None:
        """Remove a name that holds nothing: nothing changes (a host removes every plugin's
        name at shutdown, stored or not)."""
        self._remove(name, held=False)

    def _do_reopen(self) -> None:
        """Close the store, then build the next from the factory: it must start empty,
        and the closed store must let go of every context it held (a close that raises is
        no verdict, as at the end of an example)."""
        self._pulse()
        with suppress(Exception):
            self.opened.close()
        for name in list(self.expected):
            self._retire(name, "its store closed")
        self._open()
        self._check_fresh(self.target, shared_story=False)

    def _do_store_default(self, name: str, state: str, seed: int, keep: bool) -> None:
        """Store a context unless the name holds one, through the store's own
        `setdefault_plugin_data` (a mapping's `setdefault`), as the fixed API stores a
        default: it must return what the name holds, else store and return the new one."""
        context = self._new_context(name, state, partial(make_state, state, seed))
        data = repr(context.data)
        call = spoken(self.terms, "setdefault", name, f"the {describe_bare(context)}")
        setdefault = (
            self._users_object().setdefault
            if isinstance(self.target, MappingStore)
            else self.target.setdefault_plugin_data
        )
        self._pulse()
        try:
            got = setdefault(fresh(name), context)
        except Exception as error:
            self._refused(call, name, error)
        expected = self.expected.get(name)
        held = expected.ref() if expected is not None else None
        if expected is None:
            if got is not context and self._judging("no-stale"):
                self._fail(
                    "no-stale",
                    f"{call} returned {self._named(got, name)}, expected the "
                    f"context it was given, as {spell(name)} held nothing",
                )
            del got
            self._remember(name, context, state, keep, data)
        else:
            if held is not None and got is not held and self._judging("no-stale"):
                self._fail(
                    "no-stale",
                    f"{call} returned {self._named(got, name)}, expected the "
                    f"{expected.what} {spell(name)} holds",
                )
            if keep:
                self.held.append(context)
            del got, held
        del context

    def _do_update(self, name: str, state: str, seed: int, keep: bool) -> None:
        """Store a new context (replacing any) through the mapping's `update`."""
        self._store(name, state, seed, keep, how="update")

    def _do_pop(self, name: str) -> None:
        """Pop a name through the mapping's `pop`: what it holds must come back, and go
        (the caller drops it too); with the default for a name that holds nothing, `None`
        comes back."""
        expected = self.expected.get(name)
        mapping = self._users_object()
        call = f"store.pop({spell(name)})" if expected else f"store.pop({spell(name)}, None)"
        self._pulse()
        try:
            got = mapping.pop(fresh(name)) if expected else mapping.pop(fresh(name), None)
        except Exception:
            self._fall_back(name)
        else:
            self._check_removed(call, name, got)
            del got

    def _do_popitem(self) -> None:
        """Pop the one item the mapping holds through its `popitem`: that item must come
        back, and go (the caller drops it too)."""
        (name,) = self.expected
        self._pulse()
        try:
            key, got = self._users_object().popitem()
        except Exception:
            self._fall_back(name)
        else:
            if key != name and self._judging("no-stale"):
                self._fail(
                    "no-stale",
                    f"store.popitem() returned the key {spell(key)}, "
                    f"expected {spell(name)}, the one key the mapping holds",
                )
            self._check_removed("store.popitem()", name, got)
            del got

    def _do_clear(self) -> None:
        """Clear the mapping through its `clear`: it must let go of every context."""
        self._pulse()
        try:
            self._users_object().clear()
        except Exception:
            for name in list(self.expected):
                self._fall_back(name)
        for name in list(self.expected):
            self._retire(name, "cleared")

    def _fall_back(self, name: str) -> None:
        """An optional mutator raised (a mapping may refuse one: cachebox's `popitem`
        always does): no verdict. The contract removes `name` through the protocol
        instead, with its checks, so that it holds nothing, as the step said."""
        self._remove(name)
        self._retire(name, "removed")

    def _check_removed(self, call: str, name: str, got: object) -> None:
        """A removal that answers what it removed (`pop`, `popitem`) answered `got` for
        `name`: the context `name` held (`no-stale` otherwise). It is retired, and the
        contract lets go of it too, as a caller that pops a context to discard it does."""
        expected = self.expected.get(name)
        wanted = expected.ref() if expected is not None else None
        if got is not wanted and self._judging("no-stale") and (expected is None or wanted):
            what = f"the {expected.what} it held" if expected else "None, as it held nothing"
            self._fail("no-stale", f"{call} returned {self._named(got, name)}, expected {what}")
        self.held = [kept for kept in self.held if kept is not wanted]
        del wanted
        self._retire(name, "removed")

    def _do_store_generic(self, name: str, state: str, seed: int, keep: bool) -> None:
        """Store a context over a generic state type (`PluginContext[list[int]]`) through
        the API's `set_plugin_data`: a typed fetch must tell it from its sibling over other
        arguments (`list[str]`)."""
        self._store(name, state, seed, keep)

    def _do_set_context(self, name: str, state: str, seed: int, keep: bool) -> None:
        """Store through the API's own `set_context`, which wraps the data itself."""
        self._set_context(name, state, seed, keep)

    def _set_context(self, name: str, state: str, seed: int, keep: bool) -> None:
        data = make_state(state, seed)
        shown = repr(data)
        self._pulse()
        try:
            context = self.typed.set_context(fresh(name), data)
        except Exception as error:
            self._refused(f"set_context({name!r}, {shown})", name, error)
        previous = self.expected.get(name)
        if previous is not None and previous.ref() is context:
            self._fail(
                "no-stale",
                f"set_context({name!r}, {shown}) returned the {previous.what} already stored "
                f"under {name!r} at step {previous.step}, its data replaced in place, not a "
                f"new context: whoever kept that context now holds this call's data object, "
                f"not the one it was given",
            )
        self._remember_typed(f"set_context({name!r}, ...)", name, context, state, keep, shown)

    def _remember_typed(
        self, call: str, name: str, context: Any, state: str, keep: bool, data: str
    ) -> None:
        """Remember what the API's own typed call returned, which must be a `PluginContext[T]`."""
        if not isinstance(context, context_class(STATE_TYPES[state])):
            self._fail(
                "checked-downcast",
                f"{call} returned {describe(context)}, not a "
                f"PluginContext[{STATE_TYPES[state].__name__}]",
            )
        for other, expected in self.expected.items():
            sharer = expected.ref()
            if other != name and getattr(sharer, "data", None) is context.data:
                self._fail(
                    "survival",
                    f"{call} returned a context whose data is the very object the "
                    f"{expected.what} under {other!r} holds: the two contexts share one data "
                    f"object, so a change to either is a change to both",
                )
        self._remember(name, context, state, keep, data)

    def _do_get_default(self, name: str, state: str, keep: bool) -> None:
        """Fetch a name that has nothing stored: the API must create, store and return a
        default (the seed's lazy `getContext`), which the caller may keep or not."""
        self._get_default(name, state, keep)

    def _get_default(self, name: str, state: str, keep: bool) -> None:
        state_type = STATE_TYPES[state]
        data = repr(state_type())
        call = f"get_context({name!r}, {state_type.__name__}) with nothing stored"
        self._pulse()
        try:
            context = self.typed.get_context(fresh(name), state_type)
        except Exception as error:
            self._fail(
                "no-stale",
                f"{call} raised {describe_error(error)}, expected a new "
                f"PluginContext[{state_type.__name__}] around {data}",
            )
        self._remember_typed(call, name, context, state, keep, data)

    def _do_fetch(self, name: str) -> Wrong:
        """Fetch a stored context as its own type: the very object stored must come back
        (another object is `no-stale`), and the right type is never refused
        (`checked-downcast`)."""
        expected = self.expected[name]
        state_type = ALL_STATE_TYPES[expected.state]
        call = f"get_context({spell(name)}, {type_label(state_type)})"
        self._pulse()
        try:
            got = self.typed.get_context(fresh(name), state_type)
        except Exception as error:
            refused = f"{call} raised {describe_error(error)}, expected the {expected.what}"
            return Wrong(downcast=refused)
        wrong = None
        if got is not expected.ref():
            wrong = f"{call} returned {self._named(got, name)}, expected the stored {expected.what}"
        del got
        return Wrong(stale=wrong)

    def _do_fetch_wrong(self, name: str, state: str) -> Wrong:
        """Fetch a stored context as another type: `ContextTypeError`, and nothing changes."""
        return Wrong(downcast=self._fetch_wrong(name, state))

    def _fetch_wrong(self, name: str, state: str) -> str | None:
        wrong = ALL_STATE_TYPES[state]
        stored = self.expected[name].what
        call = f"get_context({spell(name)}, {type_label(wrong)}) on the stored {stored}"
        self._pulse()
        try:
            got = self.typed.get_context(fresh(name), wrong)
        except ContextTypeError:
            return None
        except Exception as error:
            return f"{call} raised {describe_error(error)}, expected ContextTypeError"
        return f"{call} returned {describe(got)} instead of raising ContextTypeError"

    def _do_remove(self, name: str) -> None:
        """Remove a stored context: the store must answer `None` and let it go. Then remove
        it again, now that the store does not hold it: by the protocol, nothing happens."""
        self._remove(name)
        self._retire(name, "removed")
        self._remove(name, held=False)

    def _do_drop_refs(self) -> None:
        """Drop every outside reference: only the store may keep contexts alive now (but for
        the contexts of plugins still running, stored by `store_lookalikes`)."""
        self.held = [kept for kept in self.held if id(kept) in self.running]

    def _do_collect(self) -> None:
        """Run the garbage collector."""
        self._pulse()  # finalizers of the store's objects run here
        gc_collect()

    def _do_churn(self) -> None:
        """Allocate unrelated objects of a context's size, so freed addresses get reused."""
        self.noise = [PluginContext[_Noise]("noise", _Noise()) for _ in range(NOISE)]

    def _remove(self, name: str, *, held: bool = True) -> None:
        """Remove `name` from the target; a store that raises keeps what it was asked to let
        go of (`released`). Where the store does not hold `name` (`held=False`), raising
        breaks the protocol's convention, and a host that removes every plugin's name at
        shutdown stops there, keeping what it would have released next (`released`)."""
        self._pulse()
        try:
            self.target.remove_plugin_data(fresh(name))
        except Exception as error:
            self._removal_raised(spoken(self.terms, "remove", name), name, error, held=held)

    def _removal_raised(self, call: str, name: str, error: Exception, *, held: bool) -> None:
        """A removal of `name` (`call`) raised `error`: `released`, whether the store held
        `name` (it keeps what it was asked to let go of) or not (see `_remove`)."""
        if not self._judging("released"):
            return
        raised = f"raised {describe_error(error)}"
        if held:
            self._fail("released", f"{call} {raised}")
        was = "was removed" if name in self.ever_stored else "held nothing"
        self._fail(
            "released",
            f"{call}, once {spell(name)} {was}, {raised} for a name the store does not "
            f"hold: {NOT_HELD_REMOVE}. A host that removes every plugin's name at shutdown "
            f"stops at this error, and keeps alive what it would have released next",
        )
