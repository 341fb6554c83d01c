"""Write a lesson run up as Markdown (for the terminal, a file, or the report)."""

from __future__ import annotations

from reports.lessons._lesson import LessonRun

__all__ = ["TITLE", "render_lesson", "render_markdown", "summary_line", "summary_table"]

TITLE = "# Memory-ownership lessons"
"""The heading of the lessons written up whole (`render_markdown`, `--verbose`)."""


def _fence(text: str, language: str = "") -> str:
    return f"```{language}\n{text.replace('```', chr(39) * 3).rstrip()}\n```"


def render_markdown(runs: list[LessonRun]) -> str:
    """The lessons as Markdown: pitfall, Nim and Python side by side, the code from source,
    what the contract found, and what running both halves did."""
    parts = [TITLE, ""]
    for number, run in enumerate(runs, 1):
        parts.append(render_lesson(number, run))
    return "\n".join(parts)


def render_lesson(number: int, run: LessonRun) -> str:
    """One lesson run, as a Markdown section headed `## {number}. {title}`."""
    lesson = run.lesson
    parts = [f"## {number}. {lesson.title}", "", lesson.pitfall, ""]
    if run.not_run is not None:
        return "\n".join([*parts, f"**Not run here**: {run.not_run}.", ""])
    verdict = "shown" if run.holds else "NOT SHOWN (the run did not match the claim)"
    if lesson.nim:
        parts += ["In the Nim seed:", "", _fence(lesson.nim, "nim"), ""]
    if lesson.python:
        parts += ["Its Python equivalent here:", "", _fence(lesson.python, "python"), ""]
    broken, fixed = lesson.source("broken"), lesson.source("fixed")
    if broken == fixed:
        parts += [
            "The same code runs both halves, on the broken build and on the fixed one:",
            "",
            _fence(broken, "python"),
            "",
        ]
    else:
        parts += [
            "Broken:",
            "",
            _fence(broken, "python"),
            "",
            "Fixed:",
            "",
            _fence(fixed, "python"),
            "",
        ]
    if run.contract_property:
        parts += [
            f"The contract catches it with **{run.contract_property}**, in this shortest story:",
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


def summary_line(runs: list[LessonRun]) -> str:
    """`10 lessons: 9 shown, 1 not run` (and how many were NOT shown, when any were)."""
    counts = {state: sum(run.state == state for run in runs) for state in _STATES}
    said = ", ".join(f"{count} {_STATES[state]}" for state, count in counts.items() if count)
    return f"{len(runs)} lesson{'s' if len(runs) != 1 else ''}: {said}"


def summary_table(runs: list[LessonRun], width: int = 72) -> str:
    """One line per lesson: whether it held (the broken half failed and the fixed one did
    not), what broke, and the contract property that catches it (`-` when the lesson has
    no contract run), columns aligned; long texts end in an ellipsis at `width`."""
    rows = [("lesson", "held", "what broke", "caught by")]
    for number, run in enumerate(runs, 1):
        held = {"shown": "yes", "not-shown": "NO", "not-run": "not run"}[run.state]
        broke = run.not_run if run.not_run is not None else run.broken.summary
        rows.append(
            (
                f"{number}. {run.lesson.name}",
                held,
                _clip(broke, width),
                run.contract_property or "-",
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    return "\n".join(
        "  ".join(cell.ljust(widths[i]) if i < 3 else cell for i, cell in enumerate(row)).rstrip()
        for row in rows
    )


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    cut = text[: width - 1].rsplit(" ", 1)[0]
    return f"{cut}…"


_STATES = {"shown": "shown", "not-shown": "NOT shown", "not-run": "not run"}
