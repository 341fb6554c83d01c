"""The files other commands leave beside the report: survey.json (`make survey`) becomes a
section of its own, and bench.json, native.json and survey.json are each shown current or
stale by the commit they record.

Every report here is built by `build_report` into a temporary folder, from hand-written
extra files and a `collect` that runs nothing (`_quick`), so no test runs the contract.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from markupsafe import escape

import reports.bench as bench_cli
import reports.report
import reports.report._build
import reports.survey as survey_cli
import reports.survey._cli
from reports.output import MEASURED, ROOT, http_link, project_commit
from reports.report import Findings, build_report
from tests.report_samples import tiny_findings

SCHEMA = Path(reports.report.__file__).with_name("report.schema.json")
OTHER = "0123456789abcdef0123456789abcdef01234567"
"""A commit that is not this checkout's."""
GOOD_URL = "https://docs.python.org/3.11/library/weakref.html#weakref.WeakValueDictionary"
DIAGNOSIS = (
    "the CounterContext of plugin 'a', stored at step 1, was removed and is referenced "
    "nowhere else, yet it is still alive."
)
HELD_BY = "held by: _Receivers.signal -> Signal.receivers -> CounterContext of plugin 'a'"


def _head() -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()


def _row(name: str, status: str, **fields: Any) -> dict[str, Any]:
    """A survey.json row as `reports.survey.report` writes one."""
    found = {"agrees": "holds", "disagrees": "released"}.get(status)
    row: dict[str, Any] = {
        "name": name, "library": "stdlib", "version": "3.11.9", "documented": "holds",
        "citation": f"what the docs of {name} say", "url": GOOD_URL, "status": status,
        "found": found, "examples": 5, "seconds": 0.5, "steps": [], "detail": "",
        "note": "", "factory": f"reports.survey:make_{name}",
    }  # fmt: skip
    if status == "disagrees":
        row["steps"] = ["state = replay('reports.survey:make_x')", "state.remove(name='a')"]
        row["detail"] = f"\n{DIAGNOSIS}\n{HELD_BY}"
    if status == "not-installed":
        row.update(version=None, note="not installed (make survey installs it)")
    if status == "error":
        row.update(note="TypeError: the contract refused it")
    return {**row, **fields}


ROWS = [
    _row("dict", "agrees"),
    _row("blinker", "disagrees"),
    _row("lru", "not-installed"),
    _row("pluggy", "error"),
]


def _survey(rows: list[dict[str, Any]] = ROWS, **provenance: Any) -> dict[str, Any]:
    return {
        "schema": survey_cli.SCHEMA_VERSION, "date": "2026-11-25", "command": "make survey",
        "profile": "ci", "machine": {"python": "3.11.9"}, "registries": rows,
        "summary": {"line": "ignored: the report counts the rows itself"}, **provenance,
    }  # fmt: skip


def _bench(**provenance: Any) -> dict[str, Any]:
    return {
        "schema": bench_cli.SCHEMA_VERSION, "date": "2026-11-25",
        "machine": {"cpu": "test cpu", "python": "3.11"}, "command": "make bench",
        "operations": [], "targets": [], **provenance,
    }  # fmt: skip


def _native(**provenance: Any) -> dict[str, Any]:
    from reports.native import SCHEMA_VERSION

    return {"schema": SCHEMA_VERSION, "frames": 3, "cells": [], **provenance}


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """`collect` as it is, but running nothing: the implementations of a tiny report, no
    sessions, lessons or pictures. The environment (and its commit) is the real one."""
    tiny = tiny_findings("extras")
    monkeypatch.setattr(
        reports.report._build, "collect_implementations", lambda *a: tiny.implementations
    )
    monkeypatch.setattr(reports.report._build, "collect_sessions", lambda *a: [])
    monkeypatch.setattr(reports.report._build, "collect_lessons", lambda *a: [])
    monkeypatch.setattr(reports.report._build, "ownership_graphs", list)
    monkeypatch.setattr(reports.report._build, "sessions_svg", lambda sessions: None)


@dataclasses.dataclass
class Built:
    findings: Findings
    html: str
    markdown: str
    data: dict[str, Any]
    lines: list[str]

    def section(self, anchor: str) -> str:
        """The HTML from `<h2 id="anchor">` to the next `<h2`."""
        start = self.html.index(f'<h2 id="{anchor}">')
        return self.html[start : self.html.index("<h2", start + 1)]

    def md_section(self, heading: str) -> str:
        """The Markdown from `## heading` to the next `## `."""
        start = self.markdown.index(f"## {heading}\n")
        end = self.markdown.find("\n## ", start + 1)
        return self.markdown[start : end if end > 0 else None]


def _build(out: Path, **extras: dict[str, Any] | str) -> Built:
    """Write each extra file (an object as JSON, a text as is), build the report, read it."""
    for name, content in extras.items():
        text = content if isinstance(content, str) else json.dumps(content)
        (out / f"{name}.json").write_text(text)
    lines: list[str] = []
    findings = build_report(out, progress=lines.append)
    return Built(
        findings,
        (out / "index.html").read_text(),
        (out / "report-full.md").read_text(),
        json.loads((out / "report.json").read_text()),
        lines,
    )


class _Cells(HTMLParser):
    """Each table row's cells: (class, text), and the text outside any `<details>`."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[tuple[str, str]]] = []
        self.links: list[str] = []
        self.tags: list[str] = []
        self.outside_details: list[str] = []
        self.text: list[str] = []
        self._cell: tuple[str, list[str]] | None = None
        self._details = 0
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        found = dict(attrs)
        if tag == "tr":
            self.rows.append([])
        elif tag == "td":
            self._cell = (found.get("class") or "", [])
        elif tag == "details":
            self._details += 1
        if "href" in found:
            self.links.append(found["href"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.rows[-1].append((self._cell[0], " ".join("".join(self._cell[1]).split())))
            self._cell = None
        elif tag == "details":
            self._details -= 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell[1].append(data)
        if self._details == 0:
            self.outside_details.append(data)


def _md_rows(markdown: str) -> list[list[str]]:
    """The cells of each Markdown table row, split where GFM splits them (a `|` after an
    odd number of backslashes is text)."""
    rows = []
    for line in markdown.splitlines():
        if line.startswith("| ") and not line.startswith("|---"):
            cells = re.split(r"(?<!\\)((?:\\\\)*)\|", line)
            rows.append([cell.strip() for cell in cells[2:-2:2]])
    return rows


# -- the survey section ------------------------------------------------------------


def test_the_survey_table_shows_every_registry_with_its_status(out: Path, quick: None) -> None:
    built = _build(out, survey=_survey())
    rows = _Cells(built.section("survey")).rows[1:]  # the header row has no <td>
    assert {row[0][1]: (row[4], row[5]) for row in rows} == {
        "dict": (("agrees", "holds"), ("agrees", "agrees")),
        "blinker": (("disagrees", "released"), ("disagrees", "DISAGREES")),
        "lru": (("not-installed", "not installed (make survey installs it)"),
                ("not-installed", "not installed")),
        "pluggy": (("error", "TypeError: the contract refused it"), ("error", "not judged")),
    }  # fmt: skip
    assert [row[1][1] for row in rows] == [
        "stdlib 3.11.9",
        "stdlib 3.11.9",
        "stdlib",
        "stdlib 3.11.9",
    ]
    assert all(row[2][1] == f"what the docs of {row[0][1]} say" for row in rows)
    assert "4 registries: 1 agrees, 1 disagrees, 1 not installed, 1 error." in built.html
    markdown = _md_rows(built.md_section("Real registries beside their docs"))
    assert [(row[0], row[3], row[4], row[5]) for row in markdown[1:]] == [
        ("dict", "holds", "holds", "agrees"),
        ("blinker", "holds", "released", "**DISAGREES**"),
        ("lru", "holds", "not installed (make survey installs it)", "not installed"),
        ("pluggy", "holds", "TypeError: the contract refused it", "not judged"),
    ]
    assert [row["status"] for row in built.data["survey"]["registries"]] == [
        "agrees", "disagrees", "not-installed", "error",
    ]  # fmt: skip
    assert not [line for line in built.lines if "survey.json" in line], built.lines


def test_the_citation_links_to_its_address_and_a_disagreement_links_to_its_evidence(
    out: Path, quick: None
) -> None:
    built = _build(out, survey=_survey())
    page = _Cells(built.section("survey"))
    evidence = [link for link in page.links if link.startswith("#") and link != "#matrix"]
    assert page.links.count(GOOD_URL) == 4
    assert len(evidence) == 1
    assert f'<h3 id="{evidence[0][1:]}">blinker: the docs imply holds, the contract found ' \
        "released</h3>" in built.html  # fmt: skip


def test_a_disagreements_diagnosis_is_visible_outside_any_details(out: Path, quick: None) -> None:
    built = _build(out, survey=_survey())
    page = _Cells(built.section("survey"))
    outside = " ".join(" ".join(page.outside_details).split())
    assert DIAGNOSIS in outside, "the first line of the evidence needs no click"
    assert "state.remove(name='a')" in outside, "nor do the shrunk steps"
    assert HELD_BY not in outside, "the rest is a click away"
    assert HELD_BY in " ".join(" ".join(page.text).split())
    assert page.tags.count("details") == 1
    section = built.md_section("Real registries beside their docs")
    assert f"\n\n{DIAGNOSIS}\n\n" in section.replace("\\'", "'"), "a paragraph of its own"
    assert built.data["survey"]["registries"][1]["diagnosis"] == DIAGNOSIS


HOSTILE_URLS = (
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    'https://example.org/"onmouseover="alert(1)',
    "https://example.org/a b",
    "https://user@evil.example/",
    "//evil.example/",
    "https://example.org/<script>",
)


def test_a_hostile_citation_or_url_is_escaped_and_not_linked(out: Path, quick: None) -> None:
    citation = "<script>alert(1)</script> | a | b [x](javascript:alert(1))"
    rows = [_row(f"r{n}", "agrees", url=url, citation=citation) for n, url in
            enumerate(HOSTILE_URLS)]  # fmt: skip
    built = _build(out, survey=_survey(rows))
    page = _Cells(built.html)
    assert "script" not in page.tags
    assert [link for link in page.links if not link.startswith("#")] == []
    section = built.section("survey")
    assert section.count("&lt;script&gt;alert(1)&lt;/script&gt; | a | b") == len(HOSTILE_URLS)
    assert "(not linked: javascript:alert(1))" in section
    assert "&lt;script&gt;" in section
    assert "<script" not in section
    markdown = built.md_section("Real registries beside their docs")
    table = _md_rows(markdown)
    assert {len(row) for row in table} == {6}, "no pipe in a value made a cell"
    assert all(row[2].startswith("&lt;script&gt;alert(1)&lt;/script&gt; \\| a \\| b \\[x\\]")
               for row in table[1:])  # fmt: skip
    assert "<" not in markdown
    assert not re.search(r"(?<!\\)[\[\]]", markdown), "a bracket that may open a link"
    assert [row["link"] for row in built.data["survey"]["registries"]] == [None] * len(rows)


def test_only_a_plain_http_or_https_address_may_be_a_link() -> None:
    assert http_link(GOOD_URL) == GOOD_URL
    assert http_link("http://example.org") == "http://example.org"
    assert (
        http_link("https://example.org:8443/a?b=c&d=e#f") == "https://example.org:8443/a?b=c&d=e#f"
    )
    assert [url for url in HOSTILE_URLS if http_link(url) is not None] == []


def test_without_survey_json_the_section_says_in_one_line_how_to_get_one(
    out: Path, quick: None
) -> None:
    built = _build(out)
    section = built.section("survey")
    assert re.findall(r"<p>.*?</p>", section, re.DOTALL) == [
        "<p>No survey beside this report: run <code>make survey</code> (it installs the "
        "surveyed libraries), then <code>make report</code>.</p>"
    ]
    assert section.strip().count("\n") == 2, "a heading, one line, the way back to the matrix"
    assert section.strip().endswith(
        '<p class="back"><a href="#matrix">&uarr; back to the matrix</a></p>'
    )
    said = [
        line
        for line in built.md_section("Real registries beside their docs").splitlines()[1:]
        if line.strip()
    ]
    assert said == [
        "No survey beside this report: run `make survey` (it installs the surveyed "
        "libraries), then `make report`."
    ]
    assert built.data["survey"] is None
    assert built.data["extras"]["survey"]["present"] is False
    assert built.data["extras"]["survey"]["stale"] is None
    assert not [line for line in built.lines if "survey.json" in line], "no survey is no error"


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (_survey([{"name": "x"}]), "is not a survey (registry 0: status is missing)"),
        (_survey([_row("x", "maybe")]), "is not a survey (registry 0: status is not one of"),
        (_survey([_row("x", "agrees", steps="a")]), "is not a survey (registry 0: steps is a"),
        (_survey([_row("x", "agrees", seconds=-1)]), "is not a survey (registry 0: examples"),
        ({"schema": survey_cli.SCHEMA_VERSION, "registries": {}}, "is not a survey (has no"),
        ({"schema": survey_cli.SCHEMA_VERSION + 1}, "has schema version"),
    ],
)
def test_a_survey_json_that_is_not_one_is_left_out_with_one_line(
    content: dict[str, Any], why: str, out: Path, quick: None
) -> None:
    built = _build(out, survey=content)
    said = [line for line in built.lines if "survey.json" in line]
    assert len(said) == 1, said
    assert said[0].startswith(f"{out / 'survey.json'} {why}"), said[0]
    assert said[0].endswith("the report goes on without it (`make survey` writes a new one)")
    assert built.findings.survey is None
    assert "No survey beside this report" not in built.html + built.markdown, "it is there"
    why = said[0].removeprefix(f"{out / 'survey.json'} ").split(": the report goes on")[0]
    assert f"<strong>unusable</strong> (survey.json): it {escape(why)}, so this report " \
        "leaves it out" in built.section("survey")  # fmt: skip
    assert "> **unusable** (survey.json): it " in built.markdown


# -- current or stale --------------------------------------------------------------


def test_an_extra_from_another_commit_is_stale_naming_both_commits(out: Path, quick: None) -> None:
    head = _head()
    built = _build(
        out,
        bench=_bench(commit=OTHER, dirty=False),
        native=_native(commit=OTHER, dirty=False),
        survey=_survey(commit=OTHER, dirty=False),
    )
    said = f"from commit {OTHER[:7]}, not the current {head[:7]}: rerun make"
    for name, section in (("bench", "performance"), ("native", "native"), ("survey", "survey")):
        banner = f'<p class="stale"><strong>stale</strong> ({name}.json): {said} {name}</p>'
        assert banner in built.section(section), name
        assert f"\n> **stale** ({name}.json): {said} {name}\n" in built.markdown, name
        extra = built.data["extras"][name]
        assert (extra["present"], extra["stale"], extra["commit"]) == (True, True, OTHER)
        assert extra["reason"] == f"{said} {name}"
    assert built.data["environment"]["commit"] == head


def test_an_extra_from_this_commit_is_not_stale(out: Path, quick: None) -> None:
    head = _head()
    built = _build(
        out,
        bench=_bench(commit=head, dirty=False),
        native=_native(commit=head, dirty=True),
        survey=_survey(commit=head, dirty=False),
    )
    assert 'class="stale"' not in built.html
    assert "**stale**" not in built.markdown
    for name in ("bench", "native", "survey"):
        extra = built.data["extras"][name]
        assert (extra["present"], extra["stale"], extra["commit"]) == (True, False, head), name
        assert f"{name}.json: from commit {head[:7]}, the current one" in built.html
    assert "native.json: from commit " + head[:7] + ", the current one (written with " \
        "uncommitted changes)" in built.markdown  # fmt: skip


def test_an_extra_that_names_no_commit_is_stale_of_unknown_provenance(
    out: Path, quick: None
) -> None:
    """A bench.json or survey.json written before they recorded their commit (the keys
    are optional: no schema bump), or a commit that is not one."""
    built = _build(out, bench=_bench(), survey=_survey(commit="<script>", dirty="yes"))
    for name in ("bench", "survey"):
        reason = f"provenance unknown: the file names no commit it came from: rerun make {name}"
        assert f"<strong>stale</strong> ({name}.json): {reason}" in built.html
        assert f"> **stale** ({name}.json): {reason}" in built.markdown
        extra = built.data["extras"][name]
        assert (extra["stale"], extra["commit"], extra["dirty"]) == (True, None, None)


def test_without_git_the_provenance_is_unknown(
    out: Path, quick: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = _head()
    (tmp_path / "bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert shutil.which("git") is None
    built = _build(out, bench=_bench(commit=head, dirty=False), survey=_survey(commit=None))
    assert built.data["environment"]["commit"] is None
    assert built.data["environment"]["dirty"] is None
    reason = {
        "bench": "provenance unknown: git cannot name the commit this report ran on (the file "
        f"is from commit {head[:7]}); if the code changed since, rerun make bench",
        "survey": "provenance unknown: git cannot name the commit this report ran on; if the "
        "code changed since, rerun make survey",
    }
    for name, said in reason.items():
        assert f"<strong>stale</strong> ({name}.json): {said}</p>" in built.html
        assert f"> **stale** ({name}.json): {said}\n" in built.markdown
        assert (built.data["extras"][name]["stale"], built.data["extras"][name]["reason"]) == (
            True,
            said,
        )
    assert "commit unknown (git is not installed, or this is not a git checkout)" in built.markdown


def test_report_json_with_a_survey_and_stale_extras_validates_against_the_schema(
    out: Path, quick: None
) -> None:
    built = _build(
        out, bench=_bench(commit=OTHER), native=_native(commit=_head()), survey=_survey()
    )
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    assert list(validator.iter_errors(built.data)) == []
    assert built.data["schema_version"] == reports.report.SCHEMA_VERSION == 5
    assert [built.data["extras"][name]["stale"] for name in ("bench", "native", "survey")] == [
        True, False, True,
    ]  # fmt: skip
    wrong = json.loads(json.dumps(built.data))
    wrong["extras"]["bench"]["stale"] = None  # a file that is there is current or stale
    assert not validator.is_valid(wrong)
    wrong = json.loads(json.dumps(built.data))
    del wrong["survey"]["registries"][0]["link"]
    assert not validator.is_valid(wrong)


# -- what the writers record -------------------------------------------------------


def _git(folder: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@t", *args],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


def test_project_commit_names_the_commit_and_whether_the_tree_has_changes(
    tmp_path: Path,
) -> None:
    assert project_commit(tmp_path) == (None, None), "not a git checkout"
    _git(tmp_path, "init", "-q")
    assert project_commit(tmp_path) == (None, None), "no commit yet"
    (tmp_path / "a").write_text("1")
    _git(tmp_path, "add", "a")
    _git(tmp_path, "commit", "-q", "-m", "a")
    head = _git(tmp_path, "rev-parse", "HEAD")
    assert project_commit(tmp_path) == (head, False)
    (tmp_path / "b").write_text("untracked")
    assert project_commit(tmp_path) == (head, True)
    (tmp_path / "b").unlink()
    (tmp_path / "a").write_text("2")
    assert project_commit(tmp_path) == (head, True)


def test_a_tree_changed_only_in_the_measurements_document_is_at_its_commit(
    tmp_path: Path,
) -> None:
    """Each command records its run in `MEASURED`: the next one measures the same code."""
    document = tmp_path / MEASURED
    document.parent.mkdir(parents=True)
    document.write_text("<!-- measured: bench -->\n<!-- /measured: bench -->\n")
    (tmp_path / "code.py").write_text("1")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "a")
    head = _git(tmp_path, "rev-parse", "HEAD")
    document.write_text("<!-- measured: bench -->\nnew\n<!-- /measured: bench -->\n")
    assert project_commit(tmp_path) == (head, False)
    (tmp_path / "code.py").write_text("2")
    assert project_commit(tmp_path) == (head, True)


@pytest.mark.parametrize("git", [True, False], ids=["git", "no git"])
def test_bench_and_survey_json_record_the_commit_they_came_from(
    git: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_bench: list[str]
) -> None:
    expected = project_commit() if git else (None, None)
    if not git:
        (tmp_path / "bin").mkdir()
        monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    bench_cli.main(["--out", str(tmp_path), *fake_bench])
    not_installed = survey_cli.Registry(
        "absent.Registry()", "absent", "no-such-distribution-for-the-survey",
        survey_cli.make_dict, "holds", "a line", GOOD_URL,
    )  # fmt: skip
    monkeypatch.setattr(reports.survey._cli, "select", lambda names: [not_installed])
    assert survey_cli.main(["--out", str(tmp_path)]) == 0
    for name in ("bench", "survey"):
        written = json.loads((tmp_path / f"{name}.json").read_text())
        assert (written["commit"], written["dirty"]) == expected, name
    if git:
        assert expected[0] == _head()
        # What the measuring commands rewrite is not a change to the code measured.
        status = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", ".", f":(exclude){MEASURED}"],
            capture_output=True,
            text=True,
        )
        assert expected[1] is bool(status.stdout.strip())


def test_native_json_records_the_same_provenance() -> None:
    from reports.native import provenance

    assert (provenance([], 1)["commit"], provenance([], 1)["dirty"]) == project_commit()


# -- a file of the right schema version and the wrong shape --------------------------


def _cell(compiler: str = "2.2.6", **what: Any) -> dict[str, Any]:
    """A native.json cell as `reports.native` writes one: the broken host under asan."""
    cell: dict[str, Any] = {
        "compiler": compiler, "host": "broken", "mm": "orc", "checker": "asan", "args": [],
        "flags": [], "exit_status": 1, "signal": None, "frame_line": None,
        "report": {"kind": "heap-use-after-free", "access": ["=dup", "getContext", "update"],
                   "freed": ["=destroy", "init"], "allocated": ["setContext"]},
        "abort": None, "defect": None, "stdout": "", "not_run": None,
    }  # fmt: skip
    return {**cell, **what}


def _without(row: dict[str, Any], key: str) -> dict[str, Any]:
    return {name: value for name, value in row.items() if name != key}


_OPERATION = {"operation": "get", "implementation": "fixed", "median_ns": 1.0,
              "ratio_to_floor": 1.0}  # fmt: skip
_TARGET = {"target": "a target", "value": None, "limit": 3.0, "met": False}
WRONG_SHAPES = [
    ("bench", {"schema": bench_cli.SCHEMA_VERSION}, "is not a benchmark result (date is missing)"),
    ("bench", {**_bench(), "machine": {"python": "3.11"}}, "(machine: cpu is missing)"),
    ("bench", {**_bench(), "operations": {}}, "(operations is a dict, not a list)"),
    ("bench", {**_bench(), "operations": [_OPERATION, 5]}, "(operation 1 is not an object)"),
    ("bench", {**_bench(), "operations": [_without(_OPERATION, "median_ns")]},
     "(operation 0: median_ns is missing)"),
    ("bench", {**_bench(), "targets": [_without(_TARGET, "value")]},
     "(target 0: value is missing)"),
    ("bench", {**_bench(), "targets": [{**_TARGET, "met": "yes"}]},
     "(target 0: met is a str, not a bool)"),
    ("native", {"schema": 2, "cells": 5}, "is not a native result (frames is missing)"),
    ("native", _native(cells=5), "(cells is a int, not a list)"),
    ("native", _native(frames="3"), "(frames is a str, not a int)"),
    ("native", _native(cells=[_without(_cell(), "host")]), "(cell 0: host is missing)"),
    ("native", _native(cells=[_cell(), _without(_cell(), "signal")]),
     "(cell 1: signal is missing)"),
    ("native", _native(cells=[_cell(report={"kind": "x", "access": "f"})]),
     "(cell 0: report: access is a str, not a list)"),
    ("native", _native(cells=[_cell(abort={"kind": "bad-free"})]),
     "(cell 0: abort: message is missing)"),
    ("native", _native(cells=[_cell(exit_status="1")]),
     "(cell 0: exit_status is a str, not a int or null)"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "content", "why"), WRONG_SHAPES, ids=[why for _, _, why in WRONG_SHAPES]
)
def test_an_extra_of_the_wrong_shape_is_left_out_with_one_line_and_its_reason_shown(
    name: str, content: dict[str, Any], why: str, out: Path, quick: None
) -> None:
    """The right schema version, the wrong shape: left out as a cut-short file is, with one
    line saying why, and the page and report-full.md say why in its place (the templates would
    otherwise stop at the first field that is not there, after all the work)."""
    built = _build(out, **{name: content})
    said = [line for line in built.lines if f"{name}.json" in line]
    assert len(said) == 1, said
    assert said[0].startswith(f"{out / f'{name}.json'} is not a "), said[0]
    assert why in said[0], said[0]
    assert said[0].endswith(f"the report goes on without it (`make {name}` writes a new one)")
    assert getattr(built.findings, name) is None
    section = built.section("native" if name == "native" else "performance")
    reason = said[0].removeprefix(f"{out / f'{name}.json'} ").split(": the report goes on")[0]
    note = f"<strong>unusable</strong> ({name}.json): it {escape(reason)}, so this report "
    assert note in section
    assert f"> **unusable** ({name}.json): it " in built.markdown
    assert ("No native results" if name == "native" else "No benchmark results") not in (
        built.html + built.markdown
    )
    extra = built.data["extras"][name]
    assert (extra["present"], extra["stale"]) == (False, None)
    assert extra["reason"] == f"{name}.json {reason}: left out of this report; rerun make {name}"
    schema = json.loads(SCHEMA.read_text())
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(built.data)) == []


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ('{"schema": 1, "cells": []}', "has schema version 1, this report reads version 2"),
        ('{"schema": 2, "cells": [', "is not valid JSON (Expecting value"),
        ('{"schema": "<b>x</b> | `y`"}', "has schema version '<b>x</b> | `y`'"),
    ],
)
def test_a_native_json_left_out_is_named_with_its_reason_not_said_to_be_missing(
    content: str, why: str, out: Path, quick: None
) -> None:
    """Saying "No native results beside this report" would be false: the file is there."""
    built = _build(out, native=content)
    for text in (built.section("native"), built.md_section("The seed's own host, for real")):
        assert "No native results" not in text
    assert f"<strong>unusable</strong> (native.json): it {escape(why)}" in built.section("native")
    assert "<b>" not in built.html
    markdown = built.md_section("The seed's own host, for real")
    assert "> **unusable** (native.json): it " in markdown
    assert "<b>" not in markdown
    assert "| `y`" not in markdown, "a value's pipe or backtick stays text"
    assert "left out: it " in built.findings.nim


def test_a_bench_json_of_another_schema_is_named_with_its_reason(out: Path, quick: None) -> None:
    built = _build(out, bench={**_bench(), "schema": bench_cli.SCHEMA_VERSION + 1})
    why = f"has schema version {bench_cli.SCHEMA_VERSION + 1}, this report reads version"
    assert f"<strong>unusable</strong> (bench.json): it {why}" in built.section("performance")
    assert f"> **unusable** (bench.json): it {why}" in built.markdown
    assert "No benchmark results" not in built.html + built.markdown


def test_a_well_formed_bench_and_native_json_still_join_the_report(out: Path, quick: None) -> None:
    bench = {**_bench(), "operations": [_OPERATION], "targets": [_TARGET]}
    built = _build(out, bench=bench, native=_native(cells=[_cell()]))
    assert built.findings.bench == bench
    assert built.findings.native is not None
    assert [line for line in built.lines if "bench.json" in line or "native.json" in line] == []
    assert "unusable" not in built.html


# -- where the compilers differ ----------------------------------------------------


def test_the_native_section_says_where_the_compilers_differ(
    out: Path, quick: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As `make native` prints it (`reports.native.compiler_differences`): one line per host,
    memory manager and checker whose outcome differs between the compilers."""
    hostile = "<script>alert(1)</script> | `x`"
    cells = [
        _cell("2.2.6"),
        _cell("1.6.10", report={"kind": "heap-use-after-free", "access": ["=copy", hostile],
                                "freed": ["=destroy"]}),
        _cell("2.2.6", mm="arc", checker="malloc", exit_status=134, signal="SIGABRT",
              report=None, abort={"message": "free(): invalid pointer", "kind": "bad-free",
                                  "where": ["update"]}),
        _cell("1.6.10", mm="arc", checker="malloc", exit_status=0, report=None,
              frame_line="Frame: 240"),
        _cell("2.2.6", host="fixed", checker="nim", exit_status=0, report=None),
        _cell("1.6.10", host="fixed", checker="nim", exit_status=0, report=None),
    ]  # fmt: skip
    built = _build(out, native=_native(cells=cells))
    lines = built.findings.native_differences
    assert lines is not None
    assert lines == [
        "broken/orc/asan: Nim 2.2.6: heap-use-after-free in =dup < getContext < update; freed "
        f"by =destroy < init; Nim 1.6.10: heap-use-after-free in =copy < {hostile}; freed by "
        "=destroy",
        "broken/arc/malloc: Nim 2.2.6: SIGABRT (exit 134): free(): invalid pointer (bad-free) "
        "in update; Nim 1.6.10: exit 0, Frame: 240",
    ]
    section = built.section("native")
    assert '<p id="native-differences"><strong>Where the compilers differ</strong>' in section
    for line in lines:
        assert f"<li>{escape(line)}</li>" in section
    assert "<script>" not in built.html
    markdown = built.md_section("The seed's own host, for real")
    assert "**Where the compilers differ**" in markdown
    assert markdown.count("\n- broken/") == 2
    assert "<script>" not in markdown
    assert "&lt;script&gt;alert(1)&lt;/script&gt; \\| \\`x\\`" in markdown
    import reports.native

    counted = lambda cells: [f"{len(cells)} cells"]  # noqa: E731
    monkeypatch.setattr(reports.native, "compiler_differences", counted)
    assert built.findings.native_differences == ["6 cells"], "that helper's lines, not a copy"


def test_with_one_compiler_nothing_is_said_of_differences(out: Path, quick: None) -> None:
    built = _build(out, native=_native(cells=[_cell(), _cell(mm="arc")]))
    assert built.findings.native_differences is None
    assert "Where the compilers differ" not in built.html + built.markdown
    same = _build(out, native=_native(cells=[_cell("2.2.6"), _cell("1.6.10")]))
    assert same.findings.native_differences == []
    assert "a different outcome): nowhere.</p>" in same.section("native")


# -- the lessons' notes ------------------------------------------------------------


def test_each_lessons_notes_are_shown_escaped_in_the_page_and_in_markdown(
    out: Path, quick: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reports.report._model import LessonResult

    notes = ("It reads `=dup` where 1.6 reads `=copy`.", "<script>alert(1)</script> | [x](y)")
    lesson = LessonResult(
        "noted", "A noted lesson", "A pitfall. Its fix.", True, "it broke", "it held", None,
        "def broken(): ...", "def fixed(): ...", notes=notes,
    )  # fmt: skip
    monkeypatch.setattr(reports.report._build, "collect_lessons", lambda *a: [lesson])
    built = _build(out)
    section = built.section("lessons")
    assert '<p class="note">It reads <code>=dup</code> where 1.6 reads <code>=copy</code>.</p>' \
        in section  # fmt: skip
    assert '<p class="note">&lt;script&gt;alert(1)&lt;/script&gt; | [x](y)</p>' in section
    assert "<script>" not in built.html
    markdown = built.md_section("Lessons")
    assert "\n- It reads `=dup` where 1.6 reads `=copy`.\n" in markdown
    assert "\n- &lt;script&gt;alert(1)&lt;/script&gt; \\| \\[x\\](y)\n" in markdown


def test_the_real_thing_lesson_carries_its_notes_on_the_compilers_into_the_report(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its notes (`=dup` against `=copy`, SIGABRT against a run to the end) printed only with
    `python -m reports.lessons --verbose`; the report has them, run here or not."""
    from reports.lessons import LESSONS, REQUIRE_NATIVE
    from reports.report._collect import collect_lessons

    monkeypatch.setenv("NATIVE_NIM", "none")  # not run: quick, and its notes still shown
    monkeypatch.delenv(REQUIRE_NATIVE, raising=False)
    real = next(lesson for lesson in LESSONS if lesson.name == "real-thing")
    [result] = collect_lessons(lambda line: None, [real])
    assert result.notes == real.notes
    assert any("`=dup`" in note and "SIGABRT" in note for note in result.notes)
    findings = dataclasses.replace(tiny_findings("notes"), lessons=[result])
    page = reports.report.render_html(findings)
    assert "<code>=dup</code>" in page
    assert "(SIGABRT)" in page
    assert "`=dup` hook" in reports.report.render_markdown(findings)
