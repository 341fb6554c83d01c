"""How a walkthrough ends: a table of the lessons that fits in `MAX_WIDTH` columns (long
texts wrap within their column, nothing is cut), what its columns mean, and one line in
plain words."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from reports.lessons._lesson import LessonRun
from reports.lessons._terminal import MAX_WIDTH

__all__ = ["COLUMNS", "LEGEND", "summary_line", "summary_table"]

COLUMNS = ("lesson", "bug shown", "fix held", "what the bug did", "caught by")
"""The closing table's columns; `what the bug did` is the one that wraps."""
LEGEND = (
    "bug shown: the broken half failed as the lesson says. fix held: the fixed half did "
    "not. caught by: the contract's property that catches the bug, '-' where the bug is not "
    "in a store or API the contract runs on."
)
"""What the closing table's columns mean, said under it."""
_GAP = "  "
_WRAPPED = COLUMNS.index("what the bug did")


def _cells(number: str, run: LessonRun) -> tuple[str, ...]:
    name = f"{number}. {run.lesson.name}"
    if run.not_run is not None:
        return (name, "-", "-", f"not run here: {run.not_run}", "-")
    yes = {True: "yes", False: "NO"}
    caught = run.contract_property or ("nothing" if run.lesson.contract else "-")
    return (name, yes[run.broken.failed], yes[not run.fixed.failed], run.broken.summary, caught)


def summary_table(
    runs: Sequence[LessonRun], width: int = MAX_WIDTH, numbers: Sequence[int] | None = None
) -> str:
    """One row per lesson under `COLUMNS`: its number (from `numbers`, else 1, 2, ...) and
    name, whether its bug showed and its fix held, what the broken half did (or why the
    lesson did not run), and the property the contract caught it with. No line is longer
    than `width`: `what the bug did` wraps within its column (a word too long for it is
    split), the other columns are as wide as their widest cell."""
    numbers = numbers or range(1, len(runs) + 1)
    digits = len(str(max(numbers, default=1)))
    numbered = zip(numbers, runs, strict=True)
    rows = [COLUMNS, *(_cells(str(number).rjust(digits), run) for number, run in numbered)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(COLUMNS))]
    fixed = sum(w for column, w in enumerate(widths) if column != _WRAPPED)
    widths[_WRAPPED] = max(12, width - fixed - len(_GAP) * (len(COLUMNS) - 1))
    lines = []
    for row in rows:
        wrapped = textwrap.wrap(
            " ".join(row[_WRAPPED].split()), widths[_WRAPPED], break_on_hyphens=False
        ) or [""]
        for n, part in enumerate(wrapped):
            cells = [cell if n == 0 else "" for cell in row]
            cells[_WRAPPED] = part
            line = _GAP.join(cell.ljust(widths[column]) for column, cell in enumerate(cells))
            lines.append(line.rstrip())
    return "\n".join(lines)


def summary_line(runs: Sequence[LessonRun]) -> str:
    """The walkthrough's last line, in plain words: `All 12 lessons ran: in each, the bug
    showed and the fix held.`, or how many did, which did not show what they claim and
    which could not run here."""
    shown = [run.lesson.name for run in runs if run.state == "shown"]
    failed = [run.lesson.name for run in runs if run.state == "not-shown"]
    not_run = [run.lesson.name for run in runs if run.state == "not-run"]
    total = len(runs)
    if not runs:
        return "No lesson ran."
    if len(shown) == total:
        if total == 1:
            return "The lesson ran: the bug showed and the fix held."
        return f"All {total} lessons ran: in each, the bug showed and the fix held."
    said = [f"{len(shown)} of {total} lessons showed their bug and their fix"]
    if failed:
        said.append(f"{len(failed)} did NOT show what it claims: {', '.join(failed)}")
    if not_run:
        said.append(f"{len(not_run)} could not run here: {', '.join(not_run)} (why: above)")
    return "; ".join(said) + "."
