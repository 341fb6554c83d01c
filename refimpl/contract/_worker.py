"""The worker process: runs the code under test, one example's program at a time, for a supervisor.

Everything that touches the store (its factory, every call, every check, the
collector passes) happens here, in a `ContractMachine`; the supervising process
only draws the steps and reads the answers. The supervisor sends each example as one
program of steps (`Run`), and the worker answers once: `Ok`, `Fail`, `Error` or
`Crash` (see `refimpl.contract._messages`, which is all it knows of the supervisor).
One round trip per example, not per step. If the worker dies, `faulthandler` has
written the stack of every thread to the file the supervisor named.
"""

from __future__ import annotations

import faulthandler
import os
import signal
import threading
from collections.abc import Callable
from contextlib import suppress
from multiprocessing.connection import Connection
from typing import Any, NoReturn

from refimpl.contract._machine import ContractMachine
from refimpl.contract._messages import (
    Answer,
    Check,
    Crash,
    Error,
    Fail,
    Ok,
    Program,
    Ready,
    Refused,
    Run,
    RunAnswer,
    Usable,
)
from refimpl.contract._probe import LIFELINE_THREAD
from refimpl.contract._target import Refused as NotDrivable
from refimpl.contract._target import open_target
from refimpl.contract._violation import PropertyFailure, Unjudged
from refimpl.support.frames import format_exception

__all__ = ["check_factory", "serve"]

DUMP_SIGNAL: int = signal.SIGRTMIN + 7 if hasattr(signal, "SIGRTMIN") else signal.SIGUSR1
"""The signal on which the worker writes every thread's stack (sent to a hung worker): a
real-time one where there are such, as code under test may take SIGUSR1 for itself (and
reset it to its default, which ends the process)."""


def check_factory(make: Callable[[], Any], mode: str) -> Usable | Refused:
    """`Usable(terms)` when what `make()` builds can be driven (a store, a mapping, an
    API: see `open_target`), else `Refused(why)`."""
    try:
        opened = open_target(make, mode)
    except NotDrivable as error:
        return Refused(str(error))
    with suppress(Exception):
        opened.close()
    return Usable(opened.terms)


def serve(
    pipe: tuple[Connection, Connection],
    lifeline: tuple[Connection, Connection],
    factory: Callable[[], Any],
    mode: str,
    names: tuple[str, ...],
    setup_line: str,
    dump: int,
    pulses: Any,
    progress: Any,
) -> None:
    """Answer the supervisor's messages on `pipe` (this end, and the supervisor's, which
    the fork copied) until it closes: `Check` (can the factory be used?) and `Run` (one
    example: a fresh machine on a fresh store, then the program's steps, with every
    check)."""
    conn, supervisors_end = pipe
    supervisors_end.close()  # this process's copy: the pipe closes when the supervisor's does
    with suppress(OSError):  # the supervisor does it too: whichever runs first
        os.setpgid(0, 0)  # a group of its own: see the supervisor
    # Forked from the caller, it has the caller's handlers (a command line's, say): the
    # store meets the signals as in a process of its own.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)
    _hold_on(*lifeline)
    faulthandler.enable(file=dump, all_threads=True)
    faulthandler.register(DUMP_SIGNAL, file=dump, all_threads=True)
    died: list[str] = []
    damaged: list[str] = []

    def on_thread_error(args: threading.ExceptHookArgs) -> None:
        name = args.thread.name if args.thread is not None else "?"
        shown = format_exception(args.exc_value, args.exc_traceback) or args.exc_type.__name__
        died.append(f"thread {name!r} died of an uncaught error:\n{shown}")

    threading.excepthook = on_thread_error
    machine_class = ContractMachine.bind(
        factory, mode=mode, setup_line=setup_line, refreeze=True, names=names
    )
    machine_class.pulses = pulses
    machine_class.in_worker = True
    try:
        conn.send(Ready())
    except OSError:  # the supervisor died while this worker started: nobody to serve
        _end()
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the supervisor is gone: so is the point of going on
            _end()
        reply: Answer
        match message:
            case Check():
                reply = check_factory(factory, mode)
            case Run(program, judged, explains):
                machine_class.judged, machine_class.explains = judged, explains
                reply = _run(machine_class, program, progress, died, damaged)
            case _:
                raise TypeError(f"the worker was sent {message!r}, which is no request")
        try:
            conn.send(reply)
        except OSError:
            _end()
        if died:
            os._exit(70)
        if damaged:  # the supervisor starts a fresh worker for the next program
            os._exit(DAMAGED)


DAMAGED = 71
"""The worker's exit status after a program in which the store freed what it did not own
(an over-release): its memory can no longer be trusted to run another program."""


def _end() -> NoReturn:
    """End this process and, when it leads its own group, every process it started: the
    supervisor is gone, or has closed the pipe."""
    if os.getpgrp() == os.getpid():  # its own group: the store's helpers are in it
        os.killpg(0, signal.SIGKILL)
    os._exit(0)


CLOSING = -1
"""`progress.value` while the store is closed after step N is `CLOSING - N`."""


def _hold_on(lifeline: Connection, supervisors_end: Connection) -> None:
    """End this process, and every process it started, as soon as the supervisor's end of
    `lifeline` closes (the supervisor stopped it, or died, even of SIGKILL), from a thread
    of its own: the main thread may be hung in the store."""
    supervisors_end.close()  # this process's copy of it: only the supervisor's may keep it open

    def wait() -> None:
        with suppress(EOFError, OSError):
            lifeline.recv()
        _end()

    threading.Thread(target=wait, name=LIFELINE_THREAD, daemon=True).start()


def _run(
    machine_class: type[ContractMachine],
    program: Program,
    progress: Any,
    died: list[str],
    damaged: list[str],
) -> RunAnswer:
    """Run one example's program: build the machine (step 0), then each step, stopping at
    the first failure. `progress.value` says which step runs, for a supervisor whose
    worker died; `damaged` gets the over-releases the program saw. Answers `Ok`, or
    what broke, at which step."""
    machine: ContractMachine | None = None
    index = 0
    try:
        progress.value = 0
        machine = machine_class()
        for index, (rule_name, arguments) in enumerate(program, 1):
            progress.value = index
            getattr(machine, rule_name)(**arguments)
            if died:
                return Crash(index, died[0])
    except PropertyFailure as failure:
        story = failure.steps if index == 0 else None  # the fresh-store check tells its own
        return Fail(index, failure.property, failure.detail, story)
    except Unjudged:  # a property this search does not judge broke first
        return Ok()
    except BaseException as error:  # the store's SystemExit, KeyboardInterrupt, ...
        return Error(index, format_exception(error))
    finally:
        if machine is not None:
            progress.value = CLOSING - index  # closing the store, after step `index`
            try:
                machine.teardown()
            finally:
                damaged.extend(machine.overreleased)
    return Crash(index, died[0]) if died else Ok()
