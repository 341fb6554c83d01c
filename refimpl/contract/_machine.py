"""The ownership contract as a Hypothesis state machine, checked against a plain model."""

from __future__ import annotations

import copy
import ctypes
import gc
import pickle
import sys
import time
import weakref
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar, NoReturn

from hypothesis import reject
from hypothesis.control import current_build_context, currently_in_test_context

from refimpl._api import PluginAPI
from refimpl._context import (
    ContextTypeError,
    PluginContext,
    PluginContextBase,
    context_class,
    type_label,
)
from refimpl.contract._evidence import describe, describe_bare, describe_error, held_by, where
from refimpl.contract._names import NAMES, fresh
from refimpl.contract._probe import probe
from refimpl.contract._rules import ContractRules
from refimpl.contract._states import (
    ALL_STATE_TYPES,
    CONTEXT_CLASSES,
    STATE_TYPES,
    change_state,
    make_state,
)
from refimpl.contract._story import NOISE, spell, spoken, step_line
from refimpl.contract._target import MappingStore, abilities, open_target
from refimpl.contract._violation import FAILURES, PROPERTIES, Unjudged
from refimpl.support.cmdline import raise_if_interrupted
from refimpl.support.collector import gc_collect
from refimpl.support.reuse import reuse_address

__all__ = ["ContractMachine"]

RECYCLE = 256
"""How many contexts `recycle` may allocate to land one on a freed address."""


@dataclass(frozen=True, slots=True)
class Wrong:
    """What a step's own call into the target answered wrong, judged with the step."""

    stale: str | None = None
    downcast: str | None = None


class _Noise:
    """What `churn` allocates: unrelated to any plugin."""


@dataclass(slots=True)
class _Expected:
    """What the model knows of the context stored under one name (never the context)."""

    ref: weakref.ref[PluginContextBase]
    address: int
    state: str
    data: str
    what: str
    step: int
    cls: str
    stored: str
    """The data's `repr` when it was stored (`data` follows changes made in place)."""
    plugin: str

    def is_equal_copy(self, got: object) -> bool:
        """Whether `got` is equal (`==`) to the stored context: of its class, for its
        plugin, holding equal data. A copy of it, or the context itself: callers ask of
        an object that is not."""
        return self._is_copy(got) and repr(getattr(got, "data", None)) == self.data

    def is_snapshot(self, got: object) -> bool:
        """Whether `got` is of the stored context's class, for its plugin, holding the data
        it was stored with, since changed in place: a copy taken when it was stored."""
        return self._is_copy(got) and repr(getattr(got, "data", None)) == self.stored

    def _is_copy(self, got: object) -> bool:
        return (
            type(got).__qualname__ == self.cls and getattr(got, "plugin_name", None) == self.plugin
        )


class ContractMachine(ContractRules):
    """Drives one store, mapping or API and checks the ownership properties after every step.

    Build a machine for a target with `bind`; `check_store` and `check_api`
    run it. Each rule records itself as a line of Python in `steps`, and each
    broken property raises its own `PropertyFailure` carrying those steps.
    The machine holds contexts only where the rules say so (`held`); the model
    holds weakrefs and descriptions, so it never keeps alive what it tests.
    The typed rules (`set_context`, `get_default`, `fetch`, `fetch_wrong`) run
    on an API only: a bare store has no typed calls, so `checked-downcast` is
    not judged for it.
    """

    factory: ClassVar[Callable[[], Any]]
    refreeze: ClassVar[bool] = False
    examples: ClassVar[int] = 0
    steps_run: ClassVar[int] = 0
    """Steps run in all examples (the soak's progress line counts them)."""
    first_failure: ClassVar[tuple[int, float] | None] = None
    failed_at: ClassVar[int | None] = None
    """`examples` when the current search's first judged violation was seen."""
    setup_line: ClassVar[str] = "state = ContractMachine()"
    judged: ClassVar[tuple[str, ...]] = PROPERTIES
    """The properties this search judges: the checks of the others are not run, and an
    example that breaks one of them inside a step ends there, as passing (rejected when
    Hypothesis runs this machine; see `refimpl.contract._check._verdict`). Unless a search
    or `replay(..., judged=...)` says otherwise, every property is judged."""
    in_worker: ClassVar[bool] = False
    """Whether a worker runs this machine, program by program (not Hypothesis: a worker
    forked while Hypothesis ran in its parent would otherwise seem to be inside a test)."""
    explains: ClassVar[bool] = True
    """Whether a worker's program is the one reported (see `explaining`): the supervisor
    says so with each program."""
    pulses: ClassVar[Any] = None
    """A shared clock reading (`.value`): when the latest call into the code under test
    started (`time.monotonic()`), or `None`. The isolating worker sets it, so that its
    supervisor tells a slow store (calls go on) from a hung one."""

    @classmethod
    def bind(
        cls,
        factory: Callable[[], Any],
        *,
        mode: str,
        setup_line: str,
        refreeze: bool = False,
        names: tuple[str, ...] = NAMES,
    ) -> type[ContractMachine]:
        """Return a machine class that tests what `factory()` builds, as a store (or a
        mutable mapping) or an API, under `names`.

        With `refreeze`, each example starts with `gc.freeze()`, so its collections
        walk only what the example created, not Hypothesis's growing history (the
        caller must `gc.unfreeze()` afterwards: `check_store` does).
        """
        if mode not in ("store", "api"):
            raise ValueError(f"mode must be 'store' or 'api', got {mode!r}")
        attributes = {
            "factory": staticmethod(factory),
            "mode": mode,
            "setup_line": setup_line,
            "refreeze": refreeze,
            "names": names,
        }
        return type(f"{mode.title()}Contract", (cls,), attributes)

    def __init__(self) -> None:
        super().__init__()
        type(self).examples += 1
        if self.refreeze:  # free the previous example's cycles, then hide the survivors
            gc.collect()
            gc.freeze()
        self._pulse()  # the harness's own work above is no call into the code under test
        self.overreleased: list[str] = []
        self.data_refs: list[weakref.ref[object]] = []  # kept, so their callbacks can fire
        self.model: dict[str, str] = {}
        self.expected: dict[str, _Expected] = {}
        self.held: list[PluginContextBase] = []
        self.running: set[int] = set()  # ids of held contexts of running plugins: never dropped
        self.retired: list[tuple[weakref.ref[PluginContextBase], str]] = []
        self.noise: list[object] = []
        self.steps: list[str] = [self.setup_line]
        self.deaths: dict[int, str] = {}
        self.copied: set[int] = set()  # dead contexts (by weakref id) answered by a copy
        self.touched: dict[str, None] = dict.fromkeys(self.picked)
        self.ever_stored: set[str] = set()
        self._pulse()
        self._open()
        self._check_fresh(self.target, shared_story=True)

    def _open(self) -> None:
        """Build the target to drive from the factory (at the start, and at `reopen`)."""
        self.opened = open_target(type(self).factory, self.mode)
        self.target: Any = self.opened.target
        self.terms = self.opened.terms
        self.typed: Any = self.target if self.mode == "api" else PluginAPI(self.target)

    # -- recording -----------------------------------------------------------------

    def _act(self, rule_name: str, **arguments: Any) -> None:
        """Run the step against the target, then judge it: the effect is the method named
        `_do_` and the rule's name, whose answer, if any, is what its own call did wrong."""
        self._record(rule_name, **arguments)
        wrong: Wrong | None = getattr(self, f"_do_{rule_name}")(**arguments)
        if wrong is None:
            self._check()
        else:
            self._check(downcast=wrong.downcast, stale=wrong.stale)
        assert self.model.keys() == self.expected.keys(), (
            f"after {rule_name}, the rules' model holds {sorted(self.model)} but the "
            f"contract's holds {sorted(self.expected)}"
        )

    def _record(self, rule_name: str, **arguments: object) -> None:
        raise_if_interrupted()  # a Ctrl-C or SIGTERM a weakref callback swallowed
        type(self).steps_run += 1
        self.steps.append(step_line(rule_name, arguments, self.terms))

    def _fail(self, prop: str, detail: str, steps: tuple[str, ...] | None = None) -> NoReturn:
        cls = type(self)
        if prop not in cls.judged:  # this search looks for earlier properties only
            if not cls.in_worker and currently_in_test_context():
                reject()  # Hypothesis runs this machine: the example does not count
            raise Unjudged(prop)  # a worker runs it: it tells its supervisor the example passed
        if cls.first_failure is None:
            cls.first_failure = (self.examples, time.perf_counter())
        if cls.failed_at is None:
            cls.failed_at = cls.examples
        raise FAILURES[prop](tuple(self.steps) if steps is None else steps, detail)

    def _watch(self, context: PluginContextBase) -> weakref.ref[PluginContextBase]:
        address, what = id(context), describe_bare(context)

        def on_death(ref: weakref.ref[PluginContextBase]) -> None:
            self.deaths[id(ref)] = where(sys._getframe(1))
            if _scrub(self.held, address):  # freed while the contract still holds it
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
        self.expected[name] = _Expected(
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

    def _check_just_stored(self, name: str, context: PluginContextBase) -> None:
        """Fetch what was just stored while the contract still holds it: a store that did
        not keep the very object (it copied it, kept the one it had, or dropped it) is
        `no-stale` here, whether or not the caller keeps the context afterwards. Where
        `no-stale` is not judged, a store that answers a copy is noted instead: when the
        original dies, that is no `survival` failure, and needs no probe to tell."""
        expected = self.expected[name]
        self._pulse()
        try:
            got = self.target.get_plugin_data(fresh(name))
        except Exception as error:
            if not self._judging("no-stale"):
                return
            self._fail(
                "no-stale",
                f"right after it was stored, {self._get(name)} raised "
                f"{describe_error(error)}, expected the {expected.what}",
            )
        if got is context:
            return
        if not self._judging("no-stale"):
            if self._known(got, name) is None and expected.is_equal_copy(got):
                self.copied.add(id(expected.ref))
            return
        detail = self._stale_detail(name, got, expected)
        self._fail("no-stale", f"right after it was stored, {detail}")

    def _retire(self, name: str, how: str = "replaced") -> None:
        """Forget what `name` held (it was `how`: replaced or removed, at this step), and
        watch it from now on for `released`."""
        old = self.expected.pop(name, None)
        if old is not None:
            when = len(self.steps) - 1
            self.retired.append(
                (old.ref, f"{old.what}, stored at step {old.step}, {how} at step {when}")
            )

    def _known(self, got: object, name: str) -> str | None:
        """What `got`, answered for `name`, is when it is an object the contract stored: a
        context removed or replaced since, or another plugin's; `None` when it is neither."""
        if got is None:
            return None
        for ref, was in self.retired:
            if ref() is got:
                return f"the {was}"
        for other, expected in self.expected.items():
            if other != name and expected.ref() is got:
                return (
                    f"the {expected.what} stored under {other!r} at step {expected.step}: "
                    f"plugin {other!r}'s context, not {name!r}'s"
                )
        return None

    def _get(self, name: str) -> str:
        """A fetch of `name` as the target's user writes it."""
        return spoken(self.terms, "get", name)

    # -- rules ---------------------------------------------------------------------

    def _do_store(self, name: str, state: str, seed: int, keep: bool) -> None:
        """Store a new context (replacing any), keeping an outside reference or not."""
        self._store(name, state, seed, keep)

    def _store(
        self, name: str, state: str, seed: int, keep: bool, how: str = "set"
    ) -> PluginContextBase:
        """Store a new context under `name` (see `_set`), remember it, and return it."""
        context = CONTEXT_CLASSES[state](name, make_state(state, seed))
        data = repr(context.data)
        self._set(name, context, how)
        self._remember(name, context, state, keep, data)
        return context

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
        # allocated between the free and the first candidate, or it takes the block.
        made = make_state(state, seed)
        make = partial(CONTEXT_CLASSES[state], name, made)
        data = repr(made)
        self._remove(name)
        try:
            freed = self.expected[name].ref() is None
            context = reuse_address(address, make, attempts=RECYCLE) if freed else make()
        except RuntimeError:  # the block was taken meanwhile: no reuse this time
            context = make()
        self._set(name, context)
        self._remember(name, context, state, keep, data)

    def _do_store_equal(self, name: str) -> None:
        """Store a new context equal (`==`: same class, plugin and data) to the one stored,
        but not it, and keep no reference to it: a store that takes "equal" for "the same"
        keeps the old, and the new one dies (`survival`)."""
        expected = self.expected[name]
        old = expected.ref()
        if old is not None:
            data = copy.deepcopy(getattr(old, "data", None))
            context = CONTEXT_CLASSES[expected.state](name, data)
            del old
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
    def _data_now(expected: _Expected) -> str | None:
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

    def _check_fresh(self, target: Any, *, shared_story: bool) -> None:
        """Fail `no-stale` if a store just built answers any name. `shared_story`: this is
        the example's own first store, so the story that shows it is told afresh."""
        for name in self.names:
            self._pulse()
            try:
                got = target.get_plugin_data(fresh(name))
            except Exception as error:
                self._fail(
                    "no-stale",
                    f"a store just built raised {describe_error(error)} when asked for "
                    f"{name!r}, a name it does not hold: {NOT_HELD_GET}",
                )
            if got is None:
                continue
            if not _is_contracts(got):  # not stored by the contract: it starts so
                self._fail(
                    "no-stale",
                    f"a store just built by the factory is not empty: asked for {name!r} "
                    f"it answers {describe(got)}, expected None",
                    (self.steps[0],) if shared_story else None,
                )
            if not shared_story:  # a second store: the first holds what this one answers
                expected = self.expected.get(name)
                which = (
                    f"the {expected.what} the first store holds"
                    if expected is not None and got is expected.ref()
                    else self._named(got, name)
                )
                self._fail("no-stale", _shares_state(name, which))
            # Left by an earlier example's store: told afresh, as the story that shows it
            # (closed first where the store can be: it may keep what it holds on close()).
            first = step_line(
                "store", {"name": name, "state": "counter", "seed": 0, "keep": True}, self.terms
            )
            then = "reopen" if "close" in abilities(self.terms) else "second_store"
            self._fail(
                "no-stale",
                _shares_state(name, "a context given to another store from the same factory"),
                (self.steps[0], first, step_line(then, {}, self.terms)),
            )

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
        context = CONTEXT_CLASSES[state](name, make_state(state, seed))
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

    def _named(self, got: object, name: str) -> str:
        """`got`, answered for `name`, as the contract knows it."""
        return self._known(got, name) or describe(got)

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

    def _pulse(self, ahead: float = 0.0) -> None:
        """Stamp the start of a call into the code under test, `ahead` seconds from now: the
        supervisor's time limit runs from then (see `EVIDENCE_ALLOWANCE`)."""
        if self.pulses is not None:
            self.pulses.value = time.monotonic() + ahead

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

    # -- the properties --------------------------------------------------------------

    def _judging(self, prop: str) -> bool:
        """Whether this search judges `prop`: the checks of the others are not run at all
        (see `judged`), so that a search for an earlier property costs less and sees past
        the later ones."""
        return prop in type(self).judged

    def _check(self, downcast: str | None = None, stale: str | None = None) -> None:
        """Judge the step: survival, no-stale, checked-downcast, released, in that order;
        `stale` and `downcast` are what this step's own fetch answered wrong.
        A search that does not judge `released` ends an example at an over-release: the
        store freed what it does not own, so what the later checks would read (and every
        later step) runs on damaged memory and proves nothing."""
        if self.overreleased and not self._judging("released"):
            self._fail("released", OVER_RELEASE + self.overreleased[0])  # ends it, unjudged
        if self._judging("survival"):
            self._check_survival()
        if stale is not None and self._judging("no-stale"):
            self._fail("no-stale", stale)
        if self._judging("no-stale") or self._judging("survival"):
            self._check_no_stale()
        if downcast is not None and self._judging("checked-downcast"):
            self._fail("checked-downcast", downcast)
        if self._judging("released"):
            if self.overreleased:
                self._fail("released", OVER_RELEASE + self.overreleased[0])
            self._check_released()

    def _check_survival(self) -> None:
        for name, expected in self.expected.items():
            if expected.ref() is None and id(expected.ref) not in self.copied:
                died = self.deaths.get(id(expected.ref), "    (where is unknown)")
                answer = self._answer_for_dead(name, expected)
                if answer.startswith(_COPY):
                    if not self._judging("no-stale"):
                        # Not a survival failure: the store answers a copy. Not probed
                        # again at the next step (a probe forks a child).
                        self.copied.add(id(expected.ref))
                        continue
                    self._fail(
                        "no-stale",
                        f"{self._get(name)} returned {answer[len(_COPY) :]} of the "
                        f"{expected.what} stored at step {expected.step}, not the object "
                        f"stored: the store answers with an object of its own (a copy or a "
                        f"deserialized value), and the original was freed once nothing else "
                        f"held it, at:\n{died}",
                    )
                self._fail(
                    "survival",
                    f"the {expected.what} stored under {name!r} at step {expected.step} was "
                    f"freed while stored: the store did not keep it alive.\n"
                    f"The last reference was dropped at:\n{died}\n"
                    f"Asked for it now, {self._get(name)} {answer}",
                )

    def _answer_for_dead(self, name: str, expected: _Expected) -> str:
        """What the store answers for a stored context that died: asked in a forked child
        (it may follow a dangling pointer), or here when this is an isolated worker and
        other threads rule out forking (the worst it can do is end the worker)."""

        def render(got: object) -> str:
            known = self._known(got, name)
            if known is not None:  # not a copy: an object the contract stored
                return known
            if got is not None and expected.is_equal_copy(got):
                return f"{_COPY}an equal copy ({describe(got)})"
            if got is not None and expected.is_snapshot(got):
                return f"{_COPY}a copy as it was when stored ({describe(got)})"
            return describe(got)

        call = partial(self.target.get_plugin_data, fresh(name))
        answer = probe(call, render, waiting=self._pulse)
        if answer.startswith("(not probed: other threads") and self.pulses is not None:
            try:
                answer = f"returned {render(call())}"
            except Exception as error:
                answer = f"raised {describe_error(error)}"
        return answer.removeprefix("returned ") if _COPY in answer[:20] else answer

    def _check_no_stale(self) -> None:
        """Fetch every name touched: `no-stale` unless each answers its live stored context
        (or `None`), `survival` if that context no longer holds the data it was stored with."""
        stale = self._judging("no-stale")
        for name in self.touched:
            expected = self.expected.get(name)
            self._pulse()
            try:
                got = self.target.get_plugin_data(fresh(name))
            except Exception as error:
                if not stale:
                    continue
                self._fail("no-stale", self._raised_detail(name, error, expected))
            live = expected.ref() if expected else None
            if got is not live:
                if not stale:
                    continue
                self._fail("no-stale", self._stale_detail(name, got, expected))
            if (
                self._judging("survival")
                and expected is not None
                and repr(getattr(got, "data", None)) != expected.data
            ):
                self._fail(
                    "survival",
                    f"the {expected.what} under {name!r} does not hold the data it was stored "
                    f"with: stored with {expected.data}, now {getattr(got, 'data', None)!r}",
                )

    def _raised_detail(self, name: str, error: Exception, expected: _Expected | None) -> str:
        """A fetch of `name` raised `error`: where the store does not hold `name`, that
        breaks the protocol's convention, and the detail says so."""
        call = f"{self._get(name)} raised {describe_error(error)}"
        if expected is not None:
            return f"{call}, expected the {expected.what}"
        return f"{call} for a name the store does not hold: {NOT_HELD_GET}"

    def _stale_detail(self, name: str, got: object, expected: _Expected | None) -> str:
        """What a fetch of `name` that answered `got` did wrong, naming `got` as what the
        contract knows it to be (an old context, another plugin's) where it can."""
        known = self._known(got, name)
        call = f"{self._get(name)} returned {known or describe(got)}"
        if expected is None:
            removed = name in self.ever_stored
            return f"{call}, expected None " + (
                "(it was removed)" if removed else "(nothing was stored)"
            )
        what = f"{call}, expected the {expected.what}"
        if got is None:
            return what + ", which is alive: the store lost track of it"
        if known is not None:
            if expected.is_equal_copy(got) and "replaced" in known:
                return what + ", equal to it (==): the store kept what it held, dropped the new"
            return what
        if expected.is_equal_copy(got):
            return what + ": an equal copy, not the object stored"
        if expected.is_snapshot(got):
            return what + ": a copy of it as it was when stored, not the object stored"
        return what + ": another object"

    def _users_object(self) -> Any:
        """What the factory built, as its user knows it: a mapping, not its adapter."""
        target = self.target
        return target.mapping if isinstance(target, MappingStore) else target

    def _check_released(self) -> None:
        self.retired = [(ref, what) for ref, what in self.retired if ref() is not None]
        suspects = [(ref, what) for ref, what in self.retired if not self._is_held(ref)]
        if not suspects:
            return
        gc_collect()  # a cycle may hold it until the collector runs; that is not a leak
        self._pulse()
        for ref, what in suspects:
            context = ref()
            if context is not None:
                chain = UNEXPLAINED
                if self.explains if type(self).in_worker else explaining():
                    self._pulse(ahead=EVIDENCE_ALLOWANCE)  # the harness's work, not the store's
                    chain = held_by(context, self._users_object())
                    self._pulse()
                del context
                self._fail(
                    "released",
                    f"the {what} was removed or replaced and is referenced "
                    f"nowhere else, yet it is still alive.\n{chain}",
                )

    def _is_held(self, ref: weakref.ref[PluginContextBase]) -> bool:
        context = ref()
        return any(kept is context for kept in self.held)

    def teardown(self) -> None:
        """Release everything the machine holds, and close the store (a `close()` that
        raises is not an ownership verdict)."""
        self.held.clear()
        self.noise.clear()
        with suppress(Exception):
            self.opened.close()


def explaining() -> bool:
    """Whether the running example is one whose failure is reported: Hypothesis's final
    replay of a shrunk failure, or any example run outside a Hypothesis search. Who holds
    a context that should have died (`held_by`) is worked out for those only: a search of
    the whole heap, it cost seconds per shrinking attempt inside a big process, for a
    detail that no one reads but the final replay's."""
    if not currently_in_test_context():
        return True
    return bool(current_build_context().is_final)


UNEXPLAINED = "(who holds it is worked out when the shrunk example is replayed)"
"""A `released` detail's last line in a shrinking attempt, which nobody reads."""


_COPY = "\0copy:"
"""Marks a probe's answer that was an equal copy of the dead context."""


def _scrub(held: list[PluginContextBase], address: int) -> bool:
    """Replace every slot of `held` that points at the dying object at `address` with
    `None`, without touching the object (it is being freed: iterating the list would
    take a new reference to it and free it twice). After an over-release the list would
    otherwise point at freed memory, which the next pass over it, or the collector, would
    read. Returns whether any slot did. Reads CPython's list layout: the item array
    pointer follows the object header and size."""
    word = ctypes.sizeof(ctypes.c_void_p)
    items = ctypes.c_void_p.from_address(id(held) + _LIST_ITEMS).value
    found = False
    for index in range(len(held)):
        slot = ctypes.c_void_p.from_address((items or 0) + index * word)
        if slot.value == address:
            _incref(id(None))
            slot.value = id(None)
            found = True
    return found


_incref = ctypes.PyDLL(None).Py_IncRef  # its own function object: pythonapi's are shared
_incref.argtypes = [ctypes.c_void_p]
_incref.restype = None
_LIST_ITEMS = 3 * ctypes.sizeof(ctypes.c_void_p)
"""Offset of `ob_item` in a list object: after its reference count, type and size."""


NOT_HELD_GET = (
    "the store protocol's convention is that a fetch of a name not held returns None "
    "(get_plugin_data returns None; a mapping's get returns None, or [] raises KeyError)"
)
"""What a detail says when a fetch raised for a name the store does not hold."""
NOT_HELD_REMOVE = (
    "the store protocol's convention is that removing a name not held does nothing "
    "(remove_plugin_data returns; a mapping's del or pop raises KeyError, which is taken "
    "as nothing to remove)"
)
"""What a detail says when a removal raised for a name the store does not hold."""

EVIDENCE_ALLOWANCE = 120.0
"""Seconds the search for who holds a context may take before the time limit of a call
starts to run: among the survivors of earlier examples inside a big process (pytest's),
on a busy machine, it took longer than a call's 5 s, and a worker so slow is no hang of
the store's."""
OVER_RELEASE = "freed while still referenced: "
"""How a `released` detail starts when the store freed what the contract still held."""


def _shares_state(name: str, which: str) -> str:
    return (
        f"a store just built by the factory already answers {name!r} with {which}: its "
        f"instances share state (a class attribute, a module global, a file or a cache "
        f"location every instance opens), so one store answers with contexts stored in "
        f"another"
    )


def _is_contracts(obj: object) -> bool:
    """Whether `obj` is a context this contract builds (of one of its state types)."""
    if type(obj) in CONTEXT_CLASSES.values():
        return True
    return isinstance(obj, PluginContextBase) and type(getattr(obj, "data", None)) in set(
        STATE_TYPES.values()
    )
