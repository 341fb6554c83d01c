"""The `run` command shared by `python -m refimpl` and `python -m broken_variant`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from refimpl._cmdline import number_at_least
from refimpl._host import Host
from refimpl.plugins import bundled_plugins

__all__ = ["parse_run_args", "run_bundled"]


def parse_run_args(
    prog: str, description: str, argv: Sequence[str] | None, *, sanitize_option: bool = False
) -> argparse.Namespace:
    """Parse `run [--seconds S] [--frames N] [--fps F] [--sanitize]`; a bad value exits 2
    with one line. `--sanitize` exists only when `sanitize_option` is set."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run", help="run the bundled plugins headless, print the final screen"
    )
    run.add_argument(
        "--seconds",
        type=number_at_least(float, 0),
        default=None,
        help="wall seconds to run, paced at --fps (default: 2 unless --frames is given)",
    )
    run.add_argument(
        "--frames",
        type=number_at_least(int, 0),
        default=None,
        help="frames to run; with --seconds, stop at whichever comes first",
    )
    run.add_argument(
        "--fps",
        type=number_at_least(float, 0),
        default=60.0,
        help="frames per second (default: 60)",
    )
    if sanitize_option:
        run.add_argument(
            "--sanitize",
            action="store_true",
            help="catch reused addresses at the point of use (memory tagging)",
        )
    args = parser.parse_args(argv)
    if args.fps == 0:
        parser.error("argument --fps: must be positive")
    if args.seconds is None and args.frames is None:
        args.seconds = 2.0
    return args


def run_bundled(host: Host, args: argparse.Namespace) -> int:
    """Register the bundled plugins on `host`, run, shut down, print the screen.

    Returns 0, or 1 when a plugin was disabled by an error (reported on stderr).
    """
    for module in bundled_plugins():
        host.register_plugin(module)
    summary = host.run(frames=args.frames, seconds=args.seconds)
    screen = host.screen_text()
    host.shutdown()
    print(screen)
    print(f"({summary.frames} frames in {summary.seconds:.2f} s)", file=sys.stderr)
    for failure in host.failures:
        print(
            f"plugin {failure.plugin!r} failed in {failure.phase}:\n{failure.traceback}",
            file=sys.stderr,
        )
    return 1 if host.failures else 0
