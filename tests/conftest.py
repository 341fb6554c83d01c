"""Shared test setup: Hypothesis profiles, and a collected heap before each test."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from refimpl._gc import gc_collect

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.register_profile(
    "deep", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(autouse=True)
def _collected_heap() -> None:
    """Start every test from a collected heap, so leftovers of one test never look like
    a leak (or a survivor) in the next."""
    gc_collect()
