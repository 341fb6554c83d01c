"""`python -m reports`: run the contract on every implementation and write the report."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from broken_variant.mutants import MUTANTS
from refimpl.support.cmdline import number_at_least, raise_if_interrupted, run_cli
from reports.output import DEFAULT_OUT, UnusableFolder, output_folder
from reports.report import FILES, ForeignFiles, build_report, foreign_files

PROG = "python -m reports"


def _names(text: str) -> frozenset[str]:
    known = sorted(mutant.name for mutant in MUTANTS)
    names = frozenset(name.strip() for name in text.split(",") if name.strip())
    unknown = sorted(names.difference(known)) or ([] if names else [text])
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown mutant {unknown[0]!r}; choose from {', '.join(known)}"
        )
    return names


def main(argv: Sequence[str] | None = None) -> int:
    """Write the report; exit 0 when the fixed implementation holds every property and
    every mutant is caught as it declares, 1 otherwise (the report is written either way).
    A bad argument, an unusable `--out` included, exits 2 with one line before any work;
    so does an `--out` holding a file of a report's name that this command did not write
    (`foreign_files`), the line naming every such file."""
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument(
        "--out",
        default=str(DEFAULT_OUT),
        metavar="DIR",
        help=f"the folder to write {', '.join(FILES)} into; made if missing, but not its "
        "parent; a file of those names is replaced only if this command wrote it, and "
        "nothing else in it is touched (default: reports/out)",
    )
    parser.add_argument(
        "--max-examples",
        type=number_at_least(int, 1),
        default=None,
        help="Hypothesis examples per implementation (default: the profile's)",
    )
    parser.add_argument(
        "--frames",
        type=number_at_least(int, 1),
        default=60,
        help="frames per host session (default: 60)",
    )
    parser.add_argument(
        "--only",
        type=_names,
        default=None,
        metavar="MUTANT,...",
        help="run only these mutants (the fixed implementations always run)",
    )
    args = parser.parse_args(argv)
    try:
        out = output_folder(args.out, FILES)
    except UnusableFolder as refused:
        parser.error(f"argument --out: {refused}")
    foreign = foreign_files(out, FILES)
    if foreign:  # before any work; write_report checks again before it writes
        print(f"{PROG}: error: {ForeignFiles(foreign)}", file=sys.stderr)
        return 2
    started = time.perf_counter()

    def progress(line: str) -> None:
        raise_if_interrupted()  # a Ctrl-C Python ignored in a gc callback stops the next step
        print(f"[{time.perf_counter() - started:6.1f} s] {line}", file=sys.stderr, flush=True)

    try:
        findings = build_report(
            out,
            max_examples=args.max_examples,
            frames=args.frames,
            only=args.only,
            progress=progress,
        )
    except ForeignFiles as appeared:  # put there while the contract ran
        print(f"{PROG}: error: {appeared}; nothing was written", file=sys.stderr)
        return 2
    print(("PASS: " if findings.ok else "FAIL: ") + findings.summary)
    for problem in findings.problems:
        print(f"  - {problem}")
    print(f"report: {out.resolve() / 'index.html'}")
    return 0 if findings.ok else 1


if __name__ == "__main__":
    sys.exit(run_cli(main, PROG))
