"""`python -m broken_variant run --seconds 2`: the broken host crashes as the seed did.

It prints the sanitizer report on stderr and exits 139, a segfault's exit status.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from broken_variant._errors import MemorySafetyViolation
from broken_variant._host import BrokenHost
from refimpl.support.cmdline import run_cli
from refimpl.support.runner import parse_run_args, run_bundled

SEGFAULT_EXIT_STATUS = 139
"""128 + SIGSEGV: what a shell reports for a process killed by a segfault."""


PROG = "python -m broken_variant"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the broken host with the bundled plugins; 139 with a report when it crashes."""
    args = parse_run_args(
        PROG,
        "The broken plugin host (raw pointers, unchecked casts).",
        argv,
        sanitize_option=True,
    )
    host = BrokenHost(sanitize=args.sanitize, fps=args.fps)
    try:
        return run_bundled(host, args, PROG)
    except MemorySafetyViolation as crash:
        print(crash.report.format(), file=sys.stderr)
        print(
            f"Segmentation fault (simulated: {crash.kind}, exit {SEGFAULT_EXIT_STATUS})",
            file=sys.stderr,
        )
        return SEGFAULT_EXIT_STATUS


if __name__ == "__main__":
    sys.exit(run_cli(main, PROG))
