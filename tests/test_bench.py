"""The benchmark's arithmetic and its memory probe, on small numbers (make bench runs it big)."""

from __future__ import annotations

from typing import Any

from broken_variant import UntrackedStore
from refimpl import ContextStore
from reports.bench import _frames, memory_per_context


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


def test_fixed_store_costs_a_dict_entry_and_broken_store_far_more() -> None:
    fixed = memory_per_context(ContextStore, 200)
    broken = memory_per_context(UntrackedStore, 200)
    assert 0 < fixed < 200, f"{fixed} bytes per context in a dict"
    assert broken > 5 * fixed, "the simulated heap's records cost more than counted references"
