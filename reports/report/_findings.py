"""What a report says, as plain data: environment, verdicts per implementation, sessions,
and the files other commands leave beside it (bench.json, native.json, survey.json), each
judged current or stale against the commit the report ran on."""

from __future__ import annotations

import builtins
import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from reports.native import Abort, Cell, Report, compiler_differences
from reports.output import commit_id

__all__ = [
    "EXTRAS",
    "SCHEMA_VERSION",
    "SURVEY_STATUSES",
    "Environment",
    "Findings",
    "Freshness",
    "Graph",
    "Implementation",
    "LessonResult",
    "LessonState",
    "Session",
    "Survey",
    "SurveyRow",
    "Violation",
    "anchor",
    "bench_from_json",
    "first_line",
    "freshness",
    "http_link",
    "native_from_json",
    "native_verdict",
]

SCHEMA_VERSION = 3
"""Bumped whenever report.json changes shape; `reports/report/report.schema.json` describes it.
3: the environment's `commit` and `dirty`, `survey`, and `extras` (current or stale)."""

EXTRAS: Final = ("bench", "native", "survey")
"""The files other commands write beside the report (`make bench`, ...), by name."""
SURVEY_STATUSES: Final = ("agrees", "disagrees", "not-installed", "error")
_SENTENCE_END = re.compile(r"(?<=[a-z0-9'\")\]][.!?])\s+(?=[A-Z'\"])")
_RULE = re.compile(r"=+")
_WORD = re.compile(r"[a-z]+(?=[ ,:;])")
_DURING_STEP = re.compile(r"during step (?P<number>\d+): (?P<code>.*?)(?:\s+#\s*(?P<call>.*))?")
_LINK = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[A-Za-z0-9._~:/?#@!$&()*+,;=%-]*)?")

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


def diagnosis_of(detail: str) -> str:
    """The first sentence of the first line of `detail` that says something (a sanitizer
    report's `====` rule says nothing), capitalized; a listing it introduces ("...; freed
    at:") is left to the full evidence, and a `held by:` line right after it joins it. A
    crash's `during step N: <code>  # <call>` line right after it joins it as "during
    step N (<call>)", unless the first line already says during which step.

    >>> diagnosis_of("the worker: exited with status 0\\n"
    ...              "during step 2: state.remove(name='a')  # del store['a']\\n")
    "The worker: exited with status 0, during step 2 (del store['a'])."
    """
    lines = [line.strip() for line in detail.splitlines()]
    said = [(n, line) for n, line in enumerate(lines) if line and not _RULE.fullmatch(line)]
    if not said:
        return ""
    number, first = said[0]
    sentence = _SENTENCE_END.split(first, maxsplit=1)[0]
    if sentence.endswith(":") and "; " in sentence:
        sentence = sentence.rsplit("; ", 1)[0]
    sentence = sentence.rstrip(" :")
    following = lines[number + 1] if number + 1 < len(lines) else ""
    if sentence == first.rstrip(" :") and following.startswith("held by:"):
        held = following.removeprefix("held by:").strip()
        sentence = f"{sentence.rstrip('.')}, held by {held}"
    during = _DURING_STEP.fullmatch(following)
    if during and "during step" not in first:  # a crash: the call it died in
        call = (during["call"] or during["code"]).strip()
        sentence = f"{sentence.rstrip('.')}, during step {during['number']} ({call})"
    if sentence[-1:] not in (".", "!", "?"):
        sentence += "."
    if _WORD.match(sentence):  # "the context ..." -> "The context ...", not "Get_context(...)"
        sentence = sentence[:1].upper() + sentence[1:]
    return sentence


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
    nim: str | None = None  # the seed's Nim the lesson starts from, when it has one
    python: str | None = None  # its Python equivalent in this project
    notes: tuple[str, ...] = ()  # what else it says (`Lesson.notes`), a paragraph each

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
        cells = [_native_cell(cell) for cell in self.native["cells"]]
        usable = [cell for cell in cells if cell is not None]
        if len({cell.compiler for cell in usable}) < 2:
            return None
        return compiler_differences(usable)

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


def native_verdict(cell: Mapping[str, Any], frames: object) -> tuple[str, str, str]:
    """What a native.json cell was expected to do, and the verdict on what it did: its
    class (the matrix's colours) and label.

    A broken build is expected to show the bug (a crash, a sanitizer report, an abort, a
    defect, a failing exit or a wrong count): it is `caught` (green) when it does, `missed`
    (amber) when it ran to a clean `Frame: N` anyway. A fixed build is expected to print
    `Frame: N` and exit 0 with nothing reported: `held` (green), else `violated` (red)."""
    clean_screen = f"Frame: {frames}"
    if cell.get("not_run"):
        return "-", "not-run", "not run"
    host = cell.get("host")
    silent = (
        cell.get("exit_status") == 0
        and not cell.get("signal")
        and not cell.get("report")
        and not cell.get("abort")
        and not cell.get("defect")
    )
    clean = silent and cell.get("frame_line") == clean_screen
    if host == "fixed":
        expected = f"exit 0, {clean_screen}, nothing reported"
        return (expected, "held", "clean") if clean else (expected, "violated", "FAILED")
    if host == "broken":
        expected = "fails or reports the bug"
        if clean:
            return expected, "missed", "missed: ran on silently"
        if cell.get("report"):
            shown = "reported"
        elif cell.get("abort"):
            shown = "aborted"
        elif cell.get("signal"):
            shown = "crashed"
        elif silent:
            shown = "wrong count"
        else:
            shown = "failed"
        return expected, "caught", f"caught: {shown}"
    return "-", "not-applicable", "unknown host"


# -- the files beside the report, and where they came from -----------------------------


def first_line(text: str) -> str:
    """The first line of `text` that is not blank, stripped; "" when there is none."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def http_link(url: str) -> str | None:
    """`url` when it may be a link on the page: an absolute `http://` or `https://`
    address made only of the characters RFC 3986 allows (no quote, space, angle bracket,
    backslash or control character; no user name), else None: anything else (a
    `javascript:` or `data:` address, a relative one) is shown as text, never linked."""
    return url if _LINK.fullmatch(url) else None


@dataclass(frozen=True, slots=True)
class Freshness:
    """Whether an extra file beside the report (bench.json, native.json, survey.json) comes
    from the commit the report ran on.

    `stale` is None when there is no such file, False when it names this commit, True
    otherwise: another commit, or provenance unknown (the file names no commit, or git
    cannot name the report's); `reason` says which in one line. `commit` and `dirty` are
    what the file records (None when it does not say)."""

    name: str
    present: bool
    stale: bool | None
    reason: str
    commit: str | None = None
    dirty: bool | None = None
    unusable: str | None = None  # why a file that is there was left out (`reason` says it)

    @property
    def file(self) -> str:
        return f"{self.name}.json"

    @property
    def command(self) -> str:
        return f"make {self.name}"


def freshness(name: str, recorded: object, dirty: object, current: str | None) -> Freshness:
    """Judge the extra file `name`, which records `recorded` as its commit and `dirty`,
    against `current`, the commit the report ran on (None when git cannot say)."""
    commit = commit_id(recorded)
    dirty = dirty if isinstance(dirty, bool) else None
    here = commit_id(current)
    rerun = f"rerun make {name}"
    if here is None:
        was = f" (the file is from commit {commit[:7]})" if commit else ""
        reason = (
            f"provenance unknown: git cannot name the commit this report ran on{was}; "
            f"if the code changed since, {rerun}"
        )
    elif commit is None:
        reason = f"provenance unknown: the file names no commit it came from: {rerun}"
    elif commit != here:
        reason = f"from commit {commit[:7]}, not the current {here[:7]}: {rerun}"
    else:
        changes = " (written with uncommitted changes)" if dirty else ""
        reason = f"from commit {commit[:7]}, the current one{changes}"
        return Freshness(name, True, False, reason, commit, dirty)
    return Freshness(name, True, True, reason, commit, dirty)


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


# -- bench.json and native.json, as the report shows them ------------------------------


def _present(data: Mapping[str, Any], key: str, *kinds: type) -> Any:
    """`data[key]`, which must be there (null included when `kinds` has `type(None)`) and of
    one of `kinds` (an int counts as a float, a bool as neither); `ValueError` otherwise."""
    if key not in data:
        raise ValueError(f"{key} is missing")
    value = data[key]
    if type(value) in kinds or (float in kinds and type(value) is int):
        return value
    said = " or ".join("null" if kind is type(None) else kind.__name__ for kind in kinds)
    raise ValueError(f"{key} is a {type(value).__name__}, not a {said}")


def _texts(data: Mapping[str, Any], key: str, *, required: bool = True) -> list[str]:
    """`data[key]`, a list of texts (absent or null: empty, when not `required`)."""
    if not required and data.get(key) is None:
        return []
    value = _present(data, key, list)
    if not all(isinstance(item, str) for item in value):
        raise ValueError(f"{key} is not all text")
    return list(value)


def _objects(data: Mapping[str, Any], key: str, what: str) -> list[Mapping[str, Any]]:
    """`data[key]`, a list of JSON objects; `ValueError` naming the first that is not."""
    rows = _present(data, key, list)
    for number, row in enumerate(rows):
        if not isinstance(row, dict):
            raise ValueError(f"{what} {number} is not an object")
    return list(rows)


def bench_from_json(data: Mapping[str, Any]) -> dict[str, Any]:
    """`data` (bench.json, as `reports.bench` writes it) when it has every field the report
    shows: `date`, `machine.cpu` and `machine.python`, each operation's `operation`,
    `implementation`, `median_ns` and `ratio_to_floor`, each target's `target`, `value`
    (null: not measured), `limit` and `met`. Raises `ValueError` saying what is wrong."""
    _present(data, "date", str)
    machine = _present(data, "machine", dict)
    try:
        _present(machine, "cpu", str)
        _present(machine, "python", str)
    except ValueError as error:
        raise ValueError(f"machine: {error}") from None
    for key, what, fields in (
        ("operations", "operation", (("operation", (str,)), ("implementation", (str,)),
                                     ("median_ns", (float,)), ("ratio_to_floor", (float,)))),
        ("targets", "target", (("target", (str,)), ("value", (float, type(None))),
                               ("limit", (float,)), ("met", (bool,)))),
    ):  # fmt: skip
        for number, row in enumerate(_objects(data, key, what)):
            try:
                for name, kinds in fields:
                    _present(row, name, *kinds)
            except ValueError as error:
                raise ValueError(f"{what} {number}: {error}") from None
    return dict(data)


def native_from_json(data: Mapping[str, Any]) -> dict[str, Any]:
    """`data` (native.json, as `reports.native` writes it) when it has every field the
    report shows: `frames`, and each cell's `host`, `mm`, `checker`, `exit_status`,
    `signal`, `frame_line` and `report` (null, or its `kind`, `access` and `freed`), with
    `compiler`, `abort` (its `message` and `kind`), `defect` and `not_run` when there.
    Raises `ValueError` saying what is wrong."""
    _present(data, "frames", int)
    for number, cell in enumerate(_objects(data, "cells", "cell")):
        try:
            _cell_fields(cell)
        except ValueError as error:
            raise ValueError(f"cell {number}: {error}") from None
    return dict(data)


def _cell_fields(cell: Mapping[str, Any]) -> None:
    """Check one native.json cell (see `native_from_json`)."""
    for name in ("host", "mm", "checker"):
        _present(cell, name, str)
    _present(cell, "exit_status", int, type(None))
    for name in ("signal", "frame_line"):
        _present(cell, name, str, type(None))
    for name in ("compiler", "defect", "not_run"):
        if cell.get(name) is not None:
            _present(cell, name, str)
    report = _present(cell, "report", dict, type(None))
    abort = cell.get("abort")
    try:
        if report is not None:
            _present(report, "kind", str)
            _texts(report, "access")
            _texts(report, "freed")
            _texts(report, "allocated", required=False)
    except ValueError as error:
        raise ValueError(f"report: {error}") from None
    try:
        if abort is not None:
            _present(cell, "abort", dict)
            _present(abort, "message", str)
            _present(abort, "kind", str)
            _texts(abort, "where", required=False)
    except ValueError as error:
        raise ValueError(f"abort: {error}") from None


def _native_cell(cell: object) -> Cell | None:
    """A native.json cell as `reports.native` ran it (a `Cell`), or None when it is not
    of the shape (`native_from_json`)."""

    if not isinstance(cell, dict):
        return None
    try:
        _cell_fields(cell)
    except ValueError:
        return None
    report, abort = cell["report"], cell.get("abort")
    return Cell(
        compiler=cell.get("compiler") or "?",
        host=cell["host"], mm=cell["mm"], checker=cell["checker"],
        args=[], flags=[], exit_status=cell["exit_status"], signal=cell["signal"],
        frame_line=cell["frame_line"],
        report=None if report is None else Report(
            report["kind"], _texts(report, "access"), _texts(report, "freed"),
            _texts(report, "allocated", required=False),
        ),
        abort=None if abort is None else Abort(
            abort["message"], abort["kind"], _texts(abort, "where", required=False)
        ),
        defect=cell.get("defect"),
        not_run=cell.get("not_run"),
    )  # fmt: skip
