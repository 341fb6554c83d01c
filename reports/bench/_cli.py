"""`python -m reports.bench` (`make bench`): what the fix costs and how fast the harness finds bugs.

Timings come from pytest-benchmark, every implementation side by side in one
process, and are reported as ratios to a floor (a bare dict look-up with the
type check inline); memory comes from tracemalloc. Writes `bench.json` into
the output folder (atomically: a run cut short leaves the previous one whole) and prints a
table, with each target met or missed. Every argument is checked before anything runs.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from collections.abc import Sequence
from typing import Any

from refimpl.support.cmdline import number_at_least
from reports.bench._harness import _harness
from reports.bench._memory import _memory
from reports.bench._table import _targets, table
from reports.bench._timing import BenchmarksFailed, _frames, _operations, run_benchmarks
from reports.output import (
    DEFAULT_OUT,
    UnusableFolder,
    machine_fields,
    output_folder,
    provenance_fields,
    write_text_atomically,
)
from reports.output.measured import record_run

__all__ = ["PROG", "SCHEMA_VERSION", "main"]

SCHEMA_VERSION = 1
"""The `"schema"` of the bench.json written now; a report leaves out a bench.json of any
other (or none), saying so. Bump it whenever bench.json changes shape. Its provenance keys
(`commit`, `dirty`: `project_commit`) came later, optional: a report reads a bench.json
without them as of unknown provenance, so stale, and older readers ignore them."""
PROG = "python -m reports.bench"


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
    result: dict[str, Any] = {
        **provenance_fields(SCHEMA_VERSION),
        "machine": machine_fields(
            cpu=raw["machine_info"].get("cpu", {}).get("brand_raw", platform.processor())
        ),
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
