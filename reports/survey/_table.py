"""What the survey shows: the plain-text table for the terminal (`table`), its summary
line, and the JSON object written to survey.json (`report`)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from reports.output import machine_fields, provenance_fields
from reports.survey._model import Survey, SurveyRow
from reports.survey._run import NOT_INSTALLED, Outcome

__all__ = ["SCHEMA_VERSION", "report", "summary", "table"]

SCHEMA_VERSION = 1
"""The `"schema"` of the survey.json written now; bump it whenever its shape changes. Its
provenance keys (`commit`, `dirty`: `project_commit`) came later, optional: a report reads
a survey.json without them as of unknown provenance, so stale."""


def summary(outcomes: Sequence[Outcome]) -> str:
    """One line: "18 registries: 16 agree, 2 disagree" (and what did not run), as the
    report says it (`Survey.summary`)."""
    rows: list[SurveyRow] = list(outcomes)
    return Survey(rows).summary


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _found_cell(outcome: Outcome) -> str:
    if outcome.status == "not-installed":
        return NOT_INSTALLED
    if outcome.status == "error":
        return "error"
    return f"{outcome.found}"


def _judgement(outcome: Outcome) -> str:
    return {"agrees": "agrees", "disagrees": "DISAGREES"}.get(outcome.status, "")


def table(outcomes: Sequence[Outcome], width: int | None = None) -> str:
    """The survey as a plain-text table (its last column, the docs' line, cut to fit in
    `width` columns: the terminal's by default), each disagreement's story and each
    error below it, and the summary line last."""
    header = ("registry", "library", "documented", "found", "", "the docs say")
    rows = [
        (
            outcome.name,
            f"{outcome.library} {outcome.version or ''}".strip(),
            outcome.documented,
            _found_cell(outcome),
            _judgement(outcome),
            outcome.citation,
        )
        for outcome in outcomes
    ]
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(6)]
    room = (width or shutil.get_terminal_size((160, 24)).columns) - sum(widths[:5]) - 2 * 5
    widths[5] = min(widths[5], max(room, 40))
    lines = [
        "  ".join(
            _short(cell, size).ljust(size) for cell, size in zip(row, widths, strict=True)
        ).rstrip()
        for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * size for size in widths).rstrip())
    for outcome in outcomes:
        if outcome.status == "disagrees":
            first = (outcome.detail.strip().splitlines() or [""])[0]
            lines += [
                "",
                f"{outcome.name}: the docs imply {outcome.documented}, the contract found "
                f"{outcome.found}",
                f"  docs: {outcome.citation} ({outcome.url})",
                f"  {first}" if first else "  (no detail)",
                "  steps:",
                *(f"    {step}" for step in outcome.steps),
            ]
        elif outcome.status == "error":
            lines += ["", f"{outcome.name}: the contract could not judge it: {outcome.note}"]
    lines += ["", summary(outcomes)]
    return "\n".join(lines)


def report(outcomes: Sequence[Outcome], *, profile: str, command: str) -> dict[str, Any]:
    """The survey as the JSON object written to survey.json:

    `{"schema": 1, "date", "commit", "dirty", "command", "profile", "machine": {"python",
    "system", "machine"}, "registries": [row, ...], "summary": {"registries", "agree",
    "disagree", "not_installed", "errors", "line"}}`: `commit` is the project's commit
    and `dirty` whether its tree had uncommitted changes (both null without git); each row
    an `Outcome` (`name`, `library`, `version` or null, `documented`, `citation`, `url`,
    `status`, `found` or null, `examples`, `seconds`, `steps` (a list), `detail`, `note`,
    `factory`)."""
    registries = []
    for outcome in outcomes:
        row = asdict(outcome)
        row["steps"] = list(outcome.steps)
        registries.append(row)
    return {
        **provenance_fields(SCHEMA_VERSION),
        "command": command,
        "profile": profile,
        "machine": machine_fields(),
        "registries": registries,
        "summary": {
            "registries": len(outcomes),
            "agree": sum(outcome.status == "agrees" for outcome in outcomes),
            "disagree": sum(outcome.status == "disagrees" for outcome in outcomes),
            "not_installed": sum(outcome.status == "not-installed" for outcome in outcomes),
            "errors": sum(outcome.status == "error" for outcome in outcomes),
            "line": summary(outcomes),
        },
    }
