"""Shared test setup: Hypothesis profiles, and a collected heap before each test."""

from __future__ import annotations

import pytest

from refimpl._gc import gc_collect
from refimpl.contract import load_profile

load_profile()  # $HYPOTHESIS_PROFILE: ci (make test), dev (default) or deep (make fuzz)


@pytest.fixture(autouse=True)
def _collected_heap() -> None:
    """Start every test from a collected heap, so leftovers of one test never look like
    a leak (or a survivor) in the next."""
    gc_collect()
