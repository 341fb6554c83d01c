"""The contract survives the code under test: crashes, hangs, dying threads, slow calls,
bad factories and over-releases are verdicts, never the harness's death."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from hypothesis import settings

from refimpl import ContextStore, PluginContextBase
from refimpl.contract import ContractViolation, _probe, check_store, run_contract

FEW = settings(max_examples=10, stateful_step_count=4, derandomize=True, database=None)


class SlowStore(ContextStore):
    """Every fetch takes 0.04 s: a step's checks make several, longer together than the
    0.1 s limit, each well within it."""

    def get_plugin_data(self, name: str) -> PluginContextBase | None:
        time.sleep(0.04)
        return super().get_plugin_data(name)


def test_a_slow_store_passes_when_each_call_is_within_the_limit() -> None:
    check_store(SlowStore, settings=settings(FEW, max_examples=3), timeout=0.1)


class ThreadDyingStore(ContextStore):
    """Hands each store to a helper thread that dies of an uncaught error."""

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        super().set_plugin_data(name, data)
        helper = threading.Thread(target=lambda: 1 / 0, name="flusher")
        helper.start()
        helper.join()


def test_a_thread_of_the_store_dying_is_a_crash_naming_the_thread() -> None:
    run = run_contract(lambda: ThreadDyingStore(), settings=FEW)  # a lambda: forked worker
    assert run.violation is not None
    assert run.violation.property == "crash", run.violation
    assert "thread 'flusher' died of an uncaught error" in run.violation.detail
    assert "ZeroDivisionError" in run.violation.detail


@pytest.mark.parametrize(
    ("factory", "problem"),
    [
        (
            lambda: None,
            r"the factory returned None, which is neither a store \(it has no set_plugin_data",
        ),
        (lambda: int("x"), "the factory raised ValueError"),
        (lambda: object(), r"the factory returned an object, which is neither a store \(it has no"),
    ],
)
def test_a_factory_that_builds_no_store_is_refused_before_any_example(
    factory: Any, problem: str
) -> None:
    with pytest.raises(TypeError, match=problem):
        check_store(factory, settings=FEW)


@pytest.mark.parametrize("timeout", [0, -1.0, float("nan")])
def test_a_timeout_that_is_not_positive_is_refused(timeout: float) -> None:
    with pytest.raises(ValueError, match="timeout must be a positive number of seconds"):
        check_store(ContextStore, timeout=timeout)


def test_no_timeout_means_no_limit() -> None:
    check_store(ContextStore, settings=FEW, timeout=None)


def test_the_probe_does_not_fork_while_other_threads_are_alive() -> None:
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert _probe.probe(lambda: None).startswith("(not probed: other threads are alive")
    finally:
        release.set()
        other.join()
    assert _probe.probe(lambda: None) == "returned None"


def test_the_probe_gives_up_on_a_child_that_does_not_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_probe, "LIMIT_SECONDS", 0.2)
    started = time.monotonic()
    assert _probe.probe(lambda: time.sleep(60)) == "(not probed: no answer within 0.2 s)"
    assert time.monotonic() - started < 5


def test_violation_accepts_crash_as_a_verdict() -> None:
    assert ContractViolation("crash", ("x",), "how").property == "crash"
