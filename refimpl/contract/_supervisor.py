"""The supervisor: starts the worker that runs the code under test, asks it, and says how it died.

How the worker gets the factory. Every worker is forked from the calling process,
so the store is built by the very factory object the caller passed, whatever its kind
(a named function, a class, a lambda, a closure, a bound method, a
`functools.partial`), in the state the caller's process has (module attributes,
monkeypatches, the environment, `sys.path`, modules loaded from files). A restart
after a crash costs a fork, not an interpreter. The limit of forking: of the caller's
threads, only the forking one runs in the worker (CPython 3.12 warns about it), so a
lock another thread held at that moment stays held there.

The worker is a process group of its own, and ending a worker ends its whole group:
a helper process the store started does not outlive it, a signal the store sends to
its own group cannot reach the caller, and a terminal's Ctrl-C reaches the caller
only (which then ends its worker). Its dump file is removed as soon as it is made
(both processes keep it open): nothing is left in the temporary folder, however the
run ends.

A worker that dies or stops answering is a `Died`: how (a signal, an exit
status, or no answer within the time limit) and what `faulthandler` wrote.

Shrinking a hang meets it again and again, each time in a new program. Waiting out
the limit each time would make a hanging store cost minutes, so once a hang has been
seen the worker's stacks are looked at early: a call found blocked where the store
hung before (the same frames of the code under test, innermost first) is judged hung
at once.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import tempfile
import time
from collections.abc import Callable
from contextlib import suppress
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as wait_for
from typing import Any

from refimpl.contract._messages import Answer, Request
from refimpl.contract._worker import DUMP_SIGNAL, serve
from refimpl.support.frames import CONTRACT_DIR, WORKER_ENTRY, is_harness

__all__ = ["Died", "Worker"]

START_LIMIT = 120.0
"""Seconds a new worker may take to import the contract and the factory."""
MAX_THREAD_FRAMES = 12
"""Frames kept of each thread's stack in a dump, innermost first."""
QUICK_LOOK = 0.05
"""Once a hang has been seen, seconds after which a running call's stacks are looked at,
to judge at once a call blocked where the store hung before (see `hang_site`)."""
DEATH_LOOK = 0.05
"""Seconds between looks at whether a worker that has not answered has ended."""
_FRAME = re.compile(r'^[ \t]*File "(?P<file>[^"]*)", line \d+ in \S+', re.MULTILINE)


class Died(Exception):
    """The worker ended, or did not answer in time: `how` says which, `dump` what
    `faulthandler` wrote (every thread's stack), `hung` whether it was a hang, `step`
    the step of the program it was running, `served` how many messages it had answered
    before (0: it died on the first, so nothing earlier can have damaged it), `code` its
    exit code (negative: the signal that killed it; None: unknown)."""

    def __init__(
        self, how: str, dump: str, hung: bool, step: int, served: int = 0, code: int | None = None
    ) -> None:
        super().__init__(how)
        self.how = how
        self.dump = dump
        self.hung = hung
        self.step = step
        self.served = served
        self.code = code


class Worker:
    """One worker process at a time, for one contract run; restarted after it dies.

    `timeout` is how long one call into the code under test may take (`None`: no
    limit). The worker stamps the start of each call; the supervisor gives up when
    the running call has lasted `timeout` seconds, so a slow store whose calls each
    end in time passes, however long a step takes. Once a hang has been seen,
    shrinking will meet it again and again: from then on a call still running after
    0.05 s has its stacks looked at: blocked where the store hung before, it is judged
    hung at once. A reproduced hang thus costs a twentieth of a second, not `timeout`
    each time. Every other call keeps the whole `timeout`, so a call made slow by a busy
    machine (a fresh worker's first collection, say) is never judged a hang. The limit
    of this: a store that has hung, and whose calls sometimes wait more than 0.05 s at
    the very place where it hung, may have a slow call there judged a hang while its
    story is shrunk.
    """

    def __init__(
        self,
        target: Callable[[], Any],
        *,
        mode: str,
        setup_line: str,
        timeout: float | None,
        names: tuple[str, ...],
    ) -> None:
        self.context: Any = multiprocessing.get_context("fork")
        self.target = target
        self.mode = mode
        self.names = names
        self.setup_line = setup_line
        self.timeout = timeout
        self.pulses = self.context.RawValue("d", 0.0)
        self.progress = self.context.RawValue("i", 0)
        self.process: Any = None
        self.conn: Connection | None = None
        self._lifeline: Connection | None = None
        self.dump: int | None = None
        """The worker's dump file (already removed), as a descriptor both processes hold."""
        self._dump_from = 0
        self.hung_before = False
        self.first_wait = 0.0
        """The limit the first hang was judged by."""
        self.hang_sites: set[tuple[str, ...]] = set()
        """Where the code under test was blocked when it hung (see `hang_site`)."""
        self.hangs: dict[tuple[str, ...], Died] = {}
        """The steps (as spelled) after which the worker hung, so a replay of them during
        shrinking is judged at once (the code under test is taken to be deterministic)."""
        self.restarts = 0
        self.served = 0
        """Messages the running worker answered (the factory check, programs): see
        `Died.served`."""

    def ask(self, message: Request) -> Answer:
        """Send `message` and return the worker's answer; raise `Died` if it ends or hangs."""
        self.post(message)
        answer = self.answer(block=True)
        assert answer is not None
        return answer

    def post(self, message: Request) -> None:
        """Send `message` without waiting (starting a worker if none runs); a dead worker
        is found by `answer`."""
        if self.conn is None:
            self._start()
        assert self.conn is not None
        with suppress(OSError):
            self.conn.send(message)

    def answer(self, *, block: bool) -> Answer | None:
        """The next answer, in the order of the messages; `None` if not `block` and there is
        none yet, or if no worker runs. Raises `Died` if the worker ends or hangs."""
        if self.conn is None:
            return None
        if not block and not self.conn.poll(0):
            return None
        answer = self._answer(self.wait())
        self.served += 1
        return answer

    def wait(self) -> float | None:
        """Seconds to wait for a call: `timeout`, whether or not a hang was seen (a call
        blocked where the store hung before is judged at once: see `_answer`)."""
        return self.timeout

    def _answer(self, wait: float | None, *, look: bool = True) -> Answer:
        assert self.conn is not None
        started = time.monotonic()
        looked_at = None
        while True:
            # The worker stamps `pulses` with the monotonic clock (system-wide) as each call
            # into the code under test starts: the one running now may take `wait` seconds.
            call = max(started, self.pulses.value)
            if wait is None:
                self._ready(None)
                break
            until = call + wait
            early = look and bool(self.hang_sites) and looked_at != call
            if early:
                until = min(until, call + QUICK_LOOK)
            if self._ready(max(0.0, until - time.monotonic())):
                break
            if max(started, self.pulses.value) != call:
                continue  # a new call started meanwhile: it has its own time
            if call + wait <= time.monotonic():
                raise self._hang(wait)
            if early:
                looked_at = call
                seen = self._look()
                if hang_site(seen) in self.hang_sites:
                    raise self._hang(wait, seen=seen, after=time.monotonic() - call)
        # Raised outside the handler: Hypothesis tells failures apart by their whole
        # context chain, and the worker's death reads as EOFError or ConnectionResetError.
        answer: Answer | None = None
        with suppress(EOFError, OSError):
            answer = self.conn.recv()
        if answer is None:
            raise self._died()
        return answer

    def _ready(self, timeout: float | None) -> bool:
        """Wait up to `timeout` seconds for an answer; True once there is one. Raises
        `Died` as soon as the worker has ended: a child process it started may hold its
        end of the pipe open, so the pipe alone would only say so at the time limit."""
        assert self.conn is not None
        assert self.process is not None
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = DEATH_LOOK if deadline is None else max(0.0, deadline - time.monotonic())
            ready = wait_for([self.conn, self.process.sentinel], min(left, DEATH_LOOK))
            if self.conn in ready:
                return True
            # The sentinel too may be held open by such a child (a forked worker's): the
            # exit code is asked of the process itself.
            if ready or self.process.exitcode is not None:
                raise self._died()
            if deadline is not None and time.monotonic() >= deadline:
                return False

    def _start(self) -> None:
        self.restarts += 1
        self.served = 0
        self.dump, path = tempfile.mkstemp(prefix="contract-worker-", suffix=".txt")
        os.unlink(path)
        self._dump_from = 0
        mine, theirs = self.context.Pipe()
        # The worker's lifeline: it ends the worker when this process is gone, however it
        # went (even SIGKILL), though the worker's main thread be hung in the store.
        lifeline, held = self.context.Pipe(duplex=False)
        args = (
            (theirs, mine),
            (lifeline, held),
            self.target,
            self.mode,
            self.names,
            self.setup_line,
            self.dump,
            self.pulses,
            self.progress,
        )
        process = self.context.Process(target=serve, args=args, daemon=True)
        process.start()  # raises where no process can be started: then there is none
        self.process = process
        with suppress(OSError):  # the worker does it too: whichever runs first
            os.setpgid(process.pid, process.pid)
        theirs.close()
        lifeline.close()
        self._lifeline = held
        self.conn = mine
        self._answer(START_LIMIT, look=False)

    def _hang(self, wait: float, *, seen: str | None = None, after: float = 0.0) -> Died:
        """Kill the hung worker, with its stacks: `seen` when just looked at (`after`
        seconds into the call, blocked where it hung before), else asked for now."""
        if not self.hung_before:
            self.first_wait = wait
        self.hung_before = True
        if seen is None:
            seen = self._look()
        site = hang_site(seen)
        if site:
            self.hang_sites.add(site)
        shortened = (
            f"; the limit is {self.timeout:g} s, shortened once it had hung"
            if self.timeout is not None and wait < self.timeout
            else ""
        )
        how = (
            f"the call hung: blocked where an earlier call had given no answer within "
            f"{self.first_wait:g} s, so judged hung after {after:.2g} s, without waiting that out"
            if after
            else f"no answer within {wait:.3g} s (the call hung{shortened})"
        )
        return self._died(how, hung=True)

    def _look(self) -> str:
        """Have the worker write every thread's stack (`DUMP_SIGNAL`) and return what it
        wrote; "" if it wrote nothing within a second."""
        if self.process is None or self.process.pid is None or self.dump is None:
            return ""
        before = self._dump_size()
        with suppress(ProcessLookupError):
            os.kill(self.process.pid, DUMP_SIGNAL)
        deadline = time.monotonic() + 1.0
        size = before
        while time.monotonic() < deadline:
            time.sleep(0.005)
            now = self._dump_size()
            if now > before and now == size:  # it grew, then stopped growing: written
                break
            size = now
        self._dump_from = before
        return self._dump()

    def _dump_size(self) -> int:
        return os.fstat(self.dump).st_size if self.dump is not None else 0

    def _dump(self) -> str:
        """What the worker wrote to its dump file since the last look began."""
        if self.dump is None:
            return ""
        size = self._dump_size() - self._dump_from
        # pread: the worker writes at the offset both processes share, which a read would move
        return os.pread(self.dump, max(0, size), self._dump_from).decode("utf-8", "replace")

    def _died(self, how: str | None = None, hung: bool = False) -> Died:
        process = self.process
        if process is not None:
            if hung:
                _kill_group(process.pid)
            process.join(5.0)
            if process.exitcode is None:
                _kill_group(process.pid)
                process.join()
            _kill_group(process.pid)  # what the store started, which outlived the worker
        code = process.exitcode if process is not None else None
        if how is None:
            how = _exit_story(code)
        dump = innermost_frames(self._dump())
        self._forget()
        return Died(how, dump, hung, self.progress.value, self.served, code)

    def _forget(self) -> None:
        if self._lifeline is not None:
            self._lifeline.close()
            self._lifeline = None
        if self.conn is not None:
            self.conn.close()
        if self.dump is not None:
            os.close(self.dump)
        self.conn = self.process = self.dump = None

    def close(self) -> None:
        """Stop the worker (if one runs) and remove its files."""
        process = self.process
        if process is not None:
            if self.conn is not None:
                self.conn.close()
            process.join(1.0)
            _kill_group(process.pid)  # the worker, if still running, and its helpers
            process.join()
        self._forget()


def innermost_frames(dump: str, keep: int = MAX_THREAD_FRAMES) -> str:
    """`dump` (what `faulthandler` wrote) as its reader needs it: without the harness's
    frames (`is_harness`: the contract, Hypothesis, multiprocessing), without a thread
    that ran nothing else (the worker's lifeline) unless it is the current one, and each
    thread's stack cut to its `keep` innermost frames, with a line saying how many more
    there were: where a thread is matters, not how deep the caller's stack went."""
    shown: list[str] = []
    for block in dump.strip().split("\n\n"):
        lines = block.splitlines()
        entry = next((n for n, line in enumerate(lines) if _is_worker_entry(line)), None)
        if entry is not None:  # below it: the caller's frames, copied by the fork
            lines = lines[: entry + 1]
        files = {n: m.group("file") for n, line in enumerate(lines) if (m := _FRAME.match(line))}
        harness = {n for n, file in files.items() if is_harness(file)}
        if files and files[max(files)] == "<string>":  # outermost: how the worker started
            harness.add(max(files))
        if files and harness == set(files):
            if not lines[0].startswith("Current thread"):
                continue
            lines.append("  (only the harness's frames)")
        lines = [line for n, line in enumerate(lines) if n not in harness]
        frames = [n for n, line in enumerate(lines) if _FRAME.match(line)]
        if len(frames) > keep:
            cut = frames[keep]
            rest = len(frames) - keep
            lines = [*lines[:cut], f"  ... {rest} outer frame{'s' if rest > 1 else ''}"]
        shown.append("\n".join(lines))
    return "\n\n".join(shown)


def _is_worker_entry(line: str) -> bool:
    """Whether the dump's `line` is a frame of `WORKER_ENTRY`."""
    match = _FRAME.match(line)
    return (
        match is not None
        and line.rstrip().endswith(f" in {WORKER_ENTRY[1]}")
        and os.path.abspath(match.group("file")) == WORKER_ENTRY[0]
    )


def hang_site(dump: str) -> tuple[str, ...]:
    """Where the worker's main thread is, in a `faulthandler` dump of every thread: the
    frames of the code under test, innermost first, down to the first of the contract's
    own; `()` when the main thread is in the contract itself, or not in the dump."""
    for block in dump.split("\n\n"):
        frames = list(_FRAME.finditer(block))
        if not any(m.group(0).endswith(" in serve") for m in frames):
            continue
        site: list[str] = []
        for match in frames:
            if os.path.dirname(os.path.abspath(match.group("file"))) == CONTRACT_DIR:
                break
            site.append(match.group(0).strip())
        return tuple(site)
    return ()


def _kill_group(pid: int) -> None:
    """SIGKILL the process group the worker `pid` leads: the worker, if it runs, and any
    process it started. (Its number is not reused while a member lives.)"""
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _exit_story(code: int | None) -> str:
    """How a process with exit code `code` (negative: a signal) ended."""
    if code is None:
        return "the worker could not be stopped"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = "unknown signal"
        return f"killed by signal {-code} ({name})"
    return f"exited with status {code}"
