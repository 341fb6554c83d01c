"""Look at what a store answers for a context that is already dead, without risking the run.

A store that keeps a raw address (say, through `ctypes`) and is asked for a dead
context reads freed memory, which can corrupt or crash the interpreter. The
probe runs in a forked child, so the worst it can do is kill the child; a child
that does not answer within `LIMIT_SECONDS` is killed, and one whose parent is gone
ends itself (it never outlives its worker, holding the user's terminal or pipe).
Where forking is unsafe (other threads alive: the child would have no copy of them,
and a store served by one would wait for it forever) or impossible, the evidence
says "not probed".
"""

from __future__ import annotations

import ctypes
import faulthandler
import os
import select
import signal
import threading
from collections.abc import Callable
from contextlib import suppress

from refimpl.contract._evidence import describe, describe_error

__all__ = ["probe"]

LIFELINE_THREAD = "contract-lifeline"
"""The isolating worker's own thread (it ends the worker with its supervisor): not the
store's, so it does not stop the probe from forking."""
LIMIT = 1 << 16
LIMIT_SECONDS = 1.0
_SLICE = 0.05
_PR_SET_PDEATHSIG = 1


def probe(
    call: Callable[[], object],
    render: Callable[[object], str] = describe,
    waiting: Callable[[], None] = lambda: None,
) -> str:
    """Return what `call()` did (`returned` and its result as `render` says it, or the
    error it raised, with any sanitizer report), run in a forked child; say so if it
    crashed the child. `waiting()` is called every few hundredths of a second while the
    child has not answered (the worker stamps its pulse: the child has its own limit)."""
    if not hasattr(os, "fork"):
        return "(not probed: this platform cannot fork)"
    others = [t for t in threading.enumerate() if t is not threading.current_thread()]
    if any(thread.name != LIFELINE_THREAD for thread in others):
        return "(not probed: other threads are alive, and a forked child would have none of them)"
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: answer through the pipe, then leave at once
        try:
            os.close(reader)
            _end_with_parent()
            faulthandler.disable()  # a crash here is the answer, not something to dump
            try:
                answer = f"returned {render(call())}"
            except BaseException as error:  # anything it raises is the answer
                answer = f"raised {describe_error(error)}"
            os.write(writer, answer.encode("utf-8", "replace")[:LIMIT])
        finally:
            os._exit(0)
    os.close(writer)
    chunks = []
    with os.fdopen(reader, "rb") as pipe:
        for _ in range(round(LIMIT_SECONDS / _SLICE)):
            if select.select([pipe], [], [], _SLICE)[0]:
                chunks.append(pipe.read())
                break
            waiting()
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return f"(not probed: no answer within {LIMIT_SECONDS:g} s)"
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        return (
            f"crashed the process with signal {number} ({signal.Signals(number).name}): "
            "the store followed a pointer to freed memory"
        )
    return b"".join(chunks).decode("utf-8", "replace") or "(the probe said nothing)"


def _end_with_parent() -> None:
    """In the child: die when the parent does (Linux's parent-death signal), and in any
    case soon after the parent would have given up on it (an alarm)."""
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.alarm(int(LIMIT_SECONDS) + 2)
    with suppress(AttributeError, OSError):  # not Linux: the alarm alone
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() == 1:  # the parent died before the signal was asked for
        os._exit(0)
