"""What a report says, as plain data: environment, verdicts per implementation, sessions."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "SCHEMA_VERSION",
    "Environment",
    "Findings",
    "Graph",
    "Implementation",
    "LessonResult",
    "LessonState",
    "Session",
    "Violation",
    "anchor",
]

SCHEMA_VERSION = 2
"""Bumped whenever report.json changes shape; `reports/report.schema.json` describes it."""

LessonState = Literal["shown", "not-shown", "not-run"]


def anchor(prefix: str, name: str) -> str:
    """An HTML id for `name`: its ASCII letters and digits (readable), then a hash of the
    exact name (unique), so names that read alike never share one.

    >>> anchor("impl", "a b") != anchor("impl", "a-b")
    True
    >>> anchor("impl", "a b")
    'impl-a-b-c8687a08aa'
    """
    slug = "".join(c if c.isascii() and c.isalnum() else "-" for c in name[:40])
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{prefix}-{slug}-{digest}"


@dataclass(frozen=True, slots=True)
class Violation:
    """A broken property: the shrunk steps, the diagnostic, the sanitizer report in it
    (if any) and what probing the dead entry showed (volatile: it depends on what the
    freed memory held)."""

    property: str
    steps: tuple[str, ...]
    detail: str
    sanitizer_report: str | None
    probe: str | None


@dataclass(frozen=True, slots=True)
class Implementation:
    """One row of the matrix: a fixed implementation or a mutant, and its verdicts.

    `cells` maps each property to `held` (it held on every step the contract
    ran), `violated`, or `not-judged` (the run stopped at an earlier violation).
    """

    name: str
    kind: str  # "fixed" or "mutant"
    target: str  # "store" or "api"
    factory: str
    bug: str
    expected: str | None  # the property a mutant declares; None for a fixed one
    cells: dict[str, str]
    violation: Violation | None
    examples: int
    first_failure_examples: int | None
    seconds: float
    first_failure_seconds: float | None

    @property
    def as_expected(self) -> bool:
        if self.expected is None:
            return self.violation is None
        return self.violation is not None and self.violation.property == self.expected

    @property
    def anchor(self) -> str:
        """An id for links to this implementation's evidence, unique per name."""
        return anchor("impl", self.name)


@dataclass(frozen=True, slots=True)
class Session:
    """A short run of one host: live contexts and the counter on screen, per frame."""

    host: str
    description: str
    frames: list[int]
    live_contexts: list[int]
    counter: list[int | None]
    outcome: str


@dataclass(frozen=True, slots=True)
class Graph:
    """An ownership picture: its DOT source and, when a renderer was found, its SVG."""

    title: str
    caption: str
    dot: str
    svg: str | None
    renderer: str


@dataclass(frozen=True, slots=True)
class LessonResult:
    """A lesson as run for the report: its claim, both halves' outcomes, the contract's word.

    `not_run` is why the lesson could not run here (its toolchain is missing), or `None`;
    a lesson that did not run neither holds nor fails.
    """

    name: str
    title: str
    pitfall: str
    holds: bool
    broken: str
    fixed: str
    contract_property: str | None
    broken_source: str
    fixed_source: str
    not_run: str | None = None

    @property
    def state(self) -> LessonState:
        """`shown` (it holds), `not-shown` (it ran and did not) or `not-run`."""
        if self.not_run is not None:
            return "not-run"
        return "shown" if self.holds else "not-shown"

    @property
    def anchor(self) -> str:
        """An id for this lesson's section, unique per name."""
        return anchor("lesson", self.name)


@dataclass(frozen=True, slots=True)
class Environment:
    """Everything needed to reproduce the report."""

    python: str
    platform: str
    packages: dict[str, str]
    hypothesis: dict[str, Any]
    command: str


@dataclass(frozen=True, slots=True)
class Findings:
    """The whole report, before rendering."""

    environment: Environment
    properties: tuple[str, ...]
    implementations: list[Implementation]
    sessions: list[Session] = field(default_factory=list)
    graphs: list[Graph] = field(default_factory=list)
    plot_svg: str | None = None
    lessons: list[LessonResult] = field(default_factory=list)
    bench: dict[str, Any] | None = None
    native: dict[str, Any] | None = None

    @property
    def problems(self) -> list[str]:
        """Why the run is not green, one sentence each (empty when it is)."""
        found = []
        for impl in self.implementations:
            if impl.as_expected:
                continue
            if impl.expected is None:
                broken = impl.violation.property if impl.violation else "?"
                found.append(f"the fixed {impl.name} broke {broken}")
            elif impl.violation is None:
                found.append(f"mutant {impl.name} escaped: {impl.expected} should catch it")
            else:
                found.append(
                    f"mutant {impl.name} was caught by {impl.violation.property}, "
                    f"not by {impl.expected}"
                )
        found += [
            f"lesson {lesson.name} did not show what it claims"
            for lesson in self.lessons
            if lesson.state == "not-shown"
        ]
        return found

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def summary(self) -> str:
        fixed = [i for i in self.implementations if i.kind == "fixed"]
        mutants = [i for i in self.implementations if i.kind == "mutant"]
        fixed_ok = sum(i.as_expected for i in fixed)
        caught = sum(i.as_expected for i in mutants)
        said = (
            f"{fixed_ok} of {len(fixed)} fixed implementations hold every property; "
            f"{caught} of {len(mutants)} mutants are caught by the property they declare"
        )
        if self.lessons:
            shown = sum(lesson.state == "shown" for lesson in self.lessons)
            said += f"; {shown} of {len(self.lessons)} lessons show what they claim"
            not_run = [lesson.name for lesson in self.lessons if lesson.state == "not-run"]
            if not_run:
                said += f" ({', '.join(not_run)} not run here)"
        return said + "."
