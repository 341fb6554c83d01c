"""`python -m refimpl.lessons [--list] [NAME ...]`: the lessons, run live, in the terminal."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from refimpl.lessons import LESSONS, render_markdown


def main(argv: Sequence[str] | None = None) -> int:
    """Run the named lessons (all by default) and print them; exit 0 when each one showed
    what it claims, 1 otherwise, 2 for an unknown name."""
    names = [lesson.name for lesson in LESSONS]
    parser = argparse.ArgumentParser(prog="python -m refimpl.lessons", description=__doc__)
    parser.add_argument("--list", action="store_true", help="list the lessons and exit")
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
    for number, lesson in enumerate(chosen, 1):
        print(f"[{number}/{len(chosen)}] running {lesson.name} ...", file=sys.stderr, flush=True)
        runs.append(lesson.run())
    print(render_markdown(runs))
    failed = [run.lesson.name for run in runs if not run.holds and run.not_run is None]
    for run in runs:
        if run.not_run is not None:
            print(f"lessons: {run.lesson.name}: {run.not_run}", file=sys.stderr)
    for name in failed:
        print(f"lessons: {name} did not show what it claims", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
