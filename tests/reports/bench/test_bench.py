"""The benchmark's arithmetic and its memory probe, on small numbers (make bench runs it big)."""

from __future__ import annotations

from typing import Any

import pytest

import reports.bench._memory
from broken_variant import UntrackedStore
from refimpl import ContextStore
from reports.bench import memory_per_context
from reports.bench._memory import _FloorStore
from reports.bench._timing import _frames


def _raw(frames: dict[int, float]) -> dict[str, Any]:
    return {"benchmarks": [
        {"group": "frame", "extra_info": {"plugins": n}, "stats": {"median": seconds}}
        for n, seconds in frames.items()
    ]}  # fmt: skip


def test_marginal_cost_leaves_out_the_frames_fixed_cost() -> None:
    # 5 us per frame, plus 2 us per plugin.
    rows = _frames(_raw({n: (5 + 2 * n) * 1e-6 for n in (1, 10, 100)}))
    assert [row["marginal_per_plugin_ns"] for row in rows] == [None, 2000.0, 2000.0]
    assert rows[0]["per_plugin_ns"] == 7000.0


COUNT = 100
"""Contexts stored for the memory tests: a dict's cost per entry depends on how full its
table is, so every comparison is between stores holding the same number."""


def test_fixed_store_costs_what_a_bare_dict_costs_at_the_same_count() -> None:
    floor = memory_per_context(_FloorStore, COUNT)
    fixed = memory_per_context(ContextStore, COUNT)
    assert 0 < fixed <= 1.5 * floor, (
        f"{fixed:.1f} bytes per context in the fixed store, the floor's {floor:.1f} at "
        f"{COUNT} contexts: the bench's target is within 1.5x"
    )


@pytest.mark.slow
def test_broken_store_costs_far_more_than_the_floor_at_the_same_count() -> None:
    floor = memory_per_context(_FloorStore, COUNT)
    broken = memory_per_context(UntrackedStore, COUNT)
    assert broken > 5 * floor, "the simulated heap's records cost more than counted references"


def test_memory_ratios_divide_by_the_floor_at_the_same_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A dict's cost per entry falls as it grows: the floor differs at each count.
    measured = {
        ("_FloorStore", 10): 50.0, ("_FloorStore", 1000): 20.0,
        ("ContextStore", 10): 25.0, ("ContextStore", 1000): 20.0,
        ("UntrackedStore", 10): 1000.0, ("UntrackedStore", 1000): 800.0,
    }  # fmt: skip
    monkeypatch.setattr(
        reports.bench._memory,
        "memory_per_context",
        lambda make, count: measured[make.__name__, count],
    )
    rows = reports.bench._memory._memory((10, 1000), lambda line: None)
    ratios = {(row["implementation"], row["contexts"]): row["ratio_to_floor"] for row in rows}
    assert ratios == {
        ("floor", 10): 1.0, ("floor", 1000): 1.0,
        ("fixed", 10): 0.5, ("fixed", 1000): 1.0,
        ("broken", 10): 20.0, ("broken", 1000): 40.0,
    }  # fmt: skip
