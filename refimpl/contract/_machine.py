"""The ownership contract as a Hypothesis state machine, checked against a plain model."""

from __future__ import annotations

import ctypes
import gc
import sys
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar, NoReturn

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

from refimpl._api import PluginAPI
from refimpl._context import ContextTypeError, PluginContext, PluginContextBase, context_class
from refimpl._gc import gc_collect
from refimpl._reuse import reuse_address
from refimpl.contract._evidence import describe, describe_error, held_by, where
from refimpl.contract._probe import probe
from refimpl.contract._states import STATE_TYPES, make_state
from refimpl.contract._violation import FAILURES

__all__ = ["NAMES", "ContractMachine"]

NAMES = ("a", "b", "c")
"""The plugin names the contract stores under."""
NOISE = 16
"""How many unrelated contexts `churn` allocates, to take over freed addresses."""
RECYCLE = 256
"""How many contexts `recycle` may allocate to land one on a freed address."""

names = st.sampled_from(NAMES)
state_keys = st.sampled_from(tuple(STATE_TYPES))
seeds = st.integers(min_value=0, max_value=3)
# "kept" first: Hypothesis shrinks each value towards it, so a story often drops outside
# references with an explicit `drop_refs` step, which reads better. Not always: a story
# of one step that never kept the context is as short, and which of them the shrinker
# ends on depends on its search (the profile, the seed). Judge a story by replaying it.
keeps = st.sampled_from((True, False))


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


class ContractMachine(RuleBasedStateMachine):
    """Drives one store (or API) and checks the four ownership properties after every step.

    Build a machine for a target with `bind`; `check_store` and `check_api`
    run it. Each rule records itself as a line of Python in `steps`, and each
    broken property raises its own `PropertyFailure` carrying those steps.
    The machine holds contexts only where the rules say so (`held`); the model
    holds weakrefs and descriptions, so it never keeps alive what it tests.
    """

    factory: ClassVar[Callable[[], Any]]
    mode: ClassVar[str] = "store"
    refreeze: ClassVar[bool] = False
    examples: ClassVar[int] = 0
    first_failure: ClassVar[tuple[int, float] | None] = None
    setup_line: ClassVar[str] = "state = ContractMachine()"
    pulses: ClassVar[Any] = None
    """A shared clock reading (`.value`): when the latest call into the code under test
    started (`time.monotonic()`), or `None`. The isolating worker sets it, so that its
    supervisor tells a slow store (calls go on) from a hung one."""

    @classmethod
    def bind(
        cls, factory: Callable[[], Any], *, mode: str, setup_line: str, refreeze: bool = False
    ) -> type[ContractMachine]:
        """Return a machine class that tests what `factory()` builds, as a store or an API.

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
        }
        return type(f"{mode.title()}Contract", (cls,), attributes)

    def __init__(self) -> None:
        super().__init__()
        type(self).examples += 1
        if self.refreeze:  # free the previous example's cycles, then hide the survivors
            gc.collect()
            gc.freeze()
        self.overreleased: list[str] = []
        self._pulse()
        self.target: Any = type(self).factory()
        self.typed: Any = self.target if self.mode == "api" else PluginAPI(self.target)
        self.model: dict[str, _Expected] = {}
        self.held: list[PluginContextBase] = []
        self.retired: list[tuple[weakref.ref[PluginContextBase], str]] = []
        self.noise: list[object] = []
        self.steps: list[str] = [self.setup_line]
        self.deaths: dict[int, str] = {}

    # -- recording -----------------------------------------------------------------

    def _record(self, rule_name: str, **arguments: object) -> None:
        spelled = ", ".join(f"{key}={value!r}" for key, value in arguments.items())
        self.steps.append(f"state.{rule_name}({spelled})")

    def _fail(self, prop: str, detail: str) -> NoReturn:
        cls = type(self)
        if cls.first_failure is None:
            cls.first_failure = (self.examples, time.perf_counter())
        raise FAILURES[prop](tuple(self.steps), detail)

    def _watch(self, context: PluginContextBase) -> weakref.ref[PluginContextBase]:
        address, what = id(context), describe(context)

        def on_death(ref: weakref.ref[PluginContextBase]) -> None:
            self.deaths[id(ref)] = where(sys._getframe(1))
            if _scrub(self.held, address):  # freed while the contract still holds it
                self.overreleased.append(
                    f"the {what} was freed by the store while the contract still held a "
                    f"reference to it (an over-release: a reference released that the store "
                    f"never owned); freed at:\n{self.deaths[id(ref)]}"
                )

        return weakref.ref(context, on_death)

    def _remember(self, name: str, context: PluginContextBase, state: str, keep: bool) -> None:
        self._retire(name)
        if keep:
            self.held.append(context)
        data = repr(getattr(context, "data", None))
        what = describe(context)
        self.model[name] = _Expected(
            self._watch(context), id(context), state, data, what, len(self.steps) - 1
        )

    def _retire(self, name: str) -> None:
        old = self.model.pop(name, None)
        if old is not None:
            self.retired.append((old.ref, f"{old.what}, stored at step {old.step}"))

    def _pick_stored(self, name: str) -> str:
        return name if name in self.model else sorted(self.model)[0]

    # -- rules ---------------------------------------------------------------------

    @rule(name=names, state=state_keys, seed=seeds, keep=keeps)
    def store(self, name: str, state: str, seed: int, keep: bool) -> None:
        """Store a new context (replacing any), keeping an outside reference or not."""
        self._record("store", name=name, state=state, seed=seed, keep=keep)
        self._store(name, state, seed, keep)
        self._check()

    def _store(self, name: str, state: str, seed: int, keep: bool) -> None:
        context = context_class(STATE_TYPES[state])(name, make_state(state, seed))
        self._call("survival", "set_plugin_data", name, context)
        self._remember(name, context, state, keep)

    @precondition(lambda self: bool(self.model))
    @rule(name=names, state=state_keys, seed=seeds, keep=keeps)
    def replace(self, name: str, state: str, seed: int, keep: bool) -> None:
        """Store a new context under a name that has one."""
        name = self._pick_stored(name)
        self._record("replace", name=name, state=state, seed=seed, keep=keep)
        self._store(name, state, seed, keep)
        self._check()

    @precondition(lambda self: bool(self.model))
    @rule(name=names, state=state_keys, seed=seeds, keep=keeps)
    def recycle(self, name: str, state: str, seed: int, keep: bool) -> None:
        """Remove a stored context, then store a new one under the same name at the address
        the old one leaves free, as CPython's allocator would (if the old one dies)."""
        name = self._pick_stored(name)
        self._record("recycle", name=name, state=state, seed=seed, keep=keep)
        self._recycle(name, state, seed, keep)
        self._check()

    def _recycle(self, name: str, state: str, seed: int, keep: bool) -> None:
        address = self.model[name].address
        # Everything is built before the free: nothing of a context's size may be
        # allocated between the free and the first candidate, or it takes the block.
        make = partial(context_class(STATE_TYPES[state]), name, make_state(state, seed))
        self._call("released", "remove_plugin_data", name)
        try:
            freed = self.model[name].ref() is None
            context = reuse_address(address, make, attempts=RECYCLE) if freed else make()
        except RuntimeError:  # the block was taken meanwhile: no reuse this time
            context = make()
        self._call("survival", "set_plugin_data", name, context)
        self._remember(name, context, state, keep)

    @rule(name=names, state=state_keys, seed=seeds, keep=keeps)
    def set_context(self, name: str, state: str, seed: int, keep: bool) -> None:
        """Store through the API's own `set_context`, which wraps the data itself."""
        self._record("set_context", name=name, state=state, seed=seed, keep=keep)
        self._set_context(name, state, seed, keep)
        self._check()

    def _set_context(self, name: str, state: str, seed: int, keep: bool) -> None:
        context = self._call("survival", "set_context", name, make_state(state, seed), typed=True)
        self._remember_typed(f"set_context({name!r}, ...)", name, context, state, keep)

    def _remember_typed(self, call: str, name: str, context: Any, state: str, keep: bool) -> None:
        """Remember what the API's own typed call returned, which must be a `PluginContext[T]`."""
        if not isinstance(context, context_class(STATE_TYPES[state])):
            self._fail(
                "checked-downcast",
                f"{call} returned {describe(context)}, not a "
                f"PluginContext[{STATE_TYPES[state].__name__}]",
            )
        self._remember(name, context, state, keep)

    @precondition(lambda self: len(self.model) < len(NAMES))
    @rule(name=names, state=state_keys, keep=keeps)
    def get_default(self, name: str, state: str, keep: bool) -> None:
        """Fetch a name that has nothing stored: the API must create, store and return a
        default (the seed's lazy `getContext`), which the caller may keep or not."""
        if name in self.model:
            name = next(n for n in NAMES if n not in self.model)
        self._record("get_default", name=name, state=state, keep=keep)
        self._get_default(name, state, keep)
        self._check()

    def _get_default(self, name: str, state: str, keep: bool) -> None:
        context = self._call("survival", "get_context", name, STATE_TYPES[state], typed=True)
        call = f"get_context({name!r}, {STATE_TYPES[state].__name__}) with nothing stored"
        self._remember_typed(call, name, context, state, keep)

    @precondition(lambda self: bool(self.model))
    @rule(name=names)
    def fetch(self, name: str) -> None:
        """Fetch a stored context as its own type: the very object stored must come back."""
        name = self._pick_stored(name)
        self._record("fetch", name=name)
        self._check(downcast=self._fetch(name))

    def _fetch(self, name: str) -> str | None:
        expected = self.model[name]
        state_type = STATE_TYPES[expected.state]
        self._pulse()
        try:
            got = self.typed.get_context(name, state_type)
        except Exception as error:
            return (
                f"get_context({name!r}, {state_type.__name__}) raised "
                f"{describe_error(error)}, expected {expected.what}"
            )
        if got is not expected.ref():
            return (
                f"get_context({name!r}, {state_type.__name__}) returned {describe(got)}, "
                f"expected the stored {expected.what}"
            )
        return None

    @precondition(lambda self: bool(self.model))
    @rule(name=names, state=state_keys)
    def fetch_wrong(self, name: str, state: str) -> None:
        """Fetch a stored context as another type: `ContextTypeError`, and nothing changes."""
        name = self._pick_stored(name)
        if state == self.model[name].state:
            keys = tuple(STATE_TYPES)
            state = keys[(keys.index(state) + 1) % len(keys)]
        self._record("fetch_wrong", name=name, state=state)
        self._check(downcast=self._fetch_wrong(name, state))

    def _fetch_wrong(self, name: str, state: str) -> str | None:
        wrong = STATE_TYPES[state]
        stored = self.model[name].what
        self._pulse()
        try:
            got = self.typed.get_context(name, wrong)
        except ContextTypeError:
            return None
        except Exception as error:
            return (
                f"get_context({name!r}, {wrong.__name__}) on the stored {stored} raised "
                f"{describe_error(error)}, expected ContextTypeError"
            )
        return (
            f"get_context({name!r}, {wrong.__name__}) on the stored {stored} returned "
            f"{describe(got)} instead of raising ContextTypeError"
        )

    @precondition(lambda self: bool(self.model))
    @rule(name=names)
    def remove(self, name: str) -> None:
        """Remove a stored context: the store must answer `None` and let it go."""
        name = self._pick_stored(name)
        self._record("remove", name=name)
        self._call("released", "remove_plugin_data", name)
        self._retire(name)
        self._check()

    @rule()
    def drop_refs(self) -> None:
        """Drop every outside reference: only the store may keep contexts alive now."""
        self._record("drop_refs")
        self.held.clear()
        self._check()

    @rule()
    def collect(self) -> None:
        """Run the garbage collector."""
        self._record("collect")
        self._pulse()  # finalizers of the store's objects run here
        gc_collect()
        self._check()

    @rule()
    def churn(self) -> None:
        """Allocate unrelated objects of a context's size, so freed addresses get reused."""
        self._record("churn")
        self.noise = [PluginContext[_Noise]("noise", _Noise()) for _ in range(NOISE)]
        self._check()

    def _pulse(self) -> None:
        if self.pulses is not None:
            self.pulses.value = time.monotonic()

    # -- calls into the target -----------------------------------------------------------

    def _call(self, prop: str, method: str, *args: object, typed: bool = False) -> Any:
        """Call the target; an exception from valid input breaks `prop`."""
        target = self.typed if typed else self.target
        self._pulse()
        try:
            return getattr(target, method)(*args)
        except Exception as error:
            shown = ", ".join(repr(a) if isinstance(a, str) else describe(a) for a in args)
            self._fail(prop, f"{method}({shown}) raised {describe_error(error)}")

    # -- the properties --------------------------------------------------------------

    def _check(self, downcast: str | None = None) -> None:
        """Judge the step: survival, no-stale, checked-downcast, released, in that order."""
        self._check_survival()
        self._check_no_stale()
        if downcast is not None:
            self._fail("checked-downcast", downcast)
        if self.overreleased:
            self._fail("released", "freed while still referenced: " + self.overreleased[0])
        self._check_released()

    def _check_survival(self) -> None:
        for name, expected in self.model.items():
            if expected.ref() is None:
                died = self.deaths.get(id(expected.ref), "    (where is unknown)")
                answer = probe(partial(self.target.get_plugin_data, name))
                self._fail(
                    "survival",
                    f"the {expected.what} stored under {name!r} at step {expected.step} was freed "
                    f"while stored: the store did not keep it alive.\n"
                    f"The last reference was dropped at:\n{died}\n"
                    f"Asked for it now, get_plugin_data({name!r}) {answer}",
                )

    def _check_no_stale(self) -> None:
        for name in NAMES:
            expected = self.model.get(name)
            self._pulse()
            try:
                got = self.target.get_plugin_data(name)
            except Exception as error:
                want = expected.what if expected else "None"
                self._fail(
                    "no-stale",
                    f"get_plugin_data({name!r}) raised {describe_error(error)}, expected {want}",
                )
            live = expected.ref() if expected else None
            if got is not live:
                self._fail("no-stale", self._stale_detail(name, got, expected))
            if expected is not None and repr(getattr(got, "data", None)) != expected.data:
                self._fail(
                    "survival",
                    f"the {expected.what} under {name!r} lost its data: "
                    f"stored {expected.data}, now {getattr(got, 'data', None)!r}",
                )

    def _stale_detail(self, name: str, got: object, expected: _Expected | None) -> str:
        if expected is None:
            return f"get_plugin_data({name!r}) returned {describe(got)}, expected None " + (
                "(it was removed)"
                if any(f"name={name!r}" in s for s in self.steps[1:])
                else "(nothing was stored)"
            )
        what = f"get_plugin_data({name!r}) returned {describe(got)}, expected the {expected.what}"
        if got is None:
            return what + ", which is alive: the store lost track of it"
        stored = expected.ref()
        if type(got) is type(stored) and repr(getattr(got, "data", None)) == expected.data:
            return what + ": an equal copy, not the object stored"
        return what + ": another object"

    def _check_released(self) -> None:
        self.retired = [(ref, what) for ref, what in self.retired if ref() is not None]
        suspects = [(ref, what) for ref, what in self.retired if not self._is_held(ref)]
        if not suspects:
            return
        gc_collect()  # a cycle may hold it until the collector runs; that is not a leak
        for ref, what in suspects:
            context = ref()
            if context is not None:
                chain = held_by(context, self.target)
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
        """Release everything the machine holds."""
        self.held.clear()
        self.noise.clear()


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
