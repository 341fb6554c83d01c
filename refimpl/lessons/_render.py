"""Write a lesson run up as Markdown (for the terminal, a file, or the report)."""

from __future__ import annotations

from refimpl.lessons._lesson import LessonRun

__all__ = ["render_markdown"]


def _fence(text: str, language: str = "") -> str:
    return f"```{language}\n{text.replace('```', chr(39) * 3).rstrip()}\n```"


def render_markdown(runs: list[LessonRun]) -> str:
    """The lessons as Markdown: pitfall, Nim and Python side by side, the code from source,
    what the contract found, and what running both halves did."""
    parts = ["# Memory-ownership lessons", ""]
    for number, run in enumerate(runs, 1):
        lesson = run.lesson
        if run.not_run is not None:
            parts += [
                f"## {number}. {lesson.title}",
                "",
                lesson.pitfall,
                "",
                f"**Not run here**: {run.not_run}.",
                "",
            ]
            continue
        verdict = "shown" if run.holds else "NOT SHOWN (the run did not match the claim)"
        parts += [f"## {number}. {lesson.title}", "", lesson.pitfall, ""]
        if lesson.nim:
            parts += ["In the Nim seed:", "", _fence(lesson.nim, "nim"), ""]
        if lesson.python:
            parts += ["Its Python equivalent here:", "", _fence(lesson.python, "python"), ""]
        parts += [
            "Broken:",
            "",
            _fence(lesson.source("broken"), "python"),
            "",
            "Fixed:",
            "",
            _fence(lesson.source("fixed"), "python"),
            "",
        ]
        if run.contract_property:
            parts += [
                f"The contract catches it with **{run.contract_property}**, in this "
                "shortest story:",
                "",
                _fence("\n".join(run.contract_steps), "python"),
                "",
            ]
        parts += [
            f"Run live ({verdict}):",
            "",
            f"- broken: {run.broken.summary}",
            f"- fixed: {run.fixed.summary}",
            "",
        ]
        if run.broken.output:
            parts += [_fence(run.broken.output), ""]
        parts += list(lesson.notes) + ([""] if lesson.notes else [])
    return "\n".join(parts)
