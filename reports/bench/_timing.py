"""Timings of the store operations and the frame loop: the benchmark file run through
pytest-benchmark in this process (`run_benchmarks`), its JSON read into rows of medians
and ratios to the floor (`_operations`, `_frames`)."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from refimpl.support.cmdline import raise_interruption

__all__ = ["BENCH_FILE", "BenchmarksFailed", "run_benchmarks"]

BENCH_FILE = Path(__file__).resolve().with_name("bench_ownership.py")
"""The pytest-benchmark file: every implementation side by side, one group per operation."""


class BenchmarksFailed(RuntimeError):
    """The pytest-benchmark run did not finish cleanly (its own output says why)."""


@contextlib.contextmanager
def _outside_xdist() -> Iterator[None]:
    """Hide an enclosing pytest-xdist worker from the inner run: pytest-benchmark reads
    `PYTEST_XDIST_WORKER` and then refuses `--benchmark-only` (as when a test runs us)."""
    worker = os.environ.pop("PYTEST_XDIST_WORKER", None)
    try:
        yield
    finally:
        if worker is not None:
            os.environ["PYTEST_XDIST_WORKER"] = worker


def run_benchmarks(max_time: float, progress: Callable[[str], None]) -> dict[str, Any]:
    """Run the pytest-benchmark file and return its JSON; raise `BenchmarksFailed` if
    it did not finish cleanly."""
    with tempfile.TemporaryDirectory() as folder, _outside_xdist():
        raw = Path(folder) / "raw.json"
        progress(
            f"timing store operations and the frame loop (pytest-benchmark, {BENCH_FILE.name})"
        )
        status = pytest.main([
            str(BENCH_FILE), "-q", "-p", "no:xdist", "-p", "no:cacheprovider",
            "-W", "ignore::pytest.PytestAssertRewriteWarning", "--benchmark-columns=median,ops",
            "--benchmark-enable", "--benchmark-only", f"--benchmark-max-time={max_time}",
            f"--benchmark-json={raw}", "--benchmark-disable-gc", "--benchmark-warmup=on",
            f"--benchmark-storage=file://{folder}",  # no .benchmarks/ left in the project
        ])  # fmt: skip
        if status == pytest.ExitCode.INTERRUPTED:
            raise_interruption()  # Ctrl-C or SIGTERM, which pytest caught: stop, as asked
        if status != 0:
            raise BenchmarksFailed(f"the benchmarks failed (pytest exit status {status})")
        return dict(json.loads(raw.read_text()))


def _operations(raw: dict[str, Any]) -> list[dict[str, Any]]:
    by_group: dict[str, dict[str, float]] = {}
    for bench in raw["benchmarks"]:
        if bench["group"] != "frame":
            impl = bench["param"]
            by_group.setdefault(bench["group"], {})[impl] = bench["stats"]["median"]
    rows: list[dict[str, Any]] = []
    for group, means in by_group.items():
        for impl, mean in sorted(means.items()):
            rows.append(
                {
                    "operation": group,
                    "implementation": impl,
                    "median_ns": round(mean * 1e9, 1),
                    "ops_per_second": round(1 / mean),
                    "ratio_to_floor": round(mean / means["floor"], 2),
                }
            )
    return rows


def _frames(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """Frame times by plugin count: the cost per plugin on average, and at the margin
    (what one more plugin adds, leaving out the frame's own fixed cost)."""
    rows = sorted(
        ({"plugins": b["extra_info"]["plugins"], "median": b["stats"]["median"]}
         for b in raw["benchmarks"] if b["group"] == "frame"),
        key=lambda row: row["plugins"],
    )  # fmt: skip
    result = []
    for previous, row in zip([None, *rows], rows, strict=False):
        marginal = None
        if previous is not None:
            added = row["plugins"] - previous["plugins"]
            marginal = round((row["median"] - previous["median"]) / added * 1e9, 1)
        result.append(
            {
                "plugins": row["plugins"],
                "frame_us": round(row["median"] * 1e6, 1),
                "per_plugin_ns": round(row["median"] / row["plugins"] * 1e9, 1),
                "marginal_per_plugin_ns": marginal,
            }
        )
    return result
