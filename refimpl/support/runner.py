"""The `run` command shared by `python -m refimpl` and `python -m broken_variant`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from refimpl._host import Host
from refimpl.plugins import bundled_plugins
from refimpl.support.cmdline import number_at_least

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


def run_bundled(host: Host, args: argparse.Namespace, prog: str) -> int:
    """Register the bundled plugins on `host`, run, shut down, print the screen.

    Returns 0, or 1 when a plugin was disabled by an error (reported on stderr).
    A line on stderr says what runs once it does. On Ctrl-C the host has shut its
    plugins down (see `Host.run`): the screen so far is printed, a line says which
    contexts the store no longer holds, and the `KeyboardInterrupt` goes on to
    `run_cli` (one line, exit 130).
    """
    for module in bundled_plugins():
        host.register_plugin(module)
    print(
        f"{prog}: running {', '.join(host.plugin_names)} (Ctrl-C shuts them down)",
        file=sys.stderr,
        flush=True,
    )
    try:
        summary = host.run(frames=args.frames, seconds=args.seconds)
        screen = host.screen_text()
        host.shutdown()
    except KeyboardInterrupt:
        print(host.screen_text())
        print(f"({host.frame_count} frames, then interrupted; {_released(host)})", file=sys.stderr)
        raise
    print(screen)
    print(f"({summary.frames} frames in {summary.seconds:.2f} s)", file=sys.stderr)
    for failure in host.failures:
        print(
            f"plugin {failure.plugin!r} failed in {failure.phase}:\n{failure.traceback}",
            file=sys.stderr,
        )
    return 1 if host.failures else 0


def _released(host: Host) -> str:
    """Which plugins' contexts the store no longer holds, asked of the store itself."""
    kept = [name for name in host.plugin_names if host.store.get_plugin_data(name) is not None]
    released = [name for name in host.plugin_names if name not in kept]
    said = f"contexts released: {', '.join(released) or 'none'}"
    return said + (f"; still stored: {', '.join(kept)}" if kept else "")
