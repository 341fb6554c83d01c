"""Hardening: hostile input, faulty plugins, threads and garbage-collector pressure.

`make stress` runs the thread test longer (STRESS_OPERATIONS=20000 per thread).
"""

from __future__ import annotations

import gc
import itertools
import os
import random
import threading
import weakref
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from broken_variant import BrokenHost
from refimpl import (
    ContextStore,
    ContextTypeError,
    Host,
    KeyEvent,
    PluginAPI,
    PluginContext,
    PluginContextBase,
    PluginModule,
)
from refimpl._context import context_class
from refimpl.contract import run_contract
from refimpl.plugins import bundled_plugins, frame_log, simple_counter
from refimpl.plugins.frame_log import FrameLog
from refimpl.plugins.simple_counter import CounterState
from refimpl.support.collector import gc_collect, gc_disabled

THREADS = 8
OPERATIONS = int(os.environ.get("STRESS_OPERATIONS", "2000"))
STATE_TYPES: tuple[type, ...] = (CounterState, FrameLog)
GC_BUDGET = settings(max_examples=100, derandomize=True, database=None, deadline=None)


def snapshot(store: ContextStore) -> dict[str, int]:
    """Which object each name holds, by identity."""
    return {name: id(store.get_plugin_data(name)) for name in store.names()}


# -- 1. bad input, tried systematically ------------------------------------------------------

hostile_objects = st.one_of(
    st.none(), st.integers(), st.floats(), st.binary(), st.booleans(),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(), st.integers(), max_size=1),
    st.text(max_size=300), st.sampled_from(["", " ", "\t\n", "a\x00b", "x" * 1000, "\x1b[31m"]),
)  # fmt: skip


@given(name=hostile_objects)
def test_any_name_is_stored_or_refused_cleanly(name: object) -> None:
    store = ContextStore()
    kept = PluginContext[int]("kept", 1)
    store.set_plugin_data("kept", kept)
    before = snapshot(store)
    try:
        store.set_plugin_data(name, PluginContext[int]("x", 2))  # type: ignore[arg-type]
    except (TypeError, ValueError) as error:  # either outcome is allowed: check which
        assert "plugin name" in str(error)  # noqa: PT017  # the refusal names the fault
        assert snapshot(store) == before
    else:
        assert isinstance(name, str)
        assert name.strip()
        assert store.get_plugin_data(name) is not None


@given(data=hostile_objects)
def test_any_data_that_is_not_a_context_is_refused(data: object) -> None:
    store = ContextStore()
    kept = PluginContext[int]("counter", 1)
    store.set_plugin_data("counter", kept)
    with pytest.raises(TypeError, match="plugin 'counter': data must be a PluginContextBase"):
        store.set_plugin_data("counter", data)  # type: ignore[arg-type]
    assert store.get_plugin_data("counter") is kept


@given(name=hostile_objects, state_type=st.sampled_from([int, str, CounterState, 3, None]))
def test_any_typed_fetch_answers_or_refuses_cleanly(name: object, state_type: Any) -> None:
    store = ContextStore()
    api = PluginAPI(store)
    api.set_context("counter", CounterState(3))
    before = snapshot(store)
    try:
        api.get_context(name, state_type)  # type: ignore[arg-type]
    except ContextTypeError:
        assert snapshot(store) == before
    except (TypeError, ValueError) as error:  # either outcome is allowed: check which
        assert "plugin" in str(error)  # noqa: PT017  # the refusal names the plugin
        assert snapshot(store) == before


def _not_a_plugin() -> object:
    return "simple_counter"


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda host: host.register_plugin(_not_a_plugin()), TypeError, "needs a PluginModule"),
        (lambda host: host.register_plugin(PluginModule(name="")), ValueError, "empty or blank"),
        (lambda host: host.register_plugin(PluginModule(name="\x07")), ValueError, "control"),
        (lambda host: host.register_plugin(PluginModule(name="p", update=42)),  # type: ignore[arg-type]
         TypeError, "plugin 'p': update must be callable"),
        (lambda host: host.register_plugin(PluginModule(name="p"), may_read="frame_log"),
         TypeError, "plugin 'p': may_read and may_write take a list"),
        (lambda host: host.register_plugin(PluginModule(name="p"), may_write=[None]),
         TypeError, "must be a str"),
        (lambda host: host.dispatch_event("r"), TypeError, "needs a KeyEvent"),
        (lambda host: host.dispatch_event(KeyEvent(3)), TypeError, "key must be a str"),  # type: ignore[arg-type]
        (lambda host: host.run(frames=-1), ValueError, "frames must be"),
    ],
    ids=["not-a-module", "empty-name", "control-name", "callback-not-callable",
         "grant-as-str", "grant-not-a-name", "event-not-an-event", "event-key", "frames"],
)  # fmt: skip
def test_host_refuses_bad_input_and_changes_nothing(
    call: Callable[[Host], object], error: type[Exception], message: str
) -> None:
    store = ContextStore()
    host = Host(store)
    for module in bundled_plugins():
        host.register_plugin(module)
    before = (snapshot(store), host.plugin_names, host.frame_count)
    with pytest.raises(error, match=message):
        call(host)
    assert (snapshot(store), host.plugin_names, host.frame_count) == before


# -- 2. faulty plugins are contained ---------------------------------------------------------


def _faulty(phase: str) -> PluginModule:
    def explode(*args: object) -> None:
        raise RuntimeError(f"{phase} exploded")

    def init(api: PluginAPI) -> None:
        api.set_context("faulty", CounterState())

    callbacks: dict[str, Any] = {"init": init, phase: explode}
    return PluginModule(name="faulty", **callbacks)


@pytest.mark.parametrize("phase", ["init", "update", "render", "handle_event", "shutdown"])
def test_a_faulty_plugin_is_disabled_and_the_others_keep_their_state(phase: str) -> None:
    store = ContextStore()
    host = Host(store)
    host.register_plugin(simple_counter.make_plugin())
    host.register_plugin(_faulty(phase))
    host.register_plugin(frame_log.make_plugin())
    host.run(frames=5)
    host.dispatch_event(KeyEvent("x"))
    summary = host.run(frames=5)
    contexts = [weakref.ref(store.get_plugin_data(n)) for n in store.names()]
    host.shutdown()
    if phase != "shutdown":
        assert summary.failed == ("faulty",)
        assert host.screen_text().splitlines()[0] == "Frame: 10"
    [failure] = host.failures
    assert (failure.plugin, failure.phase) == ("faulty", phase)
    assert f"RuntimeError: {phase} exploded" in failure.traceback
    gc_collect()
    assert store.names() == [], "shutdown released every context, faulty plugin's too"
    assert all(ref() is None for ref in contexts), "each context was released"


def test_a_plugin_failing_in_shutdown_does_not_stop_the_others_shutdown() -> None:
    closed: list[str] = []
    host = Host()
    host.register_plugin(_faulty("shutdown"))
    host.register_plugin(PluginModule(name="after", shutdown=lambda api: closed.append("after")))
    host.shutdown()
    assert closed == ["after"]


# -- 3. threads ------------------------------------------------------------------------------


def _worker(
    store: ContextStore,
    number: int,
    barrier: threading.Barrier,
    results: dict[int, tuple[dict[str, object], list[weakref.ref[Any]]]],
) -> None:
    rng = random.Random(number)  # seeded: every run does the same operations
    names = [f"t{number}-{i}" for i in range(4)]
    model: dict[str, object] = {}
    retired: list[weakref.ref[Any]] = []
    barrier.wait()
    for _ in range(OPERATIONS):
        name, action = rng.choice(names), rng.random()
        if action < 0.4:
            if name in model:
                retired.append(weakref.ref(model[name]))
            model[name] = PluginContext[int](name, rng.randrange(100))
            store.set_plugin_data(name, model[name])  # type: ignore[arg-type]
        elif action < 0.8:
            assert store.get_plugin_data(name) is model.get(name), "no-stale, under threads"
        elif name in model:
            retired.append(weakref.ref(model.pop(name)))
            store.remove_plugin_data(name)
    results[number] = (model, retired)


def test_threads_storing_replacing_fetching_and_removing_lose_nothing() -> None:
    store = ContextStore()
    barrier = threading.Barrier(THREADS)
    results: dict[int, tuple[dict[str, object], list[weakref.ref[Any]]]] = {}
    threads = [
        threading.Thread(target=_worker, args=(store, n, barrier, results)) for n in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(results) == THREADS, "a worker failed or hung"
    expected = {name: context for model, _ in results.values() for name, context in model.items()}
    assert {n: store.get_plugin_data(n) for n in store.names()} == expected, "lost or stale"
    retired = [ref for _, refs in results.values() for ref in refs]
    del results, expected
    gc_collect()
    assert all(ref() is None for ref in retired), "a replaced or removed context leaked"


# -- 4. garbage-collector pressure -----------------------------------------------------------


class CollectingStore(ContextStore):
    """The fixed store, collecting garbage before every operation."""

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        gc.collect()
        super().set_plugin_data(name, data)

    def get_plugin_data(self, name: str) -> PluginContextBase | None:
        gc.collect()
        return super().get_plugin_data(name)

    def remove_plugin_data(self, name: str) -> None:
        gc.collect()
        super().remove_plugin_data(name)


@contextmanager
def gc_threshold(*thresholds: int) -> Iterator[None]:
    """Set the collector's thresholds for the block, and restore them afterwards."""
    previous = gc.get_threshold()
    gc.set_threshold(*thresholds)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def in_process(factory: Callable[[], Any]) -> None:
    """The contract run in this process, so that the collector settings of the test are
    the store's (an isolated worker starts with its own)."""
    run = run_contract(factory, settings=GC_BUDGET, isolate=False)
    assert run.violation is None, run.violation


def test_contract_holds_with_a_collection_at_every_step() -> None:
    in_process(CollectingStore)


def test_contract_holds_with_the_collector_disabled() -> None:
    with gc_disabled():
        in_process(ContextStore)
    assert gc.isenabled()


def test_contract_holds_with_a_collection_at_every_allocation() -> None:
    with gc_threshold(1):
        in_process(ContextStore)
    assert gc.get_threshold()[0] != 1


# -- 5. plugins stay in their own room -------------------------------------------------------


def test_the_broken_host_keeps_the_seeds_unscoped_api() -> None:
    seen: list[object] = []
    host = BrokenHost()
    host.register_plugin(
        PluginModule(
            name="peeker", init=lambda api: seen.append(type(api).__name__ + ":" + str(api.owner))
        )
    )
    assert seen == ["UncheckedPluginAPI:None"]


# -- 6. the typed fetch's fast path -------------------------------------------------------------


class Wanted:
    """The state type asked for."""


class Other:
    """A state type stored instead."""


class WantedChild(Wanted):
    """A subclass: `PluginContext[WantedChild]` is still no `PluginContext[Wanted]`."""


class SubclassedStore(ContextStore):
    """The fixed store under another class: the API looks through `get_plugin_data`
    instead of reading the store's dict."""


@pytest.mark.parametrize("make_store", [ContextStore, SubclassedStore], ids=["dict", "store"])
def test_a_wrong_type_fetch_on_the_fast_path_raises_and_changes_nothing(
    make_store: Callable[[], ContextStore],
) -> None:
    # Built first, whatever ran before: the class cache now knows `Wanted`, which is what
    # sends get_context down its fast path (one look-up, then the isinstance check).
    wanted = context_class(Wanted)
    for owner, stored_type in itertools.product([None, "p"], [Other, WantedChild]):
        case = f"owner={owner!r}, stored PluginContext[{stored_type.__name__}]"
        store = make_store()
        stored = context_class(stored_type)("p", stored_type())
        store.set_plugin_data("p", stored)
        api = PluginAPI(store, owner=owner)
        with pytest.raises(ContextTypeError) as caught:
            api.get_context("p", Wanted)
        assert caught.value.stored_type is type(stored), case
        assert caught.value.requested_type is wanted, case
        assert store.names() == ["p"], f"checked-downcast: the store changed ({case})"
        assert store.get_plugin_data("p") is stored, f"checked-downcast: not the same ({case})"


# -- 7. each context released exactly once --------------------------------------------------


class ReleaseSpy:
    """A store (the fixed one inside) that notes each context entering and leaving it.

    `entered` holds a weakref to every context stored, in order; `left` names, for each
    context that left, its index in `entered` and how (`removed` or `replaced`);
    `remove_calls` lists every `remove_plugin_data` call, found or not. Storing the
    object already stored under a name changes nothing and is no entry.
    """

    def __init__(self) -> None:
        self.inner = ContextStore()
        self.entered: list[weakref.ref[PluginContextBase]] = []
        self.left: list[tuple[int, str]] = []
        self.remove_calls: list[str] = []
        self._stored: dict[str, int] = {}  # name -> index in entered

    def _enter(self, name: str, data: PluginContextBase) -> None:
        self._stored[name] = len(self.entered)
        self.entered.append(weakref.ref(data))

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        old = self.inner.get_plugin_data(name)
        self.inner.set_plugin_data(name, data)
        if old is not data:
            if old is not None:
                self.left.append((self._stored.pop(name), "replaced"))
            self._enter(name, data)

    def setdefault_plugin_data(self, name: str, data: PluginContextBase) -> PluginContextBase:
        kept = self.inner.setdefault_plugin_data(name, data)
        if kept is data:
            self._enter(name, data)
        return kept

    def get_plugin_data(self, name: str) -> PluginContextBase | None:
        return self.inner.get_plugin_data(name)

    def remove_plugin_data(self, name: str) -> None:
        self.remove_calls.append(name)
        found = self.inner.get_plugin_data(name)
        self.inner.remove_plugin_data(name)
        if found is not None:
            self.left.append((self._stored.pop(name), "removed"))


def _drive(api: PluginAPI, spy: ReleaseSpy, steps: int) -> None:
    """Make `steps` seeded API calls, checking after each what left the store; then remove
    every name. Holds the contexts it knows only until it returns."""
    rng = random.Random(7)  # seeded: every run makes the same calls
    model: dict[str, PluginContextBase] = {}
    for step in range(steps):
        name, action, state_type = rng.choice("abc"), rng.random(), rng.choice(STATE_TYPES)
        left, removes = len(spy.left), len(spy.remove_calls)
        leaving: list[tuple[PluginContextBase, str]] = []
        if action < 0.25:
            if name in model:
                leaving.append((model[name], "replaced"))
            model[name] = api.set_context(name, state_type())
        elif action < 0.6:
            stored = model.get(name)
            if stored is None or isinstance(stored.data, state_type):  # type: ignore[attr-defined]  # every context here is a PluginContext
                model[name] = api.get_context(name, state_type)
            else:
                with pytest.raises(ContextTypeError):
                    api.get_context(name, state_type)
        elif action < 0.8:
            assert api.get_plugin_data(name) is model.get(name), f"step {step}: no-stale"
        else:
            if name in model:
                leaving.append((model.pop(name), "removed"))
            api.remove_plugin_data(name)
        gone = [(spy.entered[index](), how) for index, how in spy.left[left:]]
        assert len(gone) == len(leaving), f"step {step}: {gone} left the store, not {leaving}"
        assert all(g is c and h == w for (g, h), (c, w) in zip(gone, leaving, strict=True))
        expected_removes = [name] if action >= 0.8 else []
        assert spy.remove_calls[removes:] == expected_removes, f"step {step}: store removes"
    for name in model:
        api.remove_plugin_data(name)


def test_each_context_leaves_the_store_once_and_only_when_removed_or_replaced() -> None:
    """Six hundred seeded API calls on three names (set_context, get_context of the right
    type, of the wrong type and with nothing stored, get_plugin_data, remove), then every
    name removed: after each call, the contexts that left the store are exactly the one
    it removed or replaced, if any, and the API called the store's remove once for a
    remove and never otherwise; at the end every context stored left exactly once and,
    referenced nowhere else, was collected."""
    spy = ReleaseSpy()
    _drive(PluginAPI(spy), spy, steps=600)
    gc_collect()  # a context in a reference cycle is freed only by the collector
    times = Counter(index for index, _ in spy.left)
    assert sorted(times) == list(range(len(spy.entered))), "released: one never left"
    assert set(times.values()) == {1}, "released exactly once"
    assert all(ref() is None for ref in spy.entered), "released: a context left yet is alive"
