"""The contract survives the code under test: crashes, hangs, dying threads, slow calls,
bad factories and over-releases are verdicts, never the harness's death."""

from __future__ import annotations

import ctypes
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from refimpl import ContextStore, PluginContextBase
from refimpl.contract import (
    PROPERTIES,
    ContractViolation,
    _probe,
    check_store,
    run_contract,
)
from refimpl.contract._evidence import CONTRACT_DIR
from refimpl.contract._isolated import CLOSE_LINE
from refimpl.contract._messages import Ok, Run
from refimpl.contract._names import NAMES
from refimpl.contract._supervisor import (
    Died,
    Worker,
    hang_site,
    innermost_frames,
)
from refimpl.contract._worker import CLOSING, DAMAGED

ROOT = Path(__file__).resolve().parents[3]
FEW = settings(max_examples=10, stateful_step_count=4, derandomize=True, database=None)


SLOW_CALL = 0.01
"""Seconds each fetch of `SlowStore` sleeps."""
SLOW_LIMIT = 2.0
"""The limit it runs under: 200 times a fetch, so that a pass never depends on how busy
the machine is."""
SLOW_NAMES = 250
"""Names it runs under: each example begins by asking the store just built for every one of
them, so each example's program sleeps at least 2.5 s, longer than the limit."""


class SlowStore(ContextStore):
    """Every fetch takes `SLOW_CALL` seconds: an example's program makes hundreds, longer
    together than the limit, each far within it."""

    def get_plugin_data(self, name: str) -> PluginContextBase | None:
        time.sleep(SLOW_CALL)
        return super().get_plugin_data(name)


def test_a_slow_store_passes_when_each_call_is_within_the_limit() -> None:
    """The limit is for each call, not for a whole example (one program, one answer): every
    example here outlasts it (by construction, not by a clock), and the store passes."""
    assert SLOW_NAMES * SLOW_CALL > 1.2 * SLOW_LIMIT
    one_step = settings(FEW, max_examples=1, stateful_step_count=1)
    check_store(SlowStore, settings=one_step, timeout=SLOW_LIMIT, names=SLOW_NAMES)


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
    assert "threading.py" not in run.violation.detail  # the store's frames, not the plumbing


class ExitingStore(ContextStore):
    """Removing exits the process: a `SystemExit` the contract cannot judge."""

    def remove_plugin_data(self, name: str) -> None:
        raise SystemExit(3)


def test_an_error_the_contract_cannot_judge_shows_the_stores_frames_only() -> None:
    run = run_contract(ExitingStore, settings=FEW)
    assert run.violation is not None
    assert run.violation.property == "crash", run.violation
    detail = run.violation.detail
    assert "in remove_plugin_data\n    raise SystemExit(3)\nSystemExit: 3" in detail, detail
    assert CONTRACT_DIR not in detail  # the harness (this test file has its path, not its dir)
    assert "hypothesis" not in detail


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
    assert time.monotonic() - started < 30  # it gave up, long before the child's 60 s


def test_the_probe_keeps_its_worker_stamped_alive_while_its_child_works(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The child answers only once it has seen the probe stamp the worker alive three times
    while it waited (each stamp writes a byte it reads): no clock decides the outcome."""
    monkeypatch.setattr(_probe, "LIMIT_SECONDS", 60.0)  # never met: the child answers first
    stamped, stamp = os.pipe()
    stamps: list[float] = []

    def waiting() -> None:
        stamps.append(1.0)
        os.write(stamp, b".")

    def call() -> None:
        for _ in range(3):
            os.read(stamped, 1)

    try:
        assert _probe.probe(call, waiting=waiting) == "returned None"
    finally:
        os.close(stamped)
        os.close(stamp)
    assert len(stamps) >= 3  # the supervisor's limit is for the store's calls, not this wait


_ORPHANED_PROBE = """
import os, sys, time
from refimpl.contract._probe import probe
def call():
    with open(sys.argv[1] + ".part", "w") as file:
        file.write(str(os.getpid()))
    os.rename(sys.argv[1] + ".part", sys.argv[1])
    time.sleep(60)
probe(call)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is dead
    except FileNotFoundError:
        return False


def test_a_probe_child_ends_with_its_parent_never_holding_the_users_pipe(
    tmp_path: Path,
) -> None:
    """A worker killed while its probe's child hangs (its supervisor judged it hung) must
    take the child along: an orphan would keep `... | grep` waiting."""
    written = tmp_path / "child.pid"
    parent = subprocess.Popen([sys.executable, "-c", _ORPHANED_PROBE, str(written)], cwd=ROOT)
    deadline = time.monotonic() + 30
    while not written.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    parent.kill()
    parent.wait()
    child = int(written.read_text())
    deadline = time.monotonic() + 30  # it dies at once; a minute would be the orphan's own
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _alive(child), "the probe's child outlived its parent"


class DataOverReleaseStore(ContextStore):
    """Releases a replaced context's data once too often, as C code counting references by
    hand might: the data dies while its context, which holds it, still lives."""

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        old = self.get_plugin_data(name)
        super().set_plugin_data(name, data)
        if old is not None:
            ctypes.pythonapi.Py_DecRef(ctypes.py_object(old.data))  # type: ignore[attr-defined]


@pytest.mark.slow
def test_data_freed_under_its_living_context_is_released_at_the_step_that_freed_it() -> None:
    """Seen as it happens, not as a crash examples later in a damaged worker."""
    violation = run_contract(DataOverReleaseStore, settings=FEW).violation
    assert violation is not None
    assert violation.property == "released", violation
    assert re.match(
        r"freed while still referenced: the data of the CounterContext of plugin '\w+'",
        violation.detail,
    ), violation.detail
    assert "in DataOverReleaseStore.set_plugin_data" in violation.detail
    assert len(violation.rule_steps) <= 2  # stored, then stored over (or both at once)


def test_a_search_that_does_not_judge_released_ends_an_example_at_its_over_release() -> None:
    """After its first violation the search judges only earlier properties (see
    `refimpl.contract._search.verdict`): an over-release it does not judge still ends the
    example, and the worker, whose memory the store damaged, serves no other program, so no
    later crash of that damage is blamed on the store as a `crash`."""
    stored = {"state": "counter", "seed": 0, "keep": False}
    program = [("store", {"name": "a", **stored}), ("store", {"name": "a", **stored})]
    program += [("store", {"name": name, **stored}) for name in "bcdefgh"]
    earlier = PROPERTIES[: PROPERTIES.index("released")]
    worker = Worker(DataOverReleaseStore, mode="store", setup_line="", timeout=None, names=NAMES)
    try:
        assert worker.ask(Run(program, earlier, True)) == Ok()
        assert worker.progress.value == CLOSING - 2  # it ended at step 2, of 9
        assert worker.process is not None
        worker.process.join(5.0)
        assert worker.process.exitcode == DAMAGED
        restarts = worker.restarts
        with pytest.raises(Died):  # the next program finds it gone: the supervisor retries
            worker.ask(Run(program[:1], earlier, True))
        assert worker.ask(Run(program[:1], earlier, True)) == Ok()  # on a fresh worker
        assert worker.restarts == restarts + 1
    finally:
        worker.close()


class CrashesInAWornWorker(ContextStore):
    """Ends its process when the fourth store of that process is built: never in a fresh
    worker's first program of one step (the factory check builds a store, the program at
    most two: its own and a second one)."""

    built = 0

    def __init__(self) -> None:
        super().__init__()
        type(self).built += 1
        if type(self).built == 4:
            os._exit(3)


def test_a_crash_that_steps_do_not_cause_on_a_fresh_worker_is_no_verdict_on_them() -> None:
    """A verdict is what a program does on a fresh worker: a death that only a worker worn
    by earlier programs shows is not blamed on steps that replay clean."""
    one_step = settings(FEW, max_examples=4, stateful_step_count=1)
    assert run_contract(CrashesInAWornWorker, settings=one_step).violation is None


class FetchSegfaultStore(ContextStore):
    """Built fine; follows a null pointer on its first fetch, which the contract makes as
    it checks that the new store starts empty."""

    def get_plugin_data(self, name: str) -> Any:
        ctypes.string_at(0)


def test_a_crash_in_the_fresh_store_check_is_not_blamed_on_the_factory_alone() -> None:
    violation = run_contract(FetchSegfaultStore, settings=FEW).violation
    assert violation is not None
    assert violation.property == "crash", violation
    assert "during the factory call, or the check after it that a new store starts empty" in (
        violation.detail
    )
    assert "in get_plugin_data" in violation.detail, violation.detail


class CloseSegfaultStore(ContextStore):
    """Follows a null pointer in `close()`, once anything was stored."""

    def close(self) -> None:
        if self._contexts:
            ctypes.string_at(0)


def test_a_store_that_crashes_as_it_is_closed_tells_a_story_ending_in_the_close() -> None:
    violation = run_contract(lambda: CloseSegfaultStore(), settings=FEW).violation  # forked
    assert violation is not None
    assert violation.property == "crash", violation
    assert violation.steps[-1] == CLOSE_LINE
    assert "during the store's close(), after step " in violation.detail
    given = "from tests.refimpl.contract.test_isolation import CloseSegfaultStore as factory"
    replayed = subprocess.run(
        [sys.executable, "-c", "\n".join([given, *violation.steps])], cwd=ROOT,
        capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert replayed.returncode == -signal.SIGSEGV, replayed.stderr[-2000:]


class HelperThenSegfaultStore(ContextStore):
    """Starts a helper process (as a `multiprocessing.Manager` would), which inherits the
    worker's end of its pipe, then follows a null pointer when a context is removed. The
    helper holds the pipe until `release` (a pipe's two ends, made by the test before any
    worker is forked) is closed by the test, long after the limit: a supervisor that only
    watched the pipe would judge the worker hung."""

    release: tuple[int, int] = (-1, -1)

    def __init__(self) -> None:
        super().__init__()
        if os.fork() == 0:  # the helper: outlives the worker, holding the pipe
            held, letting_go = self.release
            os.close(letting_go)  # its own copy: the end comes when the test closes its own
            select.select([held], [], [], 120)
            os._exit(0)

    def remove_plugin_data(self, name: str) -> None:
        super().remove_plugin_data(name)
        ctypes.string_at(0)


@pytest.mark.slow
def test_a_worker_that_dies_while_its_helper_holds_the_pipe_is_seen_dead_not_hung(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = os.pipe()
    monkeypatch.setattr(HelperThenSegfaultStore, "release", release)
    try:  # a lambda: each worker is forked from this process, and so has `release`
        run = run_contract(lambda: HelperThenSegfaultStore(), settings=FEW, timeout=10)
    finally:
        for end in release:
            os.close(end)  # every helper, blocked on it, now ends
    assert run.violation is not None
    assert run.violation.property == "crash", run.violation
    assert "killed by signal 11 (SIGSEGV)" in run.violation.detail
    assert "no answer within" not in run.violation.detail  # seen dead, not judged hung


HANG_LIMIT = 2.0
"""The limit of the tests of a store that really hangs: waited out once, at its first hang,
and room enough for every call that does not hang, however busy the machine."""


class SignalTakingHangingStore(ContextStore):
    """Takes SIGUSR1 back to its default (as a server may, for itself), and hangs in a
    fetch once anything was stored."""

    def __init__(self) -> None:
        super().__init__()
        signal.signal(signal.SIGUSR1, signal.SIG_DFL)

    def get_plugin_data(self, name: str) -> PluginContextBase | None:
        while self._contexts:
            time.sleep(0.01)
        return None


@pytest.mark.slow
def test_a_hang_in_a_store_that_took_sigusr1_still_shows_where_it_hung() -> None:
    run = run_contract(lambda: SignalTakingHangingStore(), settings=FEW, timeout=HANG_LIMIT)
    assert run.violation is not None
    assert run.violation.property == "crash", run.violation
    assert "no answer within" in run.violation.detail
    assert "in get_plugin_data" in run.violation.detail  # the stacks, not a killed worker


_stores_built = 0


def second_call_exits() -> ContextStore:
    """A factory that ends its process the second time it is called there."""
    global _stores_built
    _stores_built += 1
    if _stores_built == 2:
        os._exit(5)
    return ContextStore()


def test_a_factory_that_dies_on_its_second_call_gets_a_story_that_calls_it_twice() -> None:
    """The factory check is the worker's first call: a death on the program's own first
    call is tried again on a fresh worker, where only a second store shows it."""
    violation = run_contract(lambda: second_call_exits(), settings=FEW).violation
    assert violation is not None
    assert violation.property == "crash", violation
    assert "exited with status 5" in violation.detail
    assert violation.steps[-1].startswith("state.second_store()"), violation.steps
    given = "from tests.refimpl.contract.test_isolation import second_call_exits as factory"
    replayed = subprocess.run(
        [sys.executable, "-c", "\n".join([given, *violation.steps])], cwd=ROOT,
        capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert replayed.returncode == 5, replayed.stderr[-2000:]


def test_violation_accepts_crash_as_a_verdict() -> None:
    assert ContractViolation("crash", ("x",), "how").property == "crash"


class StuckOnRemoveStore(ContextStore):
    """Waits forever for a lock it already holds on every remove, and takes 0.1 s to store
    under the name `b`: slow, elsewhere, but never stuck."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        if name == "b":
            time.sleep(0.1)
        super().set_plugin_data(name, data)

    def remove_plugin_data(self, name: str) -> None:
        with self._lock:
            self._lock.acquire()


def test_after_a_hang_only_a_call_blocked_where_it_hung_is_judged_at_once() -> None:
    store = ("store", {"name": "a", "state": "counter", "seed": 0, "keep": True})
    remove = ("remove", {"name": "a"})
    slow = ("store", {"name": "b", "state": "counter", "seed": 0, "keep": True})
    # A lambda: the worker is forked from this process. The limit stays 2 s once it hung
    # (only a call blocked where it hung is judged at once), so the slow call has room on a
    # busy machine: what is judged at once is told by the words.
    worker = Worker(
        lambda: StuckOnRemoveStore(), mode="store", setup_line="", timeout=HANG_LIMIT, names=NAMES
    )
    try:
        with pytest.raises(Died) as first:
            worker.ask(Run([store, remove], PROPERTIES, True))
        assert first.value.how.startswith("no answer within 2 s"), first.value.how
        assert first.value.step == 2
        # Slow (0.1 s, past the early look) but elsewhere: waited for, and it answers.
        assert worker.ask(Run([slow], PROPERTIES, True)) == Ok()
        with pytest.raises(Died) as again:
            worker.ask(Run([store, remove], PROPERTIES, True))
        assert again.value.how.startswith(
            "the call hung: blocked where an earlier call had given no answer within 2 s, so "
            "judged hung after "
        ), again.value.how
        assert again.value.step == 2
        assert "in remove_plugin_data" in again.value.dump
    finally:
        worker.close()


def test_a_hang_site_is_the_code_under_test_frames_of_the_main_thread() -> None:
    look_alike = "/work/x/refimpl/contract"
    dump = (
        "Thread 0x00007f01 (most recent call first):\n"
        '  File "/usr/lib/python3.11/threading.py", line 320 in wait\n'
        '  File "/home/u/store.py", line 9 in flush\n'
        "\n"
        "Current thread 0x00007f02 (most recent call first):\n"
        '  File "/usr/lib/python3.11/threading.py", line 320 in wait\n'
        '  File "/home/u/store.py", line 40 in remove_plugin_data\n'
        f'  File "{CONTRACT_DIR}/_machine.py", line 629 in _remove\n'
        f'  File "{CONTRACT_DIR}/_worker.py", line 97 in serve\n'
    )
    assert hang_site(dump) == (
        'File "/usr/lib/python3.11/threading.py", line 320 in wait',
        'File "/home/u/store.py", line 40 in remove_plugin_data',
    )
    in_the_contract = f'  File "{CONTRACT_DIR}/_worker.py", line 97 in serve\n'
    assert hang_site(in_the_contract) == ()
    assert hang_site(dump.replace(" in serve", " in elsewhere")) == ()
    # A directory of the same name elsewhere is not the contract's.
    assert hang_site(dump.replace(CONTRACT_DIR, look_alike))[-1].endswith(" in serve")


def test_a_dump_shows_the_code_under_tests_frames_not_the_harnesss() -> None:
    contract = f'  File "{CONTRACT_DIR}/_worker.py", line 97 in serve\n'
    store = '  File "/work/store.py", line 4 in remove\n'
    start = '  File "<string>", line 1 in <module>\n'
    dump = (
        f"Thread 0x1 (most recent call first):\n{contract}\n"  # the lifeline: harness only
        f"Thread 0x2 (most recent call first):\n{store}{contract}\n"
        f"Current thread 0x3 (most recent call first):\n{store}{contract}{start}"
    )
    shown = innermost_frames(dump)
    assert "Thread 0x1" not in shown
    assert shown.count("/work/store.py") == 2
    assert CONTRACT_DIR not in shown
    assert "<string>" not in shown
    only_harness = innermost_frames(f"Current thread 0x3 (most recent call first):\n{contract}")
    assert only_harness.splitlines() == [
        "Current thread 0x3 (most recent call first):",
        "  (only the harness's frames)",
    ]


def test_a_dump_keeps_each_threads_innermost_frames() -> None:
    frames = "".join(f'  File "/m.py", line {n} in f{n}\n' for n in range(1, 31))
    dump = f"Thread 0x1 (most recent call first):\n{frames}\nCurrent thread 0x2:\n{frames}"
    shown = innermost_frames(dump, keep=3)
    assert shown.count("line 1 in f1") == 2
    assert shown.count("line 3 in f3") == 2
    assert "line 4 in f4" not in shown
    assert shown.count("  ... 27 outer frames") == 2
    assert innermost_frames(frames, keep=30) == frames.strip()


def test_a_folder_given_as_the_database_is_refused_before_any_example_runs() -> None:
    """A path is what `pytest --store-database` takes; from Python it must be a database
    (else the run would only warn that it saved nothing, after the whole search)."""
    with pytest.raises(
        TypeError, match=r"DirectoryBasedExampleDatabase\(path\)\), got 'contract-db'"
    ):
        check_store(ContextStore, database="contract-db")  # type: ignore[arg-type]


def test_settings_that_are_not_hypothesis_settings_are_refused_by_name() -> None:
    with pytest.raises(
        TypeError, match=r"settings must be hypothesis.settings\(...\) or None, got 5"
    ):
        check_store(ContextStore, settings=5)  # type: ignore[arg-type]
