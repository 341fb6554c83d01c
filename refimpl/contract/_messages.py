"""The protocol between a supervisor and its worker: each message a small named record.

Both sides import this module and nothing of each other's: the worker knows the
protocol, not the supervisor. A request is `Check` or `Run`; the worker announces
itself with `Ready`, answers a `Check` with `Usable` or `Refused`, and a `Run` with
`Ok`, `Fail`, `Error` or `Crash`. Every answer to a run that names a step counts the
factory call as step 0 and the program's steps from 1. Records pickle (they cross a
pipe) and are frozen: an answer is read by field name, never by position.

Example:

    >>> Fail(step=2, property="survival", detail="...", story=None).property
    'survival'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "Answer",
    "Check",
    "Crash",
    "Error",
    "Fail",
    "Ok",
    "Program",
    "Ready",
    "Refused",
    "Request",
    "Run",
    "RunAnswer",
    "Usable",
]

Program = list[tuple[str, dict[str, Any]]]
"""One example's steps, in order: each a rule's name and its keyword arguments."""


@dataclass(frozen=True)
class Check:
    """Can the worker's factory be driven (a store, a mapping, an API)? Answered by
    `Usable` or `Refused`."""


@dataclass(frozen=True)
class Run:
    """Run one example: a fresh machine on a fresh store, then `program`, with every check.
    Answered by `Ok`, `Fail`, `Error` or `Crash`."""

    program: Program
    judged: tuple[str, ...]
    """The properties this search judges (see `ContractMachine.judged`)."""
    explains: bool
    """Whether this program's failure is the one reported, so that who holds a leaked
    context is worked out (see `refimpl.contract._properties.explaining`)."""


@dataclass(frozen=True)
class Ready:
    """The worker has started and waits for requests."""


@dataclass(frozen=True)
class Usable:
    """The factory's target can be driven; it is spoken of in `terms` (see
    `refimpl.contract._target.abilities`)."""

    terms: str


@dataclass(frozen=True)
class Refused:
    """The factory's target cannot be driven, for the reason `why`."""

    why: str


@dataclass(frozen=True)
class Ok:
    """The program ran, and every judged property held (or one not judged broke first)."""


@dataclass(frozen=True)
class Fail:
    """`property` broke at `step`, as `detail` says; `story` is the worker's own telling
    of the steps where it has one (a store not fresh when built), else `None`."""

    step: int
    property: str
    detail: str
    story: tuple[str, ...] | None


@dataclass(frozen=True)
class Error:
    """The code under test raised at `step` what the contract cannot judge (`SystemExit`,
    say); `text` is the formatted exception."""

    step: int
    text: str


@dataclass(frozen=True)
class Crash:
    """A thread of the code under test died of an uncaught error during `step`, as `text`
    says; the worker then ends."""

    step: int
    text: str


Request = Check | Run
"""What a supervisor sends."""
RunAnswer = Ok | Fail | Error | Crash
"""What a worker answers to a `Run`."""
Answer = Ready | Usable | Refused | RunAnswer
"""What a worker sends."""
