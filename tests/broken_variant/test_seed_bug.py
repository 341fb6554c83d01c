"""The broken variant reproduces the seed's bug: dangling pointers, reuse, double free."""

from __future__ import annotations

import os
import threading
import weakref
from typing import Any

import pytest

from broken_variant import (
    BrokenHost,
    DoubleFree,
    MemorySafetyViolation,
    SimulatedHeap,
    UncheckedPluginAPI,
    UntrackedStore,
    UseAfterFree,
    WildPointer,
    reuse_address,
)
from broken_variant._report import StackFrame, capture_stack
from refimpl import ContextTypeError, PluginAPI, PluginContext, PluginModule
from refimpl.plugins import bundled_plugins
from refimpl.plugins.frame_log import FrameLog
from refimpl.plugins.simple_counter import CounterState
from refimpl.support.collector import gc_collect
from refimpl.support.frames import CONTRACT_DIR


def store_and_drop(store: UntrackedStore, name: str) -> weakref.ref[object]:
    """Store a new counter context under `name`, keeping no outside reference to it."""
    context = PluginContext[CounterState](name, CounterState(count=7))
    store.set_plugin_data(name, context)
    return weakref.ref(context)


def test_untracked_store_loses_the_context_and_reports_use_after_free() -> None:
    store = UntrackedStore()
    alive = store_and_drop(store, "simple_counter")
    gc_collect()
    assert alive() is None, "the untracked store should not keep the context alive"
    with pytest.raises(UseAfterFree) as caught:
        store.get_plugin_data("simple_counter")
    report = caught.value.report
    assert report.kind == "heap-use-after-free"
    assert report.address == store.address_of("simple_counter")
    assert "PluginContext[CounterState] of plugin 'simple_counter'" in report.accessed
    assert report.access[0].function == "get_plugin_data"
    # Freed when store_and_drop returned: the last reference died with its frame, so the
    # free is seen from the caller's line.
    assert (
        report.freed[0].function
        == test_untracked_store_loses_the_context_and_reports_use_after_free.__name__
    )
    assert [frame.function for frame in report.allocated[:2]] == [
        "set_plugin_data",
        "store_and_drop",
    ]
    text = str(caught.value)
    assert "ERROR: SimulatedHeap: heap-use-after-free on address" in text
    assert "freed here:" in text
    assert "previously allocated here:" in text
    assert "tests/broken_variant/test_seed_bug.py:" in text


def test_use_after_free_is_a_memory_safety_violation_and_fatal() -> None:
    assert issubclass(UseAfterFree, MemorySafetyViolation)
    assert issubclass(DoubleFree, MemorySafetyViolation)
    assert UseAfterFree.fatal is True


def reuse_address_for_other_plugin(store: UntrackedStore) -> PluginContext[FrameLog]:
    """Free the counter's context, then allocate log contexts until CPython places one at the
    address just freed, and store that one for the log plugin."""
    state = FrameLog()  # built first and once: only contexts may compete for the freed block
    store_and_drop(store, "simple_counter")
    address = store.address_of("simple_counter")
    assert address is not None
    other = reuse_address(address, lambda: PluginContext[FrameLog]("frame_log", state))
    store.set_plugin_data("frame_log", other)
    return other


def test_address_reuse_hands_one_plugin_another_plugins_context() -> None:
    store = UntrackedStore()
    other = reuse_address_for_other_plugin(store)
    assert store.get_plugin_data("simple_counter") is other
    confused = UncheckedPluginAPI(store).get_context("simple_counter", CounterState)
    # The unchecked cast: a FrameLog context posing as a counter's.
    assert confused is other  # type: ignore[comparison-overlap]
    with pytest.raises(AttributeError, match="'FrameLog' object has no attribute 'count'"):
        confused.data.count += 1


def test_checked_downcast_stops_the_type_confusion() -> None:
    store = UntrackedStore()
    other = reuse_address_for_other_plugin(store)
    with pytest.raises(ContextTypeError, match=r"stores PluginContext\[FrameLog\]"):
        PluginAPI(store).get_context("simple_counter", CounterState)
    assert store.get_plugin_data("frame_log") is other


def test_sanitize_mode_reports_the_reused_address_instead() -> None:
    store = UntrackedStore(SimulatedHeap(sanitize=True))
    other = reuse_address_for_other_plugin(store)
    with pytest.raises(UseAfterFree) as caught:
        store.get_plugin_data("simple_counter")
    report = caught.value.report
    assert report.address == id(other)
    assert "PluginContext[CounterState] of plugin 'simple_counter'" in report.accessed
    assert report.freed[0].function == reuse_address_for_other_plugin.__name__
    assert "now holds a PluginContext[FrameLog] of plugin 'frame_log'" in report.note
    assert store.get_plugin_data("frame_log") is other


def test_explicit_free_of_a_freed_address_is_a_double_free() -> None:
    heap = SimulatedHeap()
    address = heap.alloc(PluginContext[int]("a", 1))  # freed at once by CPython
    with pytest.raises(DoubleFree) as caught:
        heap.free(address)
    assert caught.value.report.kind == "double-free"
    assert "attempting double-free on" in str(caught.value)


def test_a_live_object_freed_explicitly_is_then_dangling() -> None:
    heap = SimulatedHeap()
    context = PluginContext[int]("a", 1)
    address = heap.alloc(context)
    assert heap.deref(address) is context
    heap.free(address)
    with pytest.raises(UseAfterFree):
        heap.deref(address)
    with pytest.raises(DoubleFree):
        heap.free(address)


def test_an_address_never_allocated_is_a_wild_pointer() -> None:
    with pytest.raises(WildPointer, match="SEGV on unknown address"):
        SimulatedHeap().deref(0xDEAD)


def test_heap_refuses_objects_without_weakref_support() -> None:
    with pytest.raises(TypeError, match="support weakrefs, got int"):
        SimulatedHeap().alloc(12345)


def make_broken_host(sanitize: bool = False) -> BrokenHost:
    host = BrokenHost(sanitize=sanitize)
    for module in bundled_plugins():
        host.register_plugin(module)
    return host


@pytest.mark.parametrize("sanitize", [False, True], ids=["plain", "sanitize"])
def test_broken_host_crashes_on_the_first_frame_with_use_after_free(sanitize: bool) -> None:
    host = make_broken_host(sanitize)
    with pytest.raises(UseAfterFree) as caught:
        host.run(frames=120)
    assert host.frame_count == 1
    assert "Frame: 120" not in host.screen_text()
    functions = [frame.function for frame in caught.value.report.access]
    assert "update" in functions, "the access should be traced to the plugin's update"


def test_broken_host_shutdown_frees_what_cpython_already_freed() -> None:
    host = make_broken_host()
    with pytest.raises(DoubleFree) as caught:
        host.shutdown()
    report = caught.value.report
    assert report.access[0].function == "_release_contexts"
    assert report.freed[0].function == "init"  # CPython freed it when init returned


def test_broken_host_runs_the_same_plugin_code_as_the_fixed_one() -> None:
    fixed, broken = bundled_plugins(), make_broken_host()
    assert broken.plugin_names == [module.name for module in fixed]


def _harness_driver() -> Any:
    """A function compiled as if it were the contract's own code (a harness frame)."""
    namespace: dict[str, Any] = {}
    code = "def drive(call, out):\n    out.append(call())\n"
    exec(compile(code, os.path.join(CONTRACT_DIR, "_machine.py"), "exec"), namespace)
    return namespace["drive"]


def test_a_sanitizer_stack_shows_the_users_frames_not_the_harnesss() -> None:
    """Under the contract a report's stacks name the store's and the user's code: the
    contract's, Hypothesis's and the thread plumbing's frames are left out."""
    drive = _harness_driver()

    def users_code() -> tuple[StackFrame, ...]:
        return capture_stack()

    out: list[tuple[StackFrame, ...]] = []
    drive(users_code, out)
    shown = [frame.function for frame in out[0]]
    assert shown[:2] == [
        "users_code",
        "test_a_sanitizer_stack_shows_the_users_frames_not_the_harnesss",
    ]
    assert not any("hypothesis" in f.filename or "_pytest" in f.filename for f in out[0])
    assert "drive" not in shown


def test_a_stack_of_harness_frames_alone_keeps_its_innermost() -> None:
    """When only the harness was on the stack (the contract dropped the last reference
    itself), the report still says where: the innermost frame, the contract's own."""
    out: list[tuple[StackFrame, ...]] = []
    thread = threading.Thread(target=_harness_driver(), args=(capture_stack, out))
    thread.start()
    thread.join()
    assert [(frame.function, frame.filename) for frame in out[0]] == [
        ("drive", "refimpl/contract/_machine.py")
    ]


def test_the_broken_host_keeps_the_seeds_unscoped_api() -> None:
    seen: list[object] = []
    host = BrokenHost()
    host.register_plugin(
        PluginModule(
            name="peeker", init=lambda api: seen.append(type(api).__name__ + ":" + str(api.owner))
        )
    )
    assert seen == ["UncheckedPluginAPI:None"]
