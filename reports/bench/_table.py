"""What the bench shows: each target met or missed (`_targets`), and the results as a
plain-text table (`table`)."""

from __future__ import annotations

from typing import Any

__all__ = ["table"]


def _targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    ops = {(r["operation"], r["implementation"]): r for r in result["operations"]}
    typed = ops[("get_context", "fixed")]["ratio_to_floor"]
    targets = [
        {
            "target": "typed get_context on the fixed store <= 3x the floor",
            "value": typed,
            "limit": 3.0,
            "met": typed <= 3.0,
        }
    ]
    for operation in ("get_plugin_data", "set_plugin_data", "get_context"):
        fixed = ops[(operation, "fixed")]["median_ns"]
        broken = ops[(operation, "broken")]["median_ns"]
        targets.append(
            {
                "target": f"{operation}: fixed at least as fast as broken",
                "value": round(broken / fixed, 2),
                "limit": 1.0,
                "met": fixed <= broken,
            }
        )
    margins = [
        r["marginal_per_plugin_ns"]
        for r in result["frame_loop"]
        if r["plugins"] > 10 and r["marginal_per_plugin_ns"]
    ]
    spread = max(margins) / min(margins) - 1 if len(margins) > 1 else 0.0
    targets.append(
        {
            "target": "cost per plugin per frame flat within 25% from 10 to 1000 "
            "plugins (marginal cost, 10->100 against 100->1000)",
            "value": round(spread, 2),
            "limit": 0.25,
            "met": spread <= 0.25,
        }
    )
    largest = max(r["contexts"] for r in result["memory"])
    memory = next(
        r for r in result["memory"] if r["implementation"] == "fixed" and r["contexts"] == largest
    )
    targets.append(
        {
            "target": f"memory per context within 1.5x of the floor at {largest:,}",
            "value": memory["ratio_to_floor"],
            "limit": 1.5,
            "met": memory["ratio_to_floor"] <= 1.5,
        }
    )
    median = result["harness"]["median_first_detection_seconds"]
    targets.append(
        {
            "target": "every mutant detected in a median of under 1 s",
            "value": median,
            "limit": 1.0,
            "met": median is not None
            and median < 1.0
            and all(m["caught_by"] for m in result["harness"]["mutants"]),
        }
    )
    return targets


def table(result: dict[str, Any]) -> str:
    """The results as a plain-text table for the terminal (and the README)."""
    lines = ["store operations (median, ratio to the floor)"]
    for row in result["operations"]:
        lines.append(
            f"  {row['operation']:16} {row['implementation']:7} {row['median_ns']:9.1f} ns"
            f"  {row['ratio_to_floor']:5.2f}x"
        )
    lines.append("frame loop (median frame; cost per plugin per frame)")
    for row in result["frame_loop"]:
        margin = row["marginal_per_plugin_ns"]
        lines.append(
            f"  {row['plugins']:5} plugins  {row['frame_us']:10.1f} us/frame"
            f"  {row['per_plugin_ns']:8.1f} ns/plugin on average"
            + ("" if margin is None else f", {margin:8.1f} ns for each added plugin")
        )
    lines.append("memory per stored context, beyond the context (tracemalloc)")
    for row in result["memory"]:
        lines.append(
            f"  {row['implementation']:7} {row['contexts']:>9,} contexts "
            f"{row['bytes_per_context']:8.1f} B  {row['ratio_to_floor']:5.2f}x floor"
        )
    harness = result["harness"]
    lines.append(f"harness (budget {harness['examples_budget']} examples)")
    for row in harness["mutants"]:
        seen = row["first_detection_seconds"]
        lines.append(
            f"  {row['mutant']:18} {row['caught_by'] or 'ESCAPED':17} "
            f"example {row['first_detection_examples']}, "
            f"{seen if seen is None else f'{seen:.3f}'} s "
            f"({row['seconds_with_shrinking']:.2f} s with shrinking)"
        )
    lines.append(
        f"  fixed ContextStore: {harness['fixed_store_examples']} examples in "
        f"{harness['fixed_store_seconds']} s, holds: {harness['fixed_store_holds']}"
    )
    lines.append("targets")
    for target in result["targets"]:
        mark = "met   " if target["met"] else "MISSED"
        lines.append(f"  {mark} {target['target']}: {target['value']} (limit {target['limit']})")
    return "\n".join(lines)
