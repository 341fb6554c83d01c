"""Lesson 8: a weakly-held callback registry drops a lambda at once."""

from __future__ import annotations

import weakref
from collections.abc import Callable

from reports.lessons._lesson import Lesson, Outcome

Receiver = Callable[[str], None]


class WeakSignal:
    """A signal that connects receivers weakly, as several signal libraries do by default."""

    def __init__(self) -> None:
        self._receivers: list[weakref.ref[Receiver]] = []

    def connect(self, receiver: Receiver) -> None:
        self._receivers.append(weakref.ref(receiver))

    def send(self, message: str) -> int:
        delivered = 0
        for ref in self._receivers:
            if (receiver := ref()) is not None:
                receiver(message)
                delivered += 1
        return delivered


class StrongSignal(WeakSignal):
    """The fix: the signal owns its receivers (or the caller keeps them)."""

    def __init__(self) -> None:
        super().__init__()
        self._owned: list[Receiver] = []

    def connect(self, receiver: Receiver) -> None:
        self._owned.append(receiver)
        super().connect(receiver)


def deliver(signal: WeakSignal) -> list[str]:
    """Connect a lambda, keep no reference to it, send one message."""
    received: list[str] = []
    signal.connect(lambda message: received.append(message))
    signal.send("frame 1")
    return received


def broken() -> Outcome:
    received = deliver(WeakSignal())
    return Outcome(
        not received,
        f"messages received: {received}"
        if received
        else "the lambda was freed on connect: every message went to nobody",
    )


def fixed() -> Outcome:
    received = deliver(StrongSignal())
    return Outcome(not received, f"messages received: {received}")


LESSON = Lesson(
    name="weak-callbacks",
    title="A weakly-held callback registry",
    pitfall=(
        "A registry that holds its callbacks weakly cannot leak them. But a lambda or a "
        "bound method made on the spot has no other owner, so it is freed as soon as "
        "`connect` returns, and every event is silently delivered to nobody."
    ),
    run_broken=broken,
    run_fixed=fixed,
    broken_code=(WeakSignal,),
    fixed_code=(StrongSignal,),
)
