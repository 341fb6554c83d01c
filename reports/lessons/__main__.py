"""`python -m reports.lessons [--list] [NAME ...]`: the lessons, run live, in the terminal."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from refimpl.support.cmdline import run_cli
from reports.lessons import LESSONS
from reports.lessons._render import TITLE, render_lesson, summary_line, summary_table

PROG = "python -m reports.lessons"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the named lessons (all by default) and print them; exit 0 when each one that ran
    showed what it claims, 1 otherwise, 2 for an unknown name. A lesson that could not run
    (its toolchain is missing) says so in one line and fails nothing."""
    names = [lesson.name for lesson in LESSONS]
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument("--list", action="store_true", help="list the lessons and exit")
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="print each lesson in full (pitfall, code, story, what ran) as it runs; "
        "default: only the summary table at the end",
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"one of: {', '.join(names)}")
    args = parser.parse_args(argv)
    if args.list:
        for number, lesson in enumerate(LESSONS, 1):
            print(f"{number}. {lesson.name}: {lesson.title}")
        return 0
    unknown = [name for name in args.names if name not in names]
    if unknown:
        parser.error(f"unknown lesson {unknown[0]!r}; choose from {', '.join(names)}")
    chosen = [lesson for lesson in LESSONS if not args.names or lesson.name in args.names]
    runs = []
    if args.verbose:
        print(f"{TITLE}\n", flush=True)
    for number, lesson in enumerate(chosen, 1):
        print(f"[{number}/{len(chosen)}] running {lesson.name} ...", file=sys.stderr, flush=True)
        run = lesson.run()
        runs.append(run)
        if args.verbose:
            print(render_lesson(number, run), flush=True)  # each lesson as soon as it has run
    print(summary_table(runs))
    if not args.verbose:
        print("\n(each lesson in full: python -m reports.lessons --verbose, or make report)")
    for run in runs:
        if run.state == "not-run":
            print(f"lessons: {run.lesson.name} not run: {run.not_run}", file=sys.stderr)
        elif run.state == "not-shown":
            print(
                f"lessons: {run.lesson.name} FAILED, it did not show what it claims "
                f"(broken: {run.broken.summary}; fixed: {run.fixed.summary})",
                file=sys.stderr,
            )
    print(f"summary: {summary_line(runs)}", file=sys.stderr)
    return 1 if any(run.state == "not-shown" for run in runs) else 0


if __name__ == "__main__":
    sys.exit(run_cli(main, PROG))
