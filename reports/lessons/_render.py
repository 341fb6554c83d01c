"""Write a lesson run up as Markdown, for a file (`render_markdown`); the terminal has its
own text (`_walkthrough`), never Markdown."""

from __future__ import annotations

from collections.abc import Sequence

from reports.lessons._glossary import explain, story_lines, words_in
from reports.lessons._lesson import LessonRun

__all__ = ["TITLE", "fence", "render_lesson", "render_markdown"]

TITLE = "# Memory-ownership lessons"
"""The heading of the lessons written up whole (`render_markdown`)."""


def fence(text: str, language: str = "") -> str:
    """`text` in a Markdown code fence (a fence inside it made harmless)."""
    return f"```{language}\n{text.replace('```', chr(39) * 3).rstrip()}\n```"


def render_markdown(runs: Sequence[LessonRun]) -> str:
    """The lessons as Markdown: pitfall, Nim and Python side by side, the code from source,
    what running both halves did, and the contract's story with its words explained."""
    parts = [TITLE, ""]
    for number, run in enumerate(runs, 1):
        parts.append(render_lesson(number, run))
    return "\n".join(parts)


def render_lesson(number: int, run: LessonRun) -> str:
    """One lesson run, as a Markdown section headed `## {number}. {title}`."""
    lesson = run.lesson
    parts = [f"## {number}. {lesson.title}", "", lesson.pitfall, ""]
    if run.not_run is not None:
        return "\n".join([*parts, f"Not run here: {run.not_run}.", ""])
    if lesson.nim:
        parts += ["In the Nim seed:", "", fence(lesson.nim, "nim"), ""]
    if lesson.python:
        parts += ["Its Python equivalent here:", "", fence(lesson.python, "python"), ""]
    broken, fixed = lesson.source("broken"), lesson.source("fixed")
    if broken == fixed:
        parts += ["The same code runs both halves:", "", fence(broken, "python"), ""]
    else:
        parts += [
            "Broken:",
            "",
            fence(broken, "python"),
            "",
            "Fixed:",
            "",
            fence(fixed, "python"),
            "",
        ]
    parts += [
        f"- broken, run live: {run.broken.summary}",
        f"- fixed, run live: {run.fixed.summary}",
    ]
    if run.reproduced:
        parts.append(f"- without the harness: {run.reproduced}")
    parts.append("")
    if run.broken.output:
        parts += [fence(run.broken.output), ""]
    if run.contract_property:
        parts += [
            f"The contract catches it with `{run.contract_property}`, in this shortest story:",
            "",
            fence("\n".join(story_lines(run.contract_steps)), "python"),
            "",
            *(
                f"- `{word}`: {meaning}"
                for word, meaning in explain(words_in(run.contract_steps, run.contract_property))
            ),
            "",
        ]
    parts += [*lesson.notes, "", f"Verdict: {run.verdict}.", ""]
    return "\n".join(parts)
