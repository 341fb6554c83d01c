"""What every command line of this project shares: argument types that refuse what they
cannot mean, and an entry point that ends quietly on a closed pipe, a full disk or Ctrl-C.

Every `python -m ...` of the project ends with `sys.exit(run_cli(main, prog))`.
"""

from __future__ import annotations

import argparse
import errno
import io
import math
import os
import select
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, TextIO, cast

__all__ = [
    "INTERRUPTED_EXIT_STATUS",
    "Terminated",
    "interrupts_noted",
    "number_at_least",
    "raise_if_interrupted",
    "raise_interruption",
    "run_cli",
]

INTERRUPTED_EXIT_STATUS = 130
"""128 + SIGINT: what a shell reports for a command stopped by Ctrl-C."""

HYPOTHESIS_STORAGE = Path(__file__).resolve().parents[2] / "reports" / "out" / ".hypothesis"
"""Where Hypothesis keeps its files when a command runs it (what `make` sets too), so that
no command leaves a `.hypothesis/` folder in the directory it was run from."""

_KINDS = {int: "an integer", float: "a float"}
_DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_REFUSED = {errno.EACCES, errno.EPERM, errno.EROFS}
"""A file system refusing a named file (an immutable or another user's file, a folder
remounted read-only): one line naming it, as a full disk is."""


def number_at_least(kind: type[int] | type[float], minimum: int) -> Callable[[str], Any]:
    """An argparse `type=` that reads a finite `kind` no smaller than `minimum`, and
    refuses anything else (NaN and infinities included) with one line quoting the input."""

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {_KINDS[kind]}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        if value < minimum:
            limit = "is negative" if minimum == 0 else f"must be at least {minimum}"
            raise argparse.ArgumentTypeError(f"{text!r} {limit}")
        return value

    return parse


class _ClosedPipeTolerantStream(io.TextIOBase):
    """`sys.stdout` or `sys.stderr`, except that once its reader has gone (`| head -1`,
    `2>&1 | true`) every later write is dropped instead of raising `BrokenPipeError`:
    the command finishes its work and exits with the status that work deserves."""

    def __init__(self, wrapped: io.TextIOBase) -> None:
        self._wrapped = wrapped
        self.reader_gone = False

    def _drop_the_rest(self) -> None:
        self.reader_gone = True
        _discard_into_devnull(self._wrapped.fileno())

    def write(self, text: str) -> int:
        if not self.reader_gone:
            try:
                self._wrapped.write(text)
                if "\n" in text:
                    self._wrapped.flush()
            except BrokenPipeError:
                self._drop_the_rest()
        return len(text)

    def flush(self) -> None:
        if not self.reader_gone:
            try:
                self._wrapped.flush()
            except BrokenPipeError:
                self._drop_the_rest()

    def fileno(self) -> int:
        return self._wrapped.fileno()

    def isatty(self) -> bool:
        return self._wrapped.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._wrapped.encoding


def _flush_or_drop(stream: TextIO) -> None:
    """Flush `stream`; if its reader has gone, point its descriptor at /dev/null, so that
    the interpreter's final flush does not print "Exception ignored ... BrokenPipeError"
    for text that reached the stream without passing through its tolerant wrapper."""
    try:
        stream.flush()
        gone = _reader_gone(stream.fileno())
    except BrokenPipeError:
        gone = True
    except (OSError, ValueError):  # closed, or no descriptor: nothing left to flush
        return
    if gone:  # also for what is written after this command returns (atexit, finalizers)
        _discard_into_devnull(stream.fileno())


def _discard_into_devnull(fd: int) -> None:
    # Point `fd` at /dev/null so that the interpreter's own final flush of a stream on it
    # succeeds too (else: "Exception ignored ... BrokenPipeError").
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def _reader_gone(fd: int) -> bool:
    """Whether `fd` is a pipe whose reading end is closed (poll reports an error on it)."""
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(events & select.POLLERR for _, events in poller.poll(0))


def _tolerant(stream: TextIO) -> TextIO:
    wrapped: object = stream
    if isinstance(wrapped, io.TextIOBase) and not isinstance(wrapped, _ClosedPipeTolerantStream):
        return cast(TextIO, _ClosedPipeTolerantStream(wrapped))
    return stream


_swallowed_interrupts: list[BaseException] = []


def _noting_interrupts(
    previous: Callable[[Any], object],
) -> Callable[[Any], object]:
    """A `sys.unraisablehook` that notes a `KeyboardInterrupt` Python could not raise (Ctrl-C
    or `Terminated` arriving while a garbage-collector callback, such as Hypothesis's, a
    weakref callback or a `__del__` runs: Python prints "Exception ignored" and goes on)
    instead of printing it, for `raise_if_interrupted` to raise; anything else goes to
    `previous`."""

    def hook(unraisable: Any) -> object:
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            _swallowed_interrupts.append(unraisable.exc_value)
            return None
        return previous(unraisable)

    return hook


@contextmanager
def interrupts_noted() -> Iterator[None]:
    """While it lasts, a `KeyboardInterrupt` Python could not raise is noted (see
    `_noting_interrupts`), for `raise_if_interrupted` to raise, and raised at the end if
    nothing raised it before: a Ctrl-C that lands in Hypothesis's garbage-collector
    callback stops the run instead of vanishing into a warning. The previous hook is put
    back on the way out."""
    previous = sys.unraisablehook
    sys.unraisablehook = _noting_interrupts(previous)
    try:
        yield
        raise_if_interrupted()
    finally:
        sys.unraisablehook = previous


def raise_if_interrupted() -> None:
    """Raise the `KeyboardInterrupt` that Python swallowed since `run_cli` began (see
    `_noting_interrupts`), if any: a command calls it between its steps, and the contract
    before each of its own, so a Ctrl-C or SIGTERM that came at an awkward moment still
    stops it before its next step."""
    if _swallowed_interrupts:
        swallowed = _swallowed_interrupts.pop()
        _swallowed_interrupts.clear()
        raise swallowed


_TERMINATIONS = (signal.SIGTERM, signal.SIGHUP)


class Terminated(KeyboardInterrupt):
    """`kill PID` or a closed terminal, raised where the command is: a `KeyboardInterrupt`,
    so that what is under way stops and cleans up as on Ctrl-C (a report's temporary
    files, the host's plugins) and Hypothesis, inside a contract run, lets it through
    rather than taking it for a failing example, as it would a `SystemExit`."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


_terminations_seen: list[int] = []


def _exit_on_termination(signum: int, frame: object) -> None:
    """End as the signal would (status 128 + signal), through `Terminated`."""
    _terminations_seen.append(signum)
    raise Terminated(signum)


def raise_interruption() -> NoReturn:
    """Raise again the interruption that a runner inside the command caught and turned
    into an exit status (`pytest.main` returns 2 on Ctrl-C): `Terminated` after SIGTERM
    or SIGHUP, else `KeyboardInterrupt`."""
    if _terminations_seen:
        raise Terminated(_terminations_seen[-1])
    raise KeyboardInterrupt


def run_cli(
    main: Callable[[Sequence[str] | None], int], prog: str, argv: Sequence[str] | None = None
) -> int:
    """Run `main(argv)` and return its exit status, ending quietly where a traceback
    would tell the user nothing: a closed stdout or stderr pipe (the rest of the output
    is dropped, the status is the work's), a full disk or a file the file system refuses
    (one line, exit 1), Ctrl-C (one
    line, exit 130; one Python could only ignore, in a garbage-collector callback, too:
    `raise_if_interrupted`). Any other error keeps its traceback: that is a bug worth
    seeing. `prog` names the command in those lines. The streams and
    `sys.unraisablehook` are put back on return. SIGTERM and SIGHUP, where nothing
    else handles them, end the command as Ctrl-C does (`Terminated`, a
    `KeyboardInterrupt`), with one line and exit status 128 + signal. Hypothesis keeps
    its files in `HYPOTHESIS_STORAGE` unless `HYPOTHESIS_STORAGE_DIRECTORY` says
    otherwise."""
    os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(HYPOTHESIS_STORAGE))
    terminations = {}
    if threading.current_thread() is threading.main_thread():
        for signum in _TERMINATIONS:
            if signal.getsignal(signum) == signal.SIG_DFL:
                terminations[signum] = signal.signal(signum, _exit_on_termination)
    stdout, stderr, unraisablehook = sys.stdout, sys.stderr, sys.unraisablehook
    sys.stdout, sys.stderr = _tolerant(stdout), _tolerant(stderr)
    _swallowed_interrupts.clear()
    _terminations_seen.clear()
    sys.unraisablehook = _noting_interrupts(unraisablehook)
    try:
        status = main(argv)
        raise_if_interrupted()
        sys.stdout.flush()
    except Terminated as termination:
        print(f"{prog}: {signal.Signals(termination.signum).name}, stopped", file=sys.stderr)
        return 128 + termination.signum
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return INTERRUPTED_EXIT_STATUS
    except OSError as err:
        if err.errno in _DISK_FULL:
            where = f" writing {err.filename}" if err.filename else ""
            print(f"{prog}: {os.strerror(err.errno)}{where}", file=sys.stderr)
            return 1
        if err.errno in _REFUSED and err.filename:  # checked at the start, refused later
            print(f"{prog}: {os.strerror(err.errno)}: {err.filename}", file=sys.stderr)
            return 1
        raise
    finally:
        sys.stdout.flush()
        sys.stdout, sys.stderr = stdout, stderr
        for stream in (stdout, stderr):  # text written to them past the wrappers, too
            _flush_or_drop(stream)
        sys.unraisablehook = unraisablehook
        _swallowed_interrupts.clear()
        for signum, handler in terminations.items():
            signal.signal(signum, handler)
    return status
