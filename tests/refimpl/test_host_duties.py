"""The host always finishes its duties: whatever a plugin raises, `BaseException` included,
every other plugin's shutdown runs, every context a plugin stored (under its own name or a
granted one) is released exactly once, and every API handed out is closed for good."""

from __future__ import annotations

import asyncio
import random
import threading
import weakref
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

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
from refimpl.plugins import frame_log, simple_counter
from refimpl.plugins.frame_log import FrameLog
from refimpl.plugins.simple_counter import CounterState
from refimpl.support.collector import gc_collect

STATE_TYPES: tuple[type, ...] = (CounterState, FrameLog)
PHASES = ("init", "update", "render", "handle_event", "shutdown")
PROCESS_EXITS = (KeyboardInterrupt, SystemExit)
CONTAINED = (RuntimeError, GeneratorExit, asyncio.CancelledError)


class SpyStore(ContextStore):
    """The fixed store, counting every call that removes a name."""

    def __init__(self) -> None:
        super().__init__()
        self.releases: Counter[str] = Counter()

    def remove_plugin_data(self, name: str) -> None:
        self.releases[name] += 1
        super().remove_plugin_data(name)


class Recorder:
    """Plugins that keep a context, remember their API and note each shutdown."""

    def __init__(self) -> None:
        self.shutdowns: list[str] = []
        self.apis: dict[str, PluginAPI] = {}

    def plugin(
        self, name: str, raising: BaseException | None = None, phase: str = ""
    ) -> PluginModule:
        def maybe_raise(here: str) -> None:
            if raising is not None and here == phase:
                raise raising

        def init(api: PluginAPI) -> None:
            self.apis[name] = api
            api.get_context(name, CounterState)
            maybe_raise("init")

        def shutdown(api: PluginAPI) -> None:
            self.shutdowns.append(name)
            maybe_raise("shutdown")

        def handle_event(api: PluginAPI, event: KeyEvent) -> bool:
            maybe_raise("handle_event")
            return False

        return PluginModule(
            name=name,
            init=init,
            update=lambda api, dt: maybe_raise("update"),
            render=lambda api: maybe_raise("render"),
            handle_event=handle_event,
            shutdown=shutdown,
        )


def drive(host: Host, recorder: Recorder, error: BaseException, phase: str) -> None:
    """Register `first`, the culprit, then `last`; run, dispatch a key, shut down."""
    host.register_plugin(recorder.plugin("first"))
    host.register_plugin(recorder.plugin("culprit", error, phase))
    host.register_plugin(recorder.plugin("last"))
    host.run(frames=2)
    host.dispatch_event(KeyEvent("x"))
    host.shutdown()


def assert_duties_done(host: Host, store: SpyStore, recorder: Recorder) -> None:
    registered = host.plugin_names
    assert store.names() == [], f"contexts left after shutdown: {store.names()}"
    assert store.releases == Counter(registered), "each context released exactly once"
    for name, api in recorder.apis.items():
        with pytest.raises(RuntimeError, match="is closed: its host is shut down"):
            api.get_context(name, CounterState)
    assert store.names() == [], "a closed API re-created its context"


@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize(
    "error",
    [RuntimeError("boom"), GeneratorExit(), asyncio.CancelledError()],
    ids=["RuntimeError", "GeneratorExit", "CancelledError"],
)
def test_a_contained_error_in_any_phase_leaves_every_duty_done(
    error: BaseException, phase: str
) -> None:
    store, recorder = SpyStore(), Recorder()
    host = Host(store)
    drive(host, recorder, error, phase)
    [failure] = host.failures
    assert (failure.plugin, failure.phase, failure.error) == ("culprit", phase, error)
    assert type(error).__name__ in failure.traceback
    # the culprit, disabled before shutdown unless it failed there, is not asked again
    expected = ["first", "culprit", "last"] if phase == "shutdown" else ["first", "last"]
    assert recorder.shutdowns == expected
    assert_duties_done(host, store, recorder)


@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("exit_type", PROCESS_EXITS)
def test_ctrl_c_or_exit_in_any_phase_is_raised_on_after_every_duty(
    exit_type: type[BaseException], phase: str
) -> None:
    store, recorder = SpyStore(), Recorder()
    host = Host(store)
    error = exit_type()
    with pytest.raises(exit_type):
        drive(host, recorder, error, phase)
    [failure] = host.failures
    assert (failure.plugin, failure.phase, failure.error) == ("culprit", phase, error)
    assert exit_type.__name__ in failure.traceback
    assert host.failed_plugins() == (), "a request to exit is recorded, but disables nothing"
    registered = ["first", "culprit"] if phase == "init" else ["first", "culprit", "last"]
    assert host.plugin_names == registered
    assert recorder.shutdowns == registered, "every plugin's shutdown ran, once"
    assert_duties_done(host, store, recorder)


def test_ctrl_c_while_the_host_sleeps_shuts_every_plugin_down() -> None:
    def interrupted_sleep(seconds: float) -> None:
        raise KeyboardInterrupt

    store, recorder = SpyStore(), Recorder()
    host = Host(store, sleep=interrupted_sleep, clock=lambda: 0.0)
    host.register_plugin(recorder.plugin("first"))
    host.register_plugin(recorder.plugin("last"))
    with pytest.raises(KeyboardInterrupt):
        host.run(seconds=10)
    assert recorder.shutdowns == ["first", "last"]
    assert_duties_done(host, store, recorder)


WRITES = ("set_context", "get_context", "set_plugin_data")


def write(api: PluginAPI, name: str, how: str) -> None:
    if how == "set_context":
        api.set_context(name, CounterState())
    elif how == "get_context":
        api.get_context(name, CounterState)
    else:
        api.set_plugin_data(name, PluginContext[CounterState](name, CounterState()))


@example(writes=[("a", "ghost", "set_context")])  # a granted name no plugin is registered as
@given(
    writes=st.lists(
        st.tuples(
            st.sampled_from(["a", "b"]),
            st.sampled_from(["a", "b", "ghost", "spare"]),
            st.sampled_from(WRITES),
        ),
        max_size=8,
    )
)
def test_every_context_a_plugin_stored_is_released_once_granted_names_too(
    writes: list[tuple[str, str, str]],
) -> None:
    store = SpyStore()
    host = Host(store)
    for plugin in ("a", "b"):
        mine = [(name, how) for who, name, how in writes if who == plugin]

        def init(api: PluginAPI, mine: list[tuple[str, str]] = mine) -> None:
            for name, how in mine:
                write(api, name, how)

        granted = [name for name in ("a", "b", "ghost", "spare") if name != plugin]
        host.register_plugin(PluginModule(name=plugin, init=init), may_write=granted)
    assert host.failures == []
    host.shutdown()
    host.shutdown()
    assert store.names() == [], f"contexts left after shutdown: {store.names()}"
    written = {"a", "b"} | {name for _, name, _ in writes}
    assert store.releases == Counter(written), "each context released exactly once"


def test_a_granted_name_no_plugin_wrote_is_left_as_it_was() -> None:
    store = SpyStore()
    theirs = PluginContext[int]("theirs", 1)
    store.set_plugin_data("theirs", theirs)  # stored by someone else than the host's plugins
    host = Host(store)
    host.register_plugin(PluginModule(name="mine"), may_write=["theirs"])
    host.shutdown()
    assert store.get_plugin_data("theirs") is theirs
    assert store.releases == Counter({"mine": 1})


def test_the_first_exit_request_of_several_shutdowns_is_raised_after_all_of_them() -> None:
    store, recorder = SpyStore(), Recorder()
    host = Host(store)
    host.register_plugin(recorder.plugin("first", SystemExit(3), "shutdown"))
    host.register_plugin(recorder.plugin("last", KeyboardInterrupt(), "shutdown"))
    with pytest.raises(SystemExit) as caught:
        host.shutdown()
    assert caught.value.code == 3
    assert recorder.shutdowns == ["first", "last"]
    assert_duties_done(host, store, recorder)


class InterruptedWhileAsked(PluginModule):
    """Ctrl-C lands in the host's own code, as it reads this plugin's `shutdown`."""

    armed = False

    def __getattribute__(self, name: str) -> Any:
        if name == "shutdown" and type(self).armed:
            raise KeyboardInterrupt
        return super().__getattribute__(name)


def test_ctrl_c_in_the_hosts_own_code_during_shutdown_still_releases_everything() -> None:
    store, recorder = SpyStore(), Recorder()
    host = Host(store)
    host.register_plugin(recorder.plugin("first"))
    host.register_plugin(InterruptedWhileAsked(name="sly"))
    InterruptedWhileAsked.armed = True
    try:
        with pytest.raises(KeyboardInterrupt):
            host.shutdown()
    finally:
        InterruptedWhileAsked.armed = False
    assert recorder.shutdowns == ["first"]
    assert_duties_done(host, store, recorder)


class InterruptedOnceStore(SpyStore):
    """Ctrl-C lands in the first removal of `victim`, before anything is removed."""

    def __init__(self, victim: str) -> None:
        super().__init__()
        self.victim: str | None = victim

    def remove_plugin_data(self, name: str) -> None:
        if name == self.victim:
            self.victim = None
            raise KeyboardInterrupt
        super().remove_plugin_data(name)


def test_a_second_shutdown_after_an_interrupted_one_releases_what_is_left_once() -> None:
    store, recorder = InterruptedOnceStore("first"), Recorder()
    host = Host(store)
    host.register_plugin(recorder.plugin("first"))
    host.register_plugin(recorder.plugin("last"))
    with pytest.raises(KeyboardInterrupt):
        host.shutdown()
    assert store.names() == ["first"], "the other contexts were released all the same"
    host.shutdown()
    assert recorder.shutdowns == ["first", "last"], "no shutdown callback ran twice"
    assert_duties_done(host, store, recorder)


def test_after_shutdown_the_host_refuses_to_run_register_or_dispatch() -> None:
    host = Host()
    host.shutdown()
    calls: list[Callable[[], object]] = [
        lambda: host.run(frames=1),
        lambda: host.register_plugin(PluginModule(name="late")),
        lambda: host.dispatch_event(KeyEvent("r")),
    ]
    for call in calls:
        with pytest.raises(RuntimeError, match="the host is shut down"):
            call()


# -- an API kept past shutdown -------------------------------------------------------------


def test_an_api_kept_by_a_thread_cannot_recreate_its_context_after_shutdown() -> None:
    kept: list[PluginAPI] = []
    outcome: list[BaseException | PluginContextBase] = []
    go = threading.Event()

    def later() -> None:
        go.wait(timeout=10)
        try:
            outcome.append(kept[0].get_context("worker", CounterState))
        except RuntimeError as error:
            outcome.append(error)

    def init(api: PluginAPI) -> None:
        kept.append(api)
        api.get_context("worker", CounterState)

    store = SpyStore()
    host = Host(store)
    host.register_plugin(PluginModule(name="worker", init=init))
    thread = threading.Thread(target=later)
    thread.start()
    host.shutdown()
    go.set()
    thread.join(timeout=10)
    [refused] = outcome
    assert isinstance(refused, RuntimeError), f"the kept API answered {refused!r}"
    assert store.names() == [], "the kept API re-created its context"


class PausingStore(ContextStore):
    """Holds a lazy default back until told to go: a call under way while the host shuts down."""

    def __init__(self) -> None:
        super().__init__()
        self.reached, self.go = threading.Event(), threading.Event()

    def setdefault_plugin_data(self, name: str, data: PluginContextBase) -> PluginContextBase:
        self.reached.set()
        self.go.wait(timeout=10)
        return super().setdefault_plugin_data(name, data)


def test_a_call_under_way_at_shutdown_takes_back_what_it_stored() -> None:
    store = PausingStore()
    host = Host(store)
    kept: list[PluginAPI] = []
    host.register_plugin(PluginModule(name="worker", init=kept.append))
    outcome: list[Any] = []

    def fetch() -> None:
        try:
            outcome.append(kept[0].get_context("worker", CounterState))
        except RuntimeError as error:
            outcome.append(error)

    thread = threading.Thread(target=fetch)
    thread.start()
    assert store.reached.wait(timeout=10), "the call never reached the store"
    host.shutdown()  # the call is inside the store, past every check
    store.go.set()
    thread.join(timeout=10)
    [refused] = outcome
    assert isinstance(refused, RuntimeError), f"the kept API answered {refused!r}"
    assert store.names() == [], "a call under way at shutdown left its context stored"


# -- a faulty plugin is contained ----------------------------------------------------------


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


# -- each context released exactly once ----------------------------------------------------


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
