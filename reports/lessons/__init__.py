"""Memory-ownership pitfalls, each shown failing and fixed, live.

`LESSONS` is the catalogue, in teaching order (`lesson_named` finds one);
`python -m reports.lessons` walks through it in the terminal (`--list`, `--verbose`,
`--full`, or lesson names to run some) and writes it as notebooks (`--notebooks`);
`render_markdown` writes it up from a live run.
"""

from reports.lessons import (
    address_reuse,
    asyncio_tasks,
    blinker_disconnect,
    ctypes_uaf,
    cycles,
    double_free,
    leak,
    real_thing,
    unchecked_downcast,
    untracked_pointer,
    weak_callbacks,
    zope_utility,
)
from reports.lessons._glossary import explain, explain_story, story_lines, words_in
from reports.lessons._lesson import (
    CONTRACT_EXAMPLES,
    REQUIRE_NATIVE,
    ContractCheck,
    Lesson,
    LessonRun,
    Outcome,
    contract_settings,
    native_missing,
)
from reports.lessons._library import LESSONS_WITHOUT, Library
from reports.lessons._render import render_markdown
from reports.lessons._source import Excerpt

LESSONS: tuple[Lesson, ...] = (
    untracked_pointer.LESSON,
    address_reuse.LESSON,
    unchecked_downcast.LESSON,
    double_free.LESSON,
    leak.LESSON,
    cycles.LESSON,
    asyncio_tasks.LESSON,
    weak_callbacks.LESSON,
    blinker_disconnect.LESSON,
    zope_utility.LESSON,
    ctypes_uaf.LESSON,
    real_thing.LESSON,
)
"""Every lesson, in the order they are taught."""


def lesson_named(name: str) -> Lesson:
    """The lesson called `name` (`untracked-pointer`); `KeyError` naming the choices when
    there is none."""
    for lesson in LESSONS:
        if lesson.name == name:
            return lesson
    choices = ", ".join(lesson.name for lesson in LESSONS)
    raise KeyError(f"no lesson {name!r}; choose from {choices}")


__all__ = [
    "CONTRACT_EXAMPLES",
    "LESSONS",
    "LESSONS_WITHOUT",
    "REQUIRE_NATIVE",
    "ContractCheck",
    "Excerpt",
    "Lesson",
    "LessonRun",
    "Library",
    "Outcome",
    "contract_settings",
    "explain",
    "explain_story",
    "lesson_named",
    "native_missing",
    "render_markdown",
    "story_lines",
    "words_in",
]
