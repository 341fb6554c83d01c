"""Sanitizer-style reports: what was accessed, and where it was accessed, freed and allocated."""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from refimpl.support.frames import is_harness_code

__all__ = ["SanitizerReport", "StackFrame", "capture_stack"]

_PROJECT_ROOT = Path(__file__).resolve().parent.parent
_HEAP_FILES = frozenset({str(Path(__file__).with_name("_heap.py"))})
MAX_FRAMES = 8


@dataclass(frozen=True, slots=True)
class StackFrame:
    """One line of a stack: the function and its `file:line` (project files relative)."""

    function: str
    filename: str
    lineno: int

    def __str__(self) -> str:
        return f"in {self.function} {self.filename}:{self.lineno}"


def _display_path(filename: str) -> str:
    try:
        return Path(filename).resolve().relative_to(_PROJECT_ROOT).as_posix()
    except ValueError:
        return filename


def capture_stack(frame: FrameType | None = None) -> tuple[StackFrame, ...]:
    """Return the caller's stack, innermost first, without the heap's own frames.

    At most `MAX_FRAMES` frames, as a sanitizer prints the top of a stack. Frames of the
    harness that drives the code (the contract, Hypothesis, pytest, multiprocessing:
    `refimpl.support.frames.is_harness_code`) are left out, so the stack shows the store's and
    the user's code; when the harness alone was on the stack (the contract dropped the
    last reference itself), its innermost frame is kept, so the stack still says where.
    """
    frame = frame if frame is not None else sys._getframe(1)
    frames: list[StackFrame] = []
    innermost: StackFrame | None = None
    while frame is not None and len(frames) < MAX_FRAMES:
        code = frame.f_code
        if code.co_filename not in _HEAP_FILES:
            shown = StackFrame(code.co_name, _display_path(code.co_filename), frame.f_lineno)
            innermost = innermost or shown
            if not is_harness_code(code):
                frames.append(shown)
        frame = frame.f_back
    return tuple(frames) if frames or innermost is None else (innermost,)


def thread_name() -> str:
    """The current thread's name, as a report shows it."""
    return threading.current_thread().name


@dataclass(frozen=True, slots=True)
class SanitizerReport:
    """A memory-safety report as data, formatted like AddressSanitizer's.

    `kind` is `heap-use-after-free`, `double-free` or `SEGV on unknown address`;
    `accessed` says what the memory held, `via` which pointer was used, `access`,
    `freed` and `allocated` are stacks, innermost first (empty when unknown).
    """

    kind: str
    address: int
    accessed: str
    via: str
    access: tuple[StackFrame, ...]
    freed: tuple[StackFrame, ...]
    allocated: tuple[StackFrame, ...]
    thread: str = "MainThread"
    note: str = ""

    def format(self) -> str:
        """Return the report as text, headed by its kind, ending in a SUMMARY line."""
        addr = f"{self.address:#x}"
        if self.kind == "double-free":
            head = f"attempting double-free on {addr} in thread {self.thread}:"
        else:
            head = f"{self.kind} on address {addr}"
        lines = ["=" * 65, f"==ERROR: SimulatedHeap: {head}"]
        if self.kind != "double-free":
            lines.append(f"READ of {self.accessed} at {addr} thread {self.thread}")
        lines += _stack(self.access)
        if self.via:
            lines.append(f"via {self.via}")
        if self.freed or self.allocated:
            lines.append(f"{addr} is the address of {self.accessed}, which was freed")
        if self.freed:
            lines += ["freed here:", *_stack(self.freed)]
        if self.allocated:
            lines += ["previously allocated here:", *_stack(self.allocated)]
        if self.note:
            lines.append(self.note)
        top = self.access[0] if self.access else None
        where = f" {top.filename}:{top.lineno} in {top.function}" if top else ""
        lines.append(f"SUMMARY: SimulatedHeap: {self.kind}{where}")
        return "\n".join(lines)


def _stack(frames: tuple[StackFrame, ...]) -> list[str]:
    return [f"    #{i} {frame}" for i, frame in enumerate(frames)]
