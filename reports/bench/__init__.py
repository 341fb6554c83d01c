"""`python -m reports.bench` (`make bench`): what the fix costs and how fast the harness finds bugs.

Timings come from pytest-benchmark, every implementation side by side in one
process, and are reported as ratios to a floor (a bare dict look-up with the
type check inline); memory comes from tracemalloc. Writes `bench.json` into
the output folder (atomically: a run cut short leaves the previous one whole) and prints a
table, with each target met or missed. Every argument is checked before anything runs.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import io
import json
import os
import platform
import statistics
import sys
import tempfile
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from broken_variant import UntrackedStore
from broken_variant.mutants import MUTANTS
from refimpl import ContextStore, PluginContext, PluginContextBase
from refimpl.contract import run_contract
from refimpl.plugins.simple_counter import CounterState
from refimpl.support.cmdline import number_at_least, raise_interruption
from reports.output import (
    DEFAULT_OUT,
    UnusableFolder,
    output_folder,
    project_commit,
    write_text_atomically,
)
from reports.output.measured import record_run

__all__ = [
    "PROG",
    "SCHEMA_VERSION",
    "main",
    "memory_per_context",
    "run_benchmarks",
]

SCHEMA_VERSION = 1
"""The `"schema"` of the bench.json written now; a report leaves out a bench.json of any
other (or none), saying so. Bump it whenever bench.json changes shape. Its provenance keys
(`commit`, `dirty`: `project_commit`) came later, optional: a report reads a bench.json
without them as of unknown provenance, so stale, and older readers ignore them."""
PROG = "python -m reports.bench"

BENCH_FILE = Path(__file__).resolve().parents[2] / "tests" / "bench" / "bench_ownership.py"
Store = Callable[[], Any]


class _FloorStore:
    """One dict entry per context and nothing else: the memory floor."""

    def __init__(self) -> None:
        self.contexts: dict[str, PluginContextBase] = {}

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        self.contexts[name] = data


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


def memory_per_context(make_store: Store, count: int) -> float:
    """Bytes allocated per stored context by `make_store()`'s store, beyond the contexts
    and their names (built before tracing starts)."""
    names = [f"plugin_{number}" for number in range(count)]
    contexts = [PluginContext[CounterState](name, CounterState()) for name in names]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        store = make_store()
        for name, context in zip(names, contexts, strict=True):
            store.set_plugin_data(name, context)
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    del store
    return used / count


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


def _memory(sizes: Sequence[int], progress: Callable[[str], None]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    stores: list[tuple[str, Store, int]] = [
        ("floor", _FloorStore, max(sizes)),
        ("fixed", ContextStore, max(sizes)),
        ("broken", UntrackedStore, 10_000),
    ]
    for impl, make, largest in stores:
        for count in (size for size in sizes if size <= largest):
            progress(f"memory: {impl} store, {count:,} contexts (tracemalloc)")
            rows.append(
                {
                    "implementation": impl,
                    "contexts": count,
                    "bytes_per_context": round(memory_per_context(make, count), 1),
                }
            )
    floors = {r["contexts"]: r["bytes_per_context"] for r in rows if r["implementation"] == "floor"}
    for row in rows:
        row["ratio_to_floor"] = round(row["bytes_per_context"] / floors[row["contexts"]], 2)
    return rows


def _harness(examples: int, progress: Callable[[str], None]) -> dict[str, Any]:
    budget = settings(max_examples=examples, derandomize=True, database=None)
    mutants: list[dict[str, Any]] = []
    for mutant in MUTANTS:
        progress(f"harness: contract on mutant {mutant.name}")
        with redirect_stdout(io.StringIO()):  # Hypothesis's notes on flaky stores
            run = run_contract(
                mutant.factory,
                api=mutant.kind == "api",
                settings=budget,
                timeout=mutant.timeout,
            )
        mutants.append(
            {
                "mutant": mutant.name,
                "caught_by": run.violation.property if run.violation else None,
                "first_detection_examples": run.first_failure_examples,
                "first_detection_seconds": run.first_failure_seconds,
                "seconds_with_shrinking": round(run.seconds, 3),
            }
        )
    progress(f"harness: contract on the fixed ContextStore, {examples} examples")
    fixed = run_contract(ContextStore, settings=budget)
    detections = [
        m["first_detection_seconds"] for m in mutants if m["first_detection_seconds"] is not None
    ]
    return {
        "mutants": mutants,
        "examples_budget": examples,
        "median_first_detection_seconds": round(statistics.median(detections), 3)
        if detections
        else None,
        "fixed_store_seconds": round(fixed.seconds, 2),
        "fixed_store_examples": fixed.examples,
        "fixed_store_holds": fixed.violation is None,
    }


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


def _sizes(text: str) -> tuple[int, ...]:
    """An argparse `type=`: comma-separated whole numbers of contexts, each at least 1."""
    count = number_at_least(int, 1)
    return tuple(count(size.strip()) for size in text.split(","))


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, write bench.json, print the table; exit 0 when every target is met, 1 when
    one is missed, 2 (one line, before anything runs) for a bad argument."""
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument(
        "--out",
        default=str(DEFAULT_OUT),
        metavar="DIR",
        help="the folder to write bench.json into; made if missing, but not its parent "
        "(default: reports/out)",
    )
    parser.add_argument(
        "--max-time",
        type=number_at_least(float, 0),
        default=0.5,
        help="seconds pytest-benchmark spends per benchmark (default 0.5)",
    )
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default="10,10000,1000000",
        help="numbers of contexts for the memory measurement (default 10,10000,1000000)",
    )
    parser.add_argument(
        "--examples",
        type=number_at_least(int, 1),
        default=500,
        help="the contract's example budget (default 500)",
    )
    args = parser.parse_args(argv)
    try:
        out = output_folder(args.out, ["bench.json"])
    except UnusableFolder as refused:
        parser.error(f"argument --out: {refused}")

    def progress(line: str) -> None:
        print(f"bench: {line}", file=sys.stderr, flush=True)

    try:
        raw = run_benchmarks(args.max_time, progress)
    except BenchmarksFailed as failed:
        print(f"{PROG}: {failed}; bench.json was left as it was", file=sys.stderr)
        return 1
    commit, dirty = project_commit()
    result: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "date": datetime.date.today().isoformat(),
        "commit": commit,
        "dirty": dirty,
        "machine": {
            "python": platform.python_version(),
            "system": platform.system(),
            "machine": platform.machine(),
            "cpu": raw["machine_info"].get("cpu", {}).get("brand_raw", platform.processor()),
        },
        "command": "make bench",
        "operations": _operations(raw),
        "frame_loop": _frames(raw),
        "memory": _memory(args.sizes, progress),
        "harness": _harness(args.examples, progress),
    }
    result["targets"] = _targets(result)
    write_text_atomically(out / "bench.json", json.dumps(result, indent=2) + "\n")
    print(table(result))
    print(f"bench: wrote {out / 'bench.json'}", file=sys.stderr)
    record_run(
        "bench",
        f"```text\n{table(result)}\n```",
        command="make bench",
        out=out,
        full=(args.max_time, args.sizes, args.examples) == (0.5, _sizes("10,10000,1000000"), 500),
    )
    return 0 if all(target["met"] for target in result["targets"]) else 1
