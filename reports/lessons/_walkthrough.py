"""A lesson run as the terminal shows it (`python -m reports.lessons --verbose`): prose, the
Nim original, each half's code with what it did when run, the few lines without the
harness, and the contract's story, each of the story's words explained where it first
appears."""

from __future__ import annotations

from collections.abc import Iterable

from reports.lessons._glossary import explain, story_lines, words_in
from reports.lessons._lesson import LessonRun
from reports.lessons._source import location, owner, shown_object
from reports.lessons._terminal import Block

__all__ = ["FULL_FLAG", "INTRODUCTION", "PROG", "Walkthrough", "describe_runs"]

FULL_FLAG = "--full"
"""The flag that shows each fixed half whole, not only the lines that fix it."""

INTRODUCTION = (
    "Each lesson shows a memory-ownership pitfall: the Nim it comes from (the seed: the "
    "Nim plugin host this project was born from, which kept each plugin's state as a raw "
    "pointer and crashed), the broken code and what it did when run just now, the fix and "
    "what it did, and the contract's verdict. The contract runs random stories of store, "
    "fetch and remove steps against a store, checks a few properties after each step, and "
    "shrinks the first story that breaks one to its shortest: the lesson shows the property "
    "it catches the bug with, and that story."
)
"""What the walkthrough says before its first lesson."""

PROG = "python -m reports.lessons"
"""The walkthrough's command, as its texts name it."""


class Walkthrough:
    """Blocks for each lesson run in turn. The story's words (`state.`, `keep=`, each step)
    are explained once: all those of the first story at that story, and any new word of a
    later story at that one."""

    def __init__(self, *, full: bool = False) -> None:
        self.full = full
        self.explained: set[str] = set()

    def lesson(self, number: int, run: LessonRun) -> list[Block]:
        """The blocks of one lesson run, its title first."""
        lesson = run.lesson
        blocks = [Block("title", f"{number}. {lesson.title}"), Block("text", lesson.pitfall)]
        if run.not_run is not None:
            return [*blocks, Block("text", f"Not run here: {run.not_run}.")]
        if lesson.nim:
            blocks += [Block("heading", "In the Nim seed:"), Block("code", lesson.nim, "nim")]
        if lesson.python:
            blocks += [
                Block("heading", "Its Python equivalent here:"),
                Block("code", lesson.python, "python"),
            ]
        blocks += self._halves(run)
        if lesson.reproduction is not None:
            blocks += self._reproduction(run)
        blocks += self._contract(run)
        blocks += [Block("text", note) for note in lesson.notes]
        blocks.append(Block("heading", f"Verdict: {run.verdict}."))
        return blocks

    def _halves(self, run: LessonRun) -> list[Block]:
        lesson = run.lesson
        broken, fixed = lesson.source("broken"), lesson.source("fixed", full=self.full)
        if broken == fixed:
            return [
                Block("heading", f"The same code runs both halves ({_where(lesson.broken_code)}):"),
                Block("code", broken, "python"),
                *_ran("Broken, run live", run.broken.summary, run.broken.output),
                *_ran("Fixed, run live", run.fixed.summary, run.fixed.output),
            ]
        whole = lesson.source("fixed", full=True) == fixed
        said = (
            "The fixed half"
            if whole
            else f"The fixed half, only the lines that fix it (all of it: {PROG} "
            f"{FULL_FLAG} {lesson.name})"
        )
        return [
            Block("heading", f"The broken half runs {describe_runs(lesson.broken_code)}:"),
            Block("code", broken, "python"),
            *_ran("Run live", run.broken.summary, run.broken.output),
            Block("heading", f"{said}:"),
            Block("code", fixed, "python"),
            *_ran("Run live", run.fixed.summary, run.fixed.output),
        ]

    def _reproduction(self, run: LessonRun) -> list[Block]:
        lesson, library = run.lesson, run.lesson.library
        name = library.installed() if library else "the library"
        return [
            Block("heading", f"Without the harness, {name} alone:"),
            Block("code", lesson.reproduction_source or "", "python"),
            Block("text", f"Run live, it returned: {run.reproduced}"),
        ]

    def _contract(self, run: LessonRun) -> list[Block]:
        if run.lesson.contract is None:
            return []
        if not run.contract_steps:
            return [Block("heading", "The contract found nothing wrong with this store.")]
        blocks = [
            Block(
                "heading",
                f"The contract catches it with {run.contract_property}, in this shortest story:",
            ),
            Block("code", "\n".join(story_lines(run.contract_steps)), "python"),
        ]
        words = words_in(run.contract_steps, run.contract_property)
        new = [word for word in words if word not in self.explained]
        if new:
            first = not self.explained
            self.explained.update(new)
            heading = "How to read a story:" if first else "New in this story:"
            blocks += [Block("heading", heading), Block("terms", terms=tuple(explain(new)))]
        return blocks


def _ran(label: str, summary: str, output: str) -> list[Block]:
    blocks = [Block("text", f"{label}: {summary}")]
    return blocks + ([Block("code", output)] if output else [])


def describe_runs(shown: Iterable[object]) -> str:
    """What a half runs: `this code of UntrackedStore (broken_variant/_store.py)`, or
    `fire_and_forget (reports/lessons/asyncio_tasks.py)` for a function."""
    items = list(shown)
    owners = ", ".join(dict.fromkeys(owner(item) for item in items))
    first = shown_object(items[0])
    is_part = isinstance(first, type) or "." in getattr(first, "__qualname__", "")
    return f"{'this code of ' if is_part else ''}{owners} ({_where(items)})"


def _where(shown: Iterable[object]) -> str:
    return ", ".join(dict.fromkeys(location(item).rsplit(":", 1)[0] for item in shown))
