"""The simulated crashes: memory-safety violations that carry a sanitizer report."""

from __future__ import annotations

from typing import ClassVar

from broken_variant._report import SanitizerReport

__all__ = ["DoubleFree", "MemorySafetyViolation", "UseAfterFree", "WildPointer"]


class MemorySafetyViolation(Exception):
    """A memory-safety bug caught by the `SimulatedHeap`; `.report` holds the details.

    `fatal = True`: a plugin host does not contain it as a plugin error; it ends
    the run, as the segfault it stands for would. `str(error)` is the report.
    """

    fatal: ClassVar[bool] = True
    kind: ClassVar[str] = "memory-safety-violation"

    def __init__(self, report: SanitizerReport) -> None:
        self.report = report
        super().__init__(report.format())


class UseAfterFree(MemorySafetyViolation):
    """A pointer was followed to memory that was freed (or, in sanitize mode, reused)."""

    kind = "heap-use-after-free"


class DoubleFree(MemorySafetyViolation):
    """Memory was freed explicitly after it had already been freed."""

    kind = "double-free"


class WildPointer(MemorySafetyViolation):
    """A pointer to an address this heap never allocated."""

    kind = "SEGV on unknown address"
