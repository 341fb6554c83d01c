"""The worker judges exactly what the caller passed, as the caller configured it, and its run
leaves nothing behind: no process, no file, no change to the caller's process."""

from __future__ import annotations

import copy
import functools
import importlib.util
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import weakref
from contextlib import suppress
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import settings

from refimpl import ContextStore, PluginContextBase
from refimpl.contract import factory_spec, run_contract
from tests import configurable_store

ROOT = Path(__file__).resolve().parents[3]
FEW = settings(max_examples=30, derandomize=True, database=None, deadline=None)


def verdict(factory: Any, **options: Any) -> str:
    """The property `factory`'s stores break, or "holds"."""
    violation = run_contract(factory, settings=FEW, **options).violation
    return "holds" if violation is None else violation.property


# -- the caller's factory, as configured ---------------------------------------------------


def test_a_named_factory_builds_the_store_the_caller_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`make_store` imports back by name; the worker still sees the module as the caller
    left it, not as a fresh import would."""
    assert verdict(configurable_store.make_store) == "holds"
    monkeypatch.setattr(configurable_store, "BACKEND", weakref.WeakValueDictionary)
    assert verdict(configurable_store.make_store) == "survival"


def test_the_environment_at_the_call_is_the_one_the_worker_sees(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert verdict(configurable_store.make_store) == "holds"  # a run before the change
    monkeypatch.setenv("CONFIGURABLE_BACKEND", "weak")
    assert verdict(configurable_store.make_store) == "survival"


@pytest.mark.slow
def test_a_partial_and_a_bound_method_are_called_as_they_are() -> None:
    assert verdict(functools.partial(configurable_store.make_kind, "weak")) == "survival"
    configured = configurable_store.Configured()
    configured.kind = "weak"
    assert verdict(configured.make) == "survival"


PLUGIN_SOURCE = """
from refimpl import ContextStore


class LoadedStore(ContextStore):
    pass


class ForgetfulStore(ContextStore):
    def set_plugin_data(self, name, data):
        super().set_plugin_data(name, data)
        if name == "b":
            self.remove_plugin_data("a")
"""


@pytest.mark.slow
def test_a_store_loaded_from_a_file_is_judged_on_its_merits(tmp_path: Path) -> None:
    """As plugin loaders do: executed from a path, and registered under a name no fresh
    process can import. Its story asks for the factory by value (`replay(factory)`)."""
    path = tmp_path / "loaded_plugin.py"
    path.write_text(PLUGIN_SOURCE)
    spec = importlib.util.spec_from_file_location("loaded_plugin_23", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        assert factory_spec(module.LoadedStore) is None  # a story could not import it
        assert verdict(module.LoadedStore) == "holds"
        violation = run_contract(module.ForgetfulStore, settings=FEW).violation
        assert violation is not None
        assert violation.property == "survival", violation
        assert "state = replay(factory" in violation.steps[0], violation.steps[0]
    finally:
        del sys.modules[spec.name]


# -- a worker of its own ---------------------------------------------------------------


def run_script(
    tmp_path: Path, body: str, *, timeout: float = 120.0
) -> subprocess.CompletedProcess[str]:
    """Run `body` in a fresh Python, a session of its own (what it does to its process
    group cannot reach this test), with `tmp_path/tmp` as its temporary folder."""
    (tmp_path / "tmp").mkdir(exist_ok=True)
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp"), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(body)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout,
        start_new_session=True, check=False,
    )  # fmt: skip


def test_a_store_that_signals_its_own_process_group_cannot_reach_the_caller(
    tmp_path: Path,
) -> None:
    done = run_script(
        tmp_path,
        """
        import os, signal
        from hypothesis import settings
        from refimpl import ContextStore
        from refimpl.contract import run_contract

        class GroupKillingStore(ContextStore):
            def close(self):
                os.killpg(os.getpgrp(), signal.SIGTERM)

        few = settings(max_examples=5, derandomize=True, database=None)
        print(run_contract(lambda: GroupKillingStore(), settings=few).violation.property)
        """,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "crash"), done.stderr


def alive(pid: int) -> bool:
    """Whether process `pid` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


HELPER_STORE = """
import os, subprocess, sys
from refimpl import ContextStore


class HelperStore(ContextStore):
    # Starts a helper process as it is built; writes "its-process helper" to ./pids.
    def __init__(self):
        super().__init__()
        sleeper = [sys.executable, "-c", "import time; time.sleep(600)"]
        self.helper = subprocess.Popen(sleeper)
        with open("pids", "a") as file:
            file.write(f"{os.getpid()} {self.helper.pid}\\n")
"""
"""A store for scripts (`HELPER_STORE + rest`) that starts a helper process, a sleeping
Python, and says which processes to look for afterwards."""


def wait_until_ended(pids: list[int], within: float) -> list[int]:
    """Those of `pids` still running after at most `within` seconds."""
    deadline = time.monotonic() + within
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return [pid for pid in pids if alive(pid)]


@pytest.mark.slow
def test_helpers_a_store_starts_end_with_its_worker(tmp_path: Path) -> None:
    """A hung store's worker is killed, so its `close()` never runs: the helper process it
    started ends with the worker's process group all the same."""
    done = run_script(
        tmp_path,
        HELPER_STORE
        + """
import threading
from hypothesis import settings
from refimpl.contract import run_contract


class HangingHelperStore(HelperStore):
    def remove_plugin_data(self, name):
        threading.Event().wait()  # hangs

    def close(self):
        self.helper.kill()


few = settings(max_examples=20, derandomize=True, database=None)
print(run_contract(lambda: HangingHelperStore(), settings=few, timeout=1.0).violation.property)
""",
    )
    assert (done.returncode, done.stdout.strip()) == (0, "crash"), done.stderr
    pids = [int(pid) for pid in (tmp_path / "pids").read_text().split()]
    assert pids
    assert wait_until_ended(pids, within=5.0) == []


@pytest.mark.slow
def test_ctrl_c_in_a_terminal_stops_the_run_and_leaves_nothing_behind(tmp_path: Path) -> None:
    """A terminal sends SIGINT to its whole foreground process group: the caller stops
    (here, a script that catches it and says so), no worker prints a traceback, and
    neither a process nor a file of the run is left."""
    (tmp_path / "slow_store.py").write_text(
        textwrap.dedent(
            """
            import os, time
            from refimpl import ContextStore

            class SlowStore(ContextStore):
                def set_plugin_data(self, name, data):
                    with open("workers", "a") as file:
                        file.write(f"{os.getpid()} {os.getpgrp()}\\n")
                    time.sleep(0.05)
                    super().set_plugin_data(name, data)
            """
        )
    )
    script = textwrap.dedent(
        """
        import signal, sys
        from hypothesis import settings
        from refimpl.contract import run_contract
        from slow_store import SlowStore  # by name: a worker may import it afresh

        # Ctrl-C raising KeyboardInterrupt, as in a terminal's foreground job. A shell's
        # background job (`make test &`) ignores SIGINT, and a process inherits an ignored
        # signal: there, this script would never see the Ctrl-C, and run on.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            run_contract(SlowStore, settings=settings(max_examples=10_000, derandomize=True))
        except KeyboardInterrupt:
            print("interrupted")
            sys.exit(130)
        """
    )
    (tmp_path / "tmp").mkdir()
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp"), "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60.0
        while not (tmp_path / "workers").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert (process.returncode, out.strip()) == (130, "interrupted"), err
    assert "Traceback" not in err, err
    lines = (tmp_path / "workers").read_text().splitlines()
    workers = {int(line.split()[0]) for line in lines}
    groups = {int(line.split()[1]) for line in lines}
    assert process.pid not in groups  # the terminal's group: the signal never reached them
    assert wait_until_ended(sorted(workers), within=5.0) == []
    assert sorted(os.listdir(tmp_path / "tmp")) == []


# -- re-entrant -------------------------------------------------------------------------


@pytest.mark.slow
def test_runs_in_threads_at_once_each_get_their_verdict_and_leave_main_alone() -> None:
    main = sys.modules["__main__"]
    factories = {
        "holds": dict,
        "survival": weakref.WeakValueDictionary,
        "no-stale": lambda: _NoStaleMapping(),
    }
    found: dict[str, str] = {}
    errors: list[BaseException] = []

    def judge(expected: str) -> None:
        try:
            found[expected] = verdict(factories[expected])
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=judge, args=(name,)) for name in factories]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert found == {name: name for name in factories}
    assert sys.modules["__main__"] is main


class _NoStaleMapping(dict[str, Any]):
    """Keeps a copy of each value it is given (`[]=` only): it never answers the object stored."""

    def __setitem__(self, name: str, value: Any) -> None:
        super().__setitem__(name, copy.copy(value))


# -- evidence that sees frozen objects -------------------------------------------------


class ClassHistoryStore(ContextStore):
    """Keeps every context it is given in a list its class made when it was defined."""

    history: ClassVar[list[PluginContextBase]] = []

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        type(self).history.append(data)
        super().set_plugin_data(name, data)


def test_released_evidence_names_a_reference_made_before_the_run() -> None:
    """Every example freezes what it starts with, which the collector then hides: the
    evidence still names the class attribute that keeps the context."""
    violation = run_contract(ClassHistoryStore, settings=FEW).violation
    assert violation is not None
    assert violation.property == "released", violation
    assert "nothing the collector tracks" not in violation.detail
    assert "history" in violation.detail, violation.detail


_KEPT: list[PluginContextBase] = []
"""A module global, made when this module was imported, long before any run."""


class GlobalKeepingStore(ContextStore):
    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        _KEPT.append(data)
        super().set_plugin_data(name, data)


def test_stories_stop_at_the_worker_entry_that_the_harness_names() -> None:
    """A worker is forked from the caller: its stack goes on below `serve` with the caller's
    frames, which evidence leaves out by this name (a renamed `serve` would show them)."""
    from refimpl.contract._worker import serve
    from refimpl.support.frames import WORKER_ENTRY

    assert (os.path.abspath(serve.__code__.co_filename), serve.__name__) == WORKER_ENTRY


def test_a_caller_killed_outright_takes_its_worker_and_the_stores_helpers_with_it(
    tmp_path: Path,
) -> None:
    """SIGKILL leaves the caller no time to end anything: the worker sees its lifeline
    close, and ends its whole process group, the helper the store started included."""
    script = (
        HELPER_STORE
        + """
import time
from refimpl.contract import run_contract


class SleepingHelperStore(HelperStore):
    def set_plugin_data(self, name, data):
        time.sleep(600)


run_contract(lambda: SleepingHelperStore(), timeout=None)
"""
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    pids: list[int] = []
    try:
        deadline = time.monotonic() + 60.0
        while not pids and time.monotonic() < deadline:
            time.sleep(0.05)
            with suppress(OSError):
                pids = [int(pid) for pid in (tmp_path / "pids").read_text().split()]
        assert pids, "the store was never built"
        process.kill()  # the caller only, not its process group
        process.wait()
        assert wait_until_ended(pids, within=10.0) == []
    finally:
        for pid in pids:
            with suppress(OSError):
                os.kill(pid, signal.SIGKILL)


@functools.lru_cache(maxsize=1024)
def _remembered(address: int, context: PluginContextBase) -> PluginContextBase:
    """`context` (keyed by its address too: an equal context is not taken for it)."""
    return context


class LruCachingStore(ContextStore):
    """Passes each context through an `lru_cache` made at import, which keeps it."""

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        super().set_plugin_data(name, _remembered(id(data), data))


def _make_closure_store() -> type[ContextStore]:
    kept: list[PluginContextBase] = []  # a closure cell, made at import

    class ClosureKeepingStore(ContextStore):
        def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
            kept.append(data)
            super().set_plugin_data(name, data)

    return ClosureKeepingStore


ClosureKeepingStore = _make_closure_store()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("store", "named"),
    [(LruCachingStore, "_remembered"), (ClosureKeepingStore, "closure variable 'kept'")],
)
def test_released_evidence_names_an_lru_cache_or_a_closure_cell(store: type, named: str) -> None:
    violation = run_contract(store, settings=FEW).violation
    assert violation is not None
    assert violation.property == "released", violation
    assert "nothing the collector tracks" not in violation.detail, violation.detail
    assert named in violation.detail, violation.detail


@pytest.mark.slow
def test_released_evidence_names_a_module_global_and_is_no_hang_of_the_store() -> None:
    """A module global made before the run is found among every survivor of earlier
    examples, a search that scans the whole heap for each link: in a big process it
    outlasts a call's time limit (5 s, on a busy machine inside pytest). It is the
    harness's own work: no call into the store is judged hung for it."""
    ballast: list[list[int]] = [[] for _ in range(250_000)]  # the worker is forked from it
    violation = run_contract(GlobalKeepingStore, settings=FEW, timeout=1.0).violation
    del ballast
    assert violation is not None
    assert violation.property == "released", violation
    assert "__globals__ -> dict['_KEPT'] -> list[" in violation.detail, violation.detail
