"""Host: the seed's lifecycle, a frame loop, a layered screen, contained plugin errors."""

from __future__ import annotations

import weakref

import pytest

from refimpl import ContextStore, Host, KeyEvent, PluginAPI, PluginModule
from refimpl.plugins import bundled_plugins, frame_log, simple_counter
from refimpl.support.collector import gc_collect


def make_host() -> Host:
    host = Host()
    for module in bundled_plugins():
        host.register_plugin(module)
    return host


def test_after_120_frames_the_screen_shows_frame_120() -> None:
    host = make_host()
    summary = host.run(frames=120)
    assert summary.frames == host.frame_count == 120
    assert host.screen_text().splitlines()[0] == "Frame: 120"
    assert "Log: 120 lines" in host.screen_text()


def test_pressing_r_resets_the_counter_and_is_handled() -> None:
    host = make_host()
    host.run(frames=60)
    assert host.dispatch_event(KeyEvent("r")) is True
    host.run(frames=5)
    assert host.screen_text().splitlines()[0] == "Frame: 5"


def test_other_keys_are_not_handled() -> None:
    host = make_host()
    assert host.dispatch_event(KeyEvent("x")) is False


def test_run_for_seconds_is_paced_at_fps() -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    host = Host(fps=10, clock=lambda: now[0], sleep=sleep)
    host.register_plugin(simple_counter.make_plugin())
    summary = host.run(seconds=2)
    assert summary.frames == 20
    assert host.screen_text() == "Frame: 20"


@pytest.mark.parametrize(
    ("frames", "seconds"), [(None, None), (-1, None), (None, -0.5), (1.5, None), (True, None)]
)
def test_run_refuses_bad_limits(frames: object, seconds: object) -> None:
    host = make_host()
    with pytest.raises(ValueError, match=r"frames|seconds"):
        host.run(frames=frames, seconds=seconds)  # type: ignore[arg-type]
    assert host.frame_count == 0


def test_a_plugin_that_raises_is_disabled_and_the_others_run_on() -> None:
    def explode(api: PluginAPI, dt: float) -> None:
        raise RuntimeError("boom")

    host = make_host()
    host.register_plugin(PluginModule(name="faulty", update=explode))
    summary = host.run(frames=10)
    assert summary.failed == ("faulty",)
    [failure] = host.failures
    assert (failure.plugin, failure.phase, str(failure.error)) == ("faulty", "update", "boom")
    assert "RuntimeError: boom" in failure.traceback
    assert host.screen_text().splitlines()[0] == "Frame: 10"


def test_registering_a_name_twice_raises_and_changes_nothing() -> None:
    host = make_host()
    context_before = host.store.get_plugin_data("simple_counter")
    with pytest.raises(ValueError, match="plugin 'simple_counter' is already registered"):
        host.register_plugin(simple_counter.make_plugin())
    assert host.plugin_names == ["simple_counter", "frame_log"]
    assert host.store.get_plugin_data("simple_counter") is context_before


def test_registering_something_that_is_not_a_plugin_raises() -> None:
    with pytest.raises(TypeError, match="needs a PluginModule, got str"):
        Host().register_plugin("simple_counter")  # type: ignore[arg-type]


def test_shutdown_releases_every_context_once() -> None:
    store = ContextStore()
    host = Host(store)
    for module in bundled_plugins():
        host.register_plugin(module)
    host.run(frames=3)
    contexts = [weakref.ref(store.get_plugin_data(name)) for name in host.plugin_names]
    host.shutdown()
    host.shutdown()  # idempotent
    gc_collect()
    assert store.names() == []
    assert [ref() for ref in contexts] == [None, None]


def test_each_plugin_reaches_only_its_own_context_by_default() -> None:
    def peek(api: PluginAPI) -> None:
        api.get_plugin_data(simple_counter.DEFAULT_NAME)

    host = make_host()
    host.register_plugin(PluginModule(name="peeker", init=peek))
    [failure] = host.failures
    assert isinstance(failure.error, PermissionError)
    assert "plugin 'peeker' may not read the context of plugin 'simple_counter'" in str(
        failure.error
    )


def test_a_plugin_granted_read_access_can_read_another_context() -> None:
    seen: list[object] = []
    host = make_host()
    host.register_plugin(
        PluginModule(name="reader", init=lambda api: seen.append(api.get_plugin_data("frame_log"))),
        may_read=["frame_log"],
    )
    assert host.failures == []
    assert seen == [host.store.get_plugin_data(frame_log.DEFAULT_NAME)]
