"""`python -m reports.native` (`make native`): the seed's Nim hosts, compiled and run for real.

Builds the broken and the fixed host (`broken_variant/nim`, `refimpl/nim`, one set
of plugins in `refimpl/nim/plugins`) for each memory manager and checker, runs
each binary, and parses what happened into data: exit status or signal, the
final `Frame: N` line, and the first sanitizer report. Binaries are cached in
`reports/out/.native-cache/` by a hash of sources and flags. Writes `native.json`.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["CHECKERS", "HOSTS", "MMS", "NIM_MISSING", "Cell", "build", "find_nim", "run_cell"]

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "reports" / "out" / ".native-cache"  # git-ignored, outside the sources
PLUGINS = ROOT / "refimpl" / "nim" / "plugins"
HOSTS = {"broken": ROOT / "broken_variant" / "nim", "fixed": ROOT / "refimpl" / "nim"}
MMS = ("orc", "arc")
DEBUG_INFO = ["-d:useMalloc", "--debugger:native", "--passC:-fno-omit-frame-pointer"]
CHECKERS: dict[str, list[str]] = {
    "nim": [],  # Nim's own allocator
    "malloc": ["-d:useMalloc"],
    "valgrind": DEBUG_INFO,  # valgrind cannot see into Nim's allocator
    "asan": [*DEBUG_INFO, "--passC:-fsanitize=address", "--passL:-fsanitize=address"],
}
NIM_MISSING = (
    "native: nim was not found, so the native tests did not run; "
    "`apt-get install nim` (Debian) enables them"
)
FRAMES = 120
TIMEOUT = 60


@dataclass(frozen=True, slots=True)
class Report:
    """The first sanitizer report: its kind and the functions of each stack, innermost first."""

    kind: str
    access: list[str] = field(default_factory=list)
    freed: list[str] = field(default_factory=list)
    allocated: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Cell:
    """One run: which host, memory manager and checker, and what happened."""

    host: str
    mm: str
    checker: str
    args: list[str]
    exit_status: int
    signal: str | None
    frame_line: str | None
    report: Report | None
    defect: str | None = None
    stdout: str = ""

    @property
    def clean(self) -> bool:
        return self.exit_status == 0 and self.report is None


def find_nim() -> str | None:
    """The `nim` compiler on PATH, or None."""
    return shutil.which("nim")


@functools.cache
def _version(nim: str) -> bytes:
    """What the compiler says of itself (part of the cache key), asked once."""
    return subprocess.run([nim, "--version"], capture_output=True, check=True).stdout


def _sources() -> bytes:
    files = sorted(
        [*HOSTS["broken"].glob("*.nim"), *HOSTS["fixed"].glob("*.nim"), *PLUGINS.glob("*.nim")]
    )
    return b"".join(path.read_bytes() for path in files)


def build(nim: str, host: str, mm: str, checker: str, extra: Sequence[str] = ()) -> Path:
    """Compile one host (cached by a hash of the sources, flags and compiler) and return it.
    `extra` adds compiler flags (`-d:release`, `-d:danger`)."""
    flags = [
        "--hints:off",
        "--warnings:off",
        f"--mm:{mm}",
        *CHECKERS[checker],
        *extra,
        f"--path:{HOSTS[host]}",
        f"--path:{PLUGINS}",
    ]
    key = hashlib.sha256(_sources() + " ".join(flags).encode() + _version(nim)).hexdigest()
    folder = CACHE / f"{host}-{mm}-{checker}{''.join(extra).replace(':', '')}-{key[:16]}"
    binary = folder / "backstorie"
    if not binary.exists():
        folder.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [nim, "c", *flags, f"--nimcache:{folder / 'nimcache'}", f"-o:{binary}",
             str(HOSTS[host] / "backstorie.nim")],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"nim could not build {host}/{mm}/{checker}:\n{done.stderr}")
    return binary


_ASAN_FRAME = re.compile(r"^\s+#\d+ 0x[0-9a-f]+ in (\S+)")
_VALGRIND_FRAME = re.compile(r"^==\d+==\s+(?:at|by) 0x[0-9A-F]+: (\S+)")


def _name(symbol: str) -> str:
    """A Nim function's name without its mangled module suffix (`eqdestroy___OOZ..._27`)."""
    return symbol.split("__")[0] if not symbol.startswith("__") else symbol


def _asan(text: str) -> Report | None:
    kind = re.search(r"ERROR: AddressSanitizer: (\S+)", text)
    if kind is None:
        return None
    stacks: dict[str, list[str]] = {"access": [], "freed": [], "allocated": []}
    current = "access"
    for line in text.splitlines():
        if "freed by thread" in line:
            current = "freed"
        elif "previously allocated by thread" in line:
            current = "allocated"
        elif line.startswith("SUMMARY:"):
            break
        elif match := _ASAN_FRAME.match(line):
            stacks[current].append(_name(match.group(1)))
    return Report(kind.group(1), **stacks)


def _valgrind(text: str) -> Report | None:
    first = re.search(r"==\d+== (Invalid (?:read|write|free)[^\n]*)", text)
    if first is None:
        return None
    stacks: dict[str, list[str]] = {"access": [], "freed": [], "allocated": []}
    current = "access"
    for line in text[first.start() :].splitlines()[1:]:
        if "free'd" in line:
            current = "freed"
        elif "was alloc'd" in line:
            current = "allocated"
        elif re.match(r"==\d+== $", line) or re.match(r"==\d+== \S", line):
            if current == "allocated" and stacks["allocated"]:
                break
        elif match := _VALGRIND_FRAME.match(line):
            stacks[current].append(_name(match.group(1)))
    return Report(first.group(1).split(" of size")[0], **stacks)


def run_cell(
    nim: str,
    host: str,
    mm: str,
    checker: str,
    args: Sequence[str] = (),
    extra: Sequence[str] = (),
) -> Cell:
    """Build (or reuse) one binary, run it with `args`, and say what happened."""
    binary = build(nim, host, mm, checker, extra)
    command = [str(binary), f"--frames={FRAMES}", *args]
    if checker == "valgrind":
        command = ["valgrind", "--error-exitcode=99", "-q", *command]
    environment = {**os.environ, "ASAN_OPTIONS": "detect_leaks=0:fast_unwind_on_malloc=0"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, env=environment)
    frame = re.search(r"^Frame: \d+$", done.stdout, re.MULTILINE)
    report = (
        _asan(done.stderr)
        if checker == "asan"
        else (_valgrind(done.stderr) if checker == "valgrind" else None)
    )
    killed = signal.Signals(-done.returncode).name if done.returncode < 0 else None
    status = 128 - done.returncode if done.returncode < 0 else done.returncode
    defect = re.search(r"\[(\w+Defect)\]", done.stderr)
    return Cell(
        host,
        mm,
        checker,
        list(args),
        status,
        killed,
        frame.group(0) if frame else None,
        report,
        defect.group(1) if defect else None,
        done.stdout,
    )


def _outcome(cell: Cell) -> str:
    if cell.report is not None:
        return f"{cell.report.kind} in {next(iter(cell.report.access[:2][1:]), '?')}"
    if cell.signal:
        return f"{cell.signal} (exit {cell.exit_status})"
    return f"exit {cell.exit_status}, {cell.frame_line or 'no frame line'}"


def run_matrix(nim: str, progress: Callable[[str], None]) -> list[Cell]:
    """Every host x memory manager x checker, compiled two at a time."""
    cells = [(host, mm, checker) for host in HOSTS for mm in MMS for checker in CHECKERS]
    progress(f"compiling {len(cells)} hosts (cache: {CACHE.relative_to(ROOT)})")

    def built(cell: tuple[str, str, str]) -> None:
        build(nim, *cell)
        progress(f"  built {'/'.join(cell)}")

    with ThreadPoolExecutor(max_workers=2) as pool:
        for failure in [f.exception() for f in [pool.submit(built, cell) for cell in cells]]:
            if failure is not None:
                raise failure
    results = []
    for host, mm, checker in cells:
        results.append(run_cell(nim, host, mm, checker))
        progress(f"  ran {host}/{mm}/{checker}: {_outcome(results[-1])}")
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Print the matrix and write native.json; exit 2 when nim is missing."""
    parser = argparse.ArgumentParser(prog="python -m reports.native", description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "out")
    args = parser.parse_args(argv)
    nim = find_nim()
    if nim is None:
        print(NIM_MISSING, file=sys.stderr)
        return 2

    def progress(line: str) -> None:
        print(f"native: {line}", file=sys.stderr, flush=True)

    cells = run_matrix(nim, progress)
    print(f"{'host':7} {'mm':4} {'checker':9} outcome")
    for cell in cells:
        print(f"{cell.host:7} {cell.mm:4} {cell.checker:9} {_outcome(cell)}")
    args.out.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {
        "schema_version": 1,
        "frames": FRAMES,
        "cells": [asdict(cell) for cell in cells],
    }
    (args.out / "native.json").write_text(json.dumps(data, indent=2) + "\n")
    print(f"native: wrote {args.out / 'native.json'}", file=sys.stderr)
    fixed_clean = all(
        c.clean and c.frame_line == f"Frame: {FRAMES}" for c in cells if c.host == "fixed"
    )
    return 0 if fixed_clean else 1


if __name__ == "__main__":
    sys.exit(main())
