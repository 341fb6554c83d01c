"""survey.json as data: each registry's row (`SurveyRow`) and the whole survey (`Survey`),
read back from JSON with every field checked; what `make survey` writes and the report
shows."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from reports.output import anchor, commit_id, first_line, http_link

__all__ = ["SURVEY_STATUSES", "Survey", "SurveyRow"]

SURVEY_STATUSES: Final = ("agrees", "disagrees", "not-installed", "error")
"""What the survey can say of a registry: its docs and the contract agree or disagree, its
library is not installed, or the contract could not judge it."""


@dataclass(frozen=True, slots=True)
class SurveyRow:
    """One registry of survey.json (`make survey`): what its docs promise (`documented`,
    the `citation` found at `url`) and what the contract found; `status` is one of
    `SURVEY_STATUSES`. `steps` and `detail` are a disagreement's evidence."""

    name: str
    library: str
    version: str | None
    documented: str
    citation: str
    url: str
    status: str
    found: str | None = None
    examples: int = 0
    seconds: float = 0.0
    steps: tuple[str, ...] = ()
    detail: str = ""
    note: str = ""

    @property
    def link(self) -> str | None:
        """`url` when it may be a link (`http_link`), else None."""
        return http_link(self.url)

    @property
    def diagnosis(self) -> str:
        """The first line of `detail` that says something: what the contract saw."""
        return first_line(self.detail)


@dataclass(frozen=True, slots=True)
class Survey:
    """survey.json, as the report shows it: each registry and where the survey came from."""

    rows: list[SurveyRow]
    date: str = ""
    command: str = "make survey"
    profile: str = ""
    commit: str | None = None
    dirty: bool | None = None

    @property
    def summary(self) -> str:
        """One line: "3 registries: 1 agrees, 1 disagrees, 1 not installed"."""
        counts = {status: sum(row.status == status for row in self.rows) for status in
                  SURVEY_STATUSES}  # fmt: skip
        parts = [
            f"{counts['agrees']} {'agrees' if counts['agrees'] == 1 else 'agree'}",
            f"{counts['disagrees']} {'disagrees' if counts['disagrees'] == 1 else 'disagree'}",
        ]
        if counts["not-installed"]:
            parts.append(f"{counts['not-installed']} not installed")
        if counts["error"]:
            parts.append(f"{counts['error']} {'error' if counts['error'] == 1 else 'errors'}")
        total = len(self.rows)
        return f"{total} {'registry' if total == 1 else 'registries'}: {', '.join(parts)}"

    def anchor(self, index: int) -> str:
        """An id for the evidence of row `index`, unique per row."""
        return anchor("survey", f"{index} {self.rows[index].name}")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Survey:
        """The survey in `data` (survey.json, as `reports.survey.report` writes it).
        Raises `ValueError` saying what is wrong when it is not one."""
        rows = data.get("registries")
        if not isinstance(rows, list):
            raise ValueError("has no list of registries")
        return cls(
            rows=[_survey_row(row, number) for number, row in enumerate(rows)],
            date=_field(data, "date", str, ""),
            command=_field(data, "command", str, "make survey"),
            profile=_field(data, "profile", str, ""),
            commit=commit_id(data.get("commit")),
            dirty=data["dirty"] if isinstance(data.get("dirty"), bool) else None,
        )


_MISSING: Any = object()


def _field(data: Mapping[str, Any], key: str, kind: type, default: Any = _MISSING) -> Any:
    """`data[key]` when it is a `kind` (an int counts as a float), `default` when the key is
    absent or null; `ValueError` when it is something else, or absent with no default."""
    value = data.get(key)
    if value is None:
        if default is _MISSING:
            raise ValueError(f"{key} is missing")
        return default
    if kind is float and type(value) in (int, float):
        return float(value)
    if type(value) is kind:
        return value
    raise ValueError(f"{key} is a {type(value).__name__}, not a {kind.__name__}")


def _survey_row(row: object, number: int) -> SurveyRow:
    if not isinstance(row, dict):
        raise ValueError(f"registry {number} is not an object")
    try:
        status = _field(row, "status", str)
        if status not in SURVEY_STATUSES:
            raise ValueError(f"status is not one of {', '.join(SURVEY_STATUSES)}")
        steps = _field(row, "steps", list, [])
        if not all(isinstance(step, str) for step in steps):
            raise ValueError("steps are not all text")
        examples, seconds = _field(row, "examples", int, 0), _field(row, "seconds", float, 0.0)
        if examples < 0 or not 0 <= seconds < math.inf:
            raise ValueError("examples or seconds is not a count")
        return SurveyRow(
            name=_field(row, "name", str),
            library=_field(row, "library", str),
            version=_field(row, "version", str, None),
            documented=_field(row, "documented", str),
            citation=_field(row, "citation", str),
            url=_field(row, "url", str),
            status=status,
            found=_field(row, "found", str, None),
            examples=examples,
            seconds=seconds,
            steps=tuple(steps),
            detail=_field(row, "detail", str, ""),
            note=_field(row, "note", str, ""),
        )
    except ValueError as error:
        raise ValueError(f"registry {number}: {error}") from None
