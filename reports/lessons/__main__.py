"""`python -m reports.lessons [--list] [--verbose] [--full] [NAME ...]`: the lessons, run
live, in the terminal; `python -m reports.lessons --notebooks [--out DIR] [NAME ...]`:
written as Jupyter notebooks."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from refimpl.support.cmdline import run_cli
from reports.lessons import LESSONS, Lesson, LessonRun
from reports.lessons._lesson import Verdicts
from reports.lessons._notebook import DEFAULT_FOLDER, NotOurs, write_notebooks
from reports.lessons._summary import LEGEND, summary_line, summary_table
from reports.lessons._terminal import Block, Terminal, wants_color
from reports.lessons._walkthrough import FULL_FLAG, INTRODUCTION, PROG, Walkthrough
from reports.output import DEFAULT_OUT, UnusableFolder, output_folder


def _parser(names: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument("--list", action="store_true", help="list the lessons and exit")
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="print each lesson in full (pitfall, code, what ran, the contract's story) as it "
        "runs; default: only the table at the end",
    )
    parser.add_argument(
        FULL_FLAG,
        action="store_true",
        help="as --verbose, with each fixed half shown whole, not only the lines that fix it",
    )
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="highlight code: auto (default) where stdout is a terminal and NO_COLOR is unset",
    )
    parser.add_argument(
        "--notebooks",
        action="store_true",
        help="write each lesson as a Jupyter notebook into --out and exit, running nothing; "
        "a notebook of the same name is replaced only if this command wrote it and it was "
        "not edited since",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="with --notebooks, the folder to write them into; made if missing, but not its "
        "parent (default: reports/out/notebooks)",
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"one of: {', '.join(names)}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the named lessons (all by default) and print them; exit 0 when each one that ran
    showed what it claims, 1 otherwise, 2 for an unknown name or an unusable folder. A
    lesson that could not run (its toolchain or library is missing) says so in one line
    and fails nothing. With `--notebooks`, write the notebooks instead and exit 0 (2 when
    the folder is unusable or holds a file of a notebook's name that may not be
    replaced: then nothing is written)."""
    names = [lesson.name for lesson in LESSONS]
    parser = _parser(names)
    args = parser.parse_args(argv)
    if args.list:
        for number, lesson in enumerate(LESSONS, 1):
            print(f"{number}. {lesson.name}: {lesson.title}")
        return 0
    unknown = [name for name in args.names if name not in names]
    if unknown:
        parser.error(f"unknown lesson {unknown[0]!r}; choose from {', '.join(names)}")
    chosen = [
        (number, lesson)
        for number, lesson in enumerate(LESSONS, 1)
        if not args.names or lesson.name in args.names
    ]
    if args.notebooks:
        return _notebooks(parser, args.out, chosen)
    if args.out is not None:
        parser.error("argument --out: only with --notebooks")
    runs = _walk(chosen, verbose=args.verbose or args.full, full=args.full, color=args.color)
    for run in runs:
        if run.state == "not-run":
            print(f"lessons: {run.lesson.name} not run: {run.not_run}", file=sys.stderr)
        elif run.state == "not-shown":
            print(f"lessons: {run.lesson.name} FAILED, {run.verdict}", file=sys.stderr)
    print(summary_line(runs))
    return 1 if any(run.state == "not-shown" for run in runs) else 0


def _walk(
    chosen: Sequence[tuple[int, Lesson]], *, verbose: bool, full: bool, color: str
) -> list[LessonRun]:
    """Run each lesson, printing it in full as soon as it has run when `verbose`; then the
    closing table."""
    terminal = Terminal(sys.stdout, color=wants_color(sys.stdout, color))
    walkthrough = Walkthrough(full=full)
    verdicts: Verdicts = {}
    runs = []
    if verbose:
        terminal.write([Block("heading", "Memory-ownership lessons"), Block("text", INTRODUCTION)])
    for count, (number, lesson) in enumerate(chosen, 1):
        print(f"[{count}/{len(chosen)}] running {lesson.name} ...", file=sys.stderr, flush=True)
        run = lesson.run(verdicts=verdicts)
        runs.append(run)
        if verbose:
            terminal.write(walkthrough.lesson(number, run))
    numbers = [number for number, _ in chosen]
    table = summary_table(runs, width=terminal.width, numbers=numbers).splitlines()
    terminal.line(table[0], bold=True)
    for row in [*table[1:], ""]:
        terminal.line(row)
    terminal.write([Block("text", LEGEND)])
    if not verbose:
        terminal.write(
            [Block("text", f"Each lesson in full: {PROG} --verbose, with lesson names for some.")]
        )
    return runs


def _notebooks(
    parser: argparse.ArgumentParser, given: str | None, chosen: Sequence[tuple[int, Lesson]]
) -> int:
    """Write the notebooks into `given` (`--out`, None when not given: reports/out/notebooks)
    and exit 0; or exit 2 with one line per problem, each saying what to do, writing
    nothing."""
    folder = given or str(DEFAULT_FOLDER)
    try:
        if Path(folder).resolve() == DEFAULT_FOLDER.resolve():
            output_folder(str(DEFAULT_OUT))  # reports/out/, made if missing
        out = output_folder(folder)
        written = write_notebooks(out, chosen)
    except UnusableFolder as refused:
        if given is not None:
            parser.error(f"argument --out: {refused}; nothing was written")
        return _refuse([f"{refused}: use --out DIR"])
    except NotOurs as refused:
        return _refuse(f"{problem}: move it away, or use --out DIR" for problem in refused.problems)
    for path in written:
        print(path)
    count = f"{len(written)} notebook{'' if len(written) == 1 else 's'}"
    print(f"lessons: wrote {count} into {out}", file=sys.stderr)
    return 0


def _refuse(problems: Iterable[str]) -> int:
    """Print each problem on a line of its own, then that nothing was written; return 2."""
    for problem in problems:
        print(f"{PROG}: error: {problem}", file=sys.stderr)
    print(f"{PROG}: nothing was written", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(run_cli(main, PROG))
