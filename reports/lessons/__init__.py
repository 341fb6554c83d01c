"""Memory-ownership pitfalls, each shown failing and fixed, live.

`LESSONS` is the catalogue, in teaching order; `python -m reports.lessons`
walks through it (`--list`, or lesson names to run some), and `render_markdown`
writes it up from a live run.
"""

from reports.lessons import (
    address_reuse,
    asyncio_tasks,
    ctypes_uaf,
    cycles,
    double_free,
    leak,
    real_thing,
    unchecked_downcast,
    untracked_pointer,
    weak_callbacks,
)
from reports.lessons._lesson import (
    REQUIRE_NATIVE,
    ContractCheck,
    Lesson,
    LessonRun,
    Outcome,
    native_missing,
)
from reports.lessons._render import render_markdown

LESSONS: tuple[Lesson, ...] = (
    untracked_pointer.LESSON,
    address_reuse.LESSON,
    unchecked_downcast.LESSON,
    double_free.LESSON,
    leak.LESSON,
    cycles.LESSON,
    asyncio_tasks.LESSON,
    weak_callbacks.LESSON,
    ctypes_uaf.LESSON,
    real_thing.LESSON,
)
"""Every lesson, in the order they are taught."""

__all__ = [
    "LESSONS",
    "REQUIRE_NATIVE",
    "ContractCheck",
    "Lesson",
    "LessonRun",
    "Outcome",
    "native_missing",
    "render_markdown",
]
