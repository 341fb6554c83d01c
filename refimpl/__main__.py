"""`python -m refimpl run --seconds 2`: the fixed host, headless, prints its final screen."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from refimpl._host import Host
from refimpl.support.cmdline import run_cli
from refimpl.support.runner import parse_run_args, run_bundled

PROG = "python -m refimpl"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the fixed host with the bundled plugins; exit 0 when every plugin ran clean."""
    args = parse_run_args(PROG, "The fixed plugin host.", argv)
    return run_bundled(Host(fps=args.fps), args, PROG)


if __name__ == "__main__":
    sys.exit(run_cli(main, PROG))
