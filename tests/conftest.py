"""Shared test setup: Hypothesis profiles, and a collected heap before each test."""

from __future__ import annotations

import os

import pytest

from refimpl._gc import gc_collect
from refimpl.contract import load_profile

load_profile()  # $HYPOTHESIS_PROFILE: ci (make test), dev (default) or deep (make fuzz)


@pytest.fixture(autouse=True)
def _collected_heap() -> None:
    """Start every test from a collected heap, so leftovers of one test never look like
    a leak (or a survivor) in the next."""
    gc_collect()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "native: needs the nim compiler (make native)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without nim, leave the native tests out (the summary says so in one line); .ci/run
    installs nim and sets REQUIRE_NATIVE=1, so that CI fails instead of leaving them out."""
    from reports.native import NIM_MISSING, find_nim

    if find_nim() is not None:
        return
    if os.environ.get("REQUIRE_NATIVE") == "1":
        raise pytest.UsageError(NIM_MISSING + " (REQUIRE_NATIVE=1)")
    native = [item for item in items if item.get_closest_marker("native")]
    if native:
        items[:] = [item for item in items if not item.get_closest_marker("native")]
        config.hook.pytest_deselected(items=native)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from reports.native import NIM_MISSING, find_nim

    if find_nim() is None:
        terminalreporter.write_line(NIM_MISSING)
