"""What a report says, as plain data: environment, verdicts per implementation, sessions,
lessons, and the files other commands leave beside it (bench.json, native.json,
survey.json), each judged current or stale against the commit the report ran on."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import reports.native
from reports.lessons import explain, story_lines, words_in
from reports.output import anchor
from reports.report._diagnosis import diagnosis_of
from reports.report._freshness import EXTRAS, Freshness, freshness
from reports.report._native import native_cell, native_verdict
from reports.survey import Survey

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
]

SCHEMA_VERSION = 5
"""Bumped whenever report.json changes shape; `reports/report/report.schema.json` describes it.
3: the environment's `commit` and `dirty`, `survey`, and `extras` (current or stale).
4: each lesson's `timings`; each session's `crashed_at` and `crash`.
5: `generator`, which tells `python -m reports` that it wrote the file it may replace."""


LessonState = Literal["shown", "not-shown", "not-run"]


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

    @builtins.property  # (`property` is a field's name here)
    def diagnosis(self) -> str:
        """What went wrong in one sentence, the first of `detail` (which starts with what
        was expected and what the store did), with what holds the object when the detail
        says so on its next line: what a reader sees first, before the evidence.

        >>> Violation("released", (), "it is alive.\\nheld by: S._h -> list[0]\\n",
        ...           None, None).diagnosis
        'It is alive, held by S._h -> list[0].'
        """
        return diagnosis_of(self.detail)


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

    @property
    def escaped(self) -> bool:
        """A mutant no property caught."""
        return self.kind == "mutant" and self.violation is None

    def shown(self, prop: str) -> tuple[str, str]:
        """How the matrix shows `prop` for this row: a class (its colour) and a label.

        A fixed implementation: `held` (green) or `violated` (red). A mutant is judged
        by the property it declares: `caught` (green) when broken there, `ESCAPED` (red)
        when not, `not reached` (red) when another property caught it first; where it
        broke another property, `violated` (red); its other properties are plain, since
        a mutant holding them says nothing. Grey, as the cell says: not judged, not
        applicable. Classes `caught`, `violated` and `escaped` link to the evidence."""
        cell = self.cells.get(prop, "")
        if self.kind == "mutant" and prop == self.expected:
            if cell == "violated":
                return "caught", "caught"
            if cell == "held":
                return "escaped", "ESCAPED"
            if cell == "not-judged" and self.violation is not None:
                return "escaped", "not reached"
            return "escaped", cell
        if cell == "violated":
            return "violated", "violated"
        if cell == "held":
            return ("held" if self.kind == "fixed" else "plain"), "held"
        if cell in ("not-judged", "not-applicable"):
            return cell, cell.replace("-", " ")
        return "plain", cell


@dataclass(frozen=True, slots=True)
class Session:
    """A short run of one host: live contexts and the counter on screen, per frame; for a
    host that crashed, the frame it died in (the last of `frames`) and why, in a few words."""

    host: str
    description: str
    frames: list[int]
    live_contexts: list[int]
    counter: list[int | None]
    outcome: str
    crashed_at: int | None = None
    crash: str | None = None  # "heap-use-after-free on a PluginContext[...], freed in init"


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
    nim: str | None = None  # the seed's Nim the lesson starts from, when it has one
    python: str | None = None  # its Python equivalent in this project
    notes: tuple[str, ...] = ()  # what else it says (`Lesson.notes`), a paragraph each
    seconds: float | None = None  # how long its run took (both halves, the contract's)
    story: tuple[str, ...] = ()  # the contract's shortest story (`LessonRun.contract_steps`)
    reproduction: str | None = None  # a library lesson's few lines without the harness
    reproduced: str = ""  # what those lines returned, live
    library: str | None = None  # the library they run, with its version: "blinker 1.9.0"

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

    @property
    def story_text(self) -> str:
        """The story as runnable Python, each step under the comment that says what it
        does ("" when the contract has none)."""
        return "\n".join(story_lines(self.story))

    @property
    def glossary(self) -> list[tuple[str, str]]:
        """Each word of the story (the property it caught the bug with, `state.`, an
        argument, a step) with what it means."""
        return explain(words_in(self.story, self.contract_property))


@dataclass(frozen=True, slots=True)
class Environment:
    """Everything needed to reproduce the report."""

    python: str
    platform: str
    packages: dict[str, str]
    hypothesis: dict[str, Any]
    command: str
    commit: str | None = None  # the project's commit (`project_commit`); None: unknown
    dirty: bool | None = None  # whether the tree had changes the commit does not name


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
    survey: Survey | None = None
    date: str = ""  # when the report was made (UTC, ISO 8601); report.json's timings.date
    left_out: Mapping[str, str] = field(default_factory=dict)
    """Why an extra file beside the report was left out, by name ("native": "has schema
    version 1, this report reads version 2"): it is there, and the report cannot use it."""

    @property
    def profile(self) -> str:
        """The Hypothesis profile the contract ran on, or "" when not recorded."""
        name = self.environment.hypothesis.get("profile")
        return name if isinstance(name, str) else ""

    @property
    def nim(self) -> str:
        """The Nim compilers of native.json, in a few words, or why there are none."""
        if self.native is None:
            if "native" in self.left_out:
                return f"unknown (native.json left out: it {self.left_out['native']})"
            return "not run (no native.json beside this report: make native)"
        compilers = self.native.get("compilers")
        if not isinstance(compilers, list) or not compilers:
            return "unknown (native.json names no compiler)"
        said = []
        for compiler in compilers:
            if isinstance(compiler, Mapping):
                origin = compiler.get("origin")
                said.append(f"{compiler.get('version')}" + (f" ({origin})" if origin else ""))
        stale = " (from a stale native.json)" if self.freshness("native").stale else ""
        return ", ".join(said) + stale

    @property
    def native_summary(self) -> str:
        """The native verdicts in one line: how many broken builds showed the bug, how
        many ran on silently, how many fixed builds ran clean, how many did not run."""
        ran = [(cell.get("host"), verdict) for cell, _, verdict, _ in self.native_rows]
        broken = [verdict for host, verdict in ran if host == "broken" and verdict != "not-run"]
        fixed = [verdict for host, verdict in ran if host == "fixed" and verdict != "not-run"]
        said = (
            f"Broken builds: {broken.count('caught')} of {len(broken)} show the bug, "
            f"{broken.count('missed')} ran on silently (missed). "
            f"Fixed builds: {fixed.count('held')} of {len(fixed)} clean"
        )
        not_run = sum(verdict == "not-run" for _, verdict in ran)
        return said + (f"; {not_run} not run." if not_run else ".")

    @property
    def native_rows(self) -> list[tuple[Mapping[str, Any], str, str, str]]:
        """Each cell of native.json with what was expected of it, and the verdict's class
        and label (`native_verdict`)."""
        if self.native is None:
            return []
        frames = self.native.get("frames")
        cells = self.native.get("cells")
        return [
            (cell, *native_verdict(cell, frames))
            for cell in (cells if isinstance(cells, list) else [])
            if isinstance(cell, Mapping)
        ]

    @property
    def native_differences(self) -> list[str] | None:
        """Where the compilers' outcomes differ, one line per host/mm/checker, as `make
        native` prints them (`reports.native`); None when the cells of native.json are of
        fewer than two compilers. A cell not of native.json's shape is left out."""

        if self.native is None or not isinstance(self.native.get("cells"), list):
            return None
        cells = [native_cell(cell) for cell in self.native["cells"]]
        usable = [cell for cell in cells if cell is not None]
        if len({cell.compiler for cell in usable}) < 2:
            return None
        return reports.native.compiler_differences(usable)  # looked up at each call

    def freshness(self, name: str) -> Freshness:
        """Whether the extra file `name` ("bench", "native", "survey") beside this report
        comes from the commit the report ran on (see `freshness`)."""
        data: Survey | Mapping[str, Any] | None = {
            "bench": self.bench, "native": self.native, "survey": self.survey,
        }[name]  # fmt: skip
        if data is None:
            why = self.left_out.get(name)
            if why is not None:
                reason = f"{name}.json {why}: left out of this report; rerun make {name}"
                return Freshness(name, present=False, stale=None, reason=reason, unusable=why)
            return Freshness(name, present=False, stale=None, reason=f"no {name}.json")
        if isinstance(data, Survey):
            recorded, dirty = data.commit, data.dirty
        else:
            recorded, dirty = data.get("commit"), data.get("dirty")
        return freshness(name, recorded, dirty, self.environment.commit)

    @property
    def extras(self) -> dict[str, Freshness]:
        """`freshness` of each of `EXTRAS`."""
        return {name: self.freshness(name) for name in EXTRAS}

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
