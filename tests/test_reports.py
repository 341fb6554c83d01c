"""The report: four files that tell the same findings, escaped, atomic and reproducible."""

from __future__ import annotations

import base64
import dataclasses
import json
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from markupsafe import escape

import reports
import reports.__main__ as reports_cli
from broken_variant.mutants import MUTANTS
from refimpl.contract import PROPERTIES
from reports import FILES, Findings, build_report, render_html
from reports._collect import collect_lessons
from reports._ownership import ownership_graphs

SCHEMA = Path(reports.__file__).with_name("report.schema.json")
PICTURE = "data:image/svg+xml;base64,"
ONE_PER_PROPERTY = frozenset({"untracked", "copying", "unchecked-cast", "leaky", "segfault"})
"""Mutants that cover every property (test_contract runs the whole catalogue)."""


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Findings, Path]:
    out = tmp_path_factory.mktemp("report") / "out"
    return build_report(out, max_examples=20, frames=8, only=ONE_PER_PROPERTY), out


def test_report_writes_the_four_files(built: tuple[Findings, Path]) -> None:
    _, out = built
    assert sorted(path.name for path in out.iterdir()) == sorted(FILES)


def test_matrix_holds_for_the_fixed_and_catches_each_mutant_on_its_property(
    built: tuple[Findings, Path],
) -> None:
    data = json.loads((built[1] / "report.json").read_text())
    rows = {row["name"]: row for row in data["implementations"]}
    bare_store = {**dict.fromkeys(PROPERTIES, "held"), "checked-downcast": "not-applicable"}
    assert rows["ContextStore"]["cells"] == bare_store
    assert rows["PluginAPI"]["cells"] == dict.fromkeys(PROPERTIES, "held")
    for mutant in (m for m in MUTANTS if m.name in ONE_PER_PROPERTY):
        assert rows[mutant.name]["cells"][mutant.catches] == "violated", mutant.name
    assert {rows[name]["violation"]["property"] for name in ONE_PER_PROPERTY} == set(PROPERTIES)
    assert data["ok"] is True


def test_every_lesson_is_run_and_shown(built: tuple[Findings, Path]) -> None:
    """Every lesson that can run here is shown; one that needs the native toolchain where
    there is none is not run, for that reason, and is the only kind allowed not to run."""
    from refimpl.lessons import LESSONS, native_missing

    data = json.loads((built[1] / "report.json").read_text())
    assert [lesson["name"] for lesson in data["lessons"]] == [lesson.name for lesson in LESSONS]
    missing = native_missing()
    for lesson, shown in zip(LESSONS, data["lessons"], strict=True):
        if lesson.needs_nim and missing is not None:
            assert (shown["state"], shown["not_run"]) == ("not-run", missing), lesson.name
        else:
            assert (shown["state"], shown["holds"]) == ("shown", True), lesson.name
    assert 'id="lessons"' in (built[1] / "index.html").read_text()


def test_without_nim_the_report_shows_the_lesson_not_run_in_every_file(
    built: tuple[Findings, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end, with the native toolchain hidden as on a fresh machine: the lesson that
    needs it is not run, and every file says so; nothing says it failed, and the report
    passes."""
    from refimpl.lessons import LESSONS, REQUIRE_NATIVE, native_missing

    monkeypatch.setenv("NATIVE_NIM", "none")
    monkeypatch.delenv(REQUIRE_NATIVE, raising=False)
    reason = native_missing()
    assert reason is not None
    native = [lesson for lesson in LESSONS if lesson.needs_nim]
    hidden = {result.name: result for result in collect_lessons(lambda line: None, native)}
    lessons = [hidden.get(lesson.name, lesson) for lesson in built[0].lessons]
    findings = dataclasses.replace(built[0], lessons=lessons)
    reports.write_report(findings, tmp_path)
    assert findings.ok, findings.problems
    page = (tmp_path / "index.html").read_text()
    markdown = (tmp_path / "report.md").read_text()
    data = json.loads((tmp_path / "report.json").read_text())
    junit = ElementTree.parse(tmp_path / "junit.xml").getroot()
    for lesson in native:
        assert f"<strong>not run here:</strong> {escape(reason)}" in page
        assert f" | not run: {reason} |" in markdown.replace("\\`", "`")
        shown = next(each for each in data["lessons"] if each["name"] == lesson.name)
        assert (shown["state"], shown["holds"], shown["not_run"]) == ("not-run", None, reason)
        case = junit.find(f"./testsuite[@name='lessons']/testcase[@name='{lesson.name}']")
        assert case is not None
        assert [(child.tag, child.get("message")) for child in case] == [
            ("skipped", f"not run: {reason}")
        ]
    assert "NOT shown" not in page
    assert "**NO**" not in markdown
    assert markdown.startswith("# Ownership contract report\n\n**PASS**")
    assert data["ok"] is True
    assert data["problems"] == []
    assert junit.findall(".//failure") == []
    jsonschema.validate(data, json.loads(SCHEMA.read_text()), cls=jsonschema.Draft202012Validator)


def test_json_validates_against_its_schema(built: tuple[Findings, Path]) -> None:
    schema = json.loads(SCHEMA.read_text())
    data = json.loads((built[1] / "report.json").read_text())
    jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)
    assert data["schema_version"] == reports.SCHEMA_VERSION


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.external: list[str] = []
        self.images: list[str] = []
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith(("#", PICTURE)):
                self.external.append(value)
            if name == "src" and value and value.startswith(PICTURE):
                self.images.append(base64.b64decode(value.removeprefix(PICTURE)).decode())
            if name == "id" and value is not None:
                self.ids.append(value)


def test_html_is_one_offline_page_showing_every_picture(built: tuple[Findings, Path]) -> None:
    findings, out = built
    page = _Page()
    page.feed((out / "index.html").read_text())
    drawn = [graph.svg for graph in findings.graphs if graph.svg] + [findings.plot_svg]
    assert len(drawn) == 3, "two ownership pictures and the session plot, all rendered"
    assert page.images == drawn, "each picture, whole, as an image"
    assert "script" not in page.tags
    assert "svg" not in page.tags
    assert page.external == []
    assert len(page.ids) == len(set(page.ids)), "an id used twice on the page"


def test_junit_has_one_case_per_implementation_and_property(
    built: tuple[Findings, Path],
) -> None:
    findings, out = built
    root = ElementTree.parse(out / "junit.xml").getroot()
    cases = root.findall("./testsuite[@name!='lessons']/testcase")
    assert len(cases) == len(findings.implementations) * len(PROPERTIES)
    lessons = root.findall("./testsuite[@name='lessons']/testcase")
    assert [case.get("name") for case in lessons] == [lesson.name for lesson in findings.lessons]
    assert root.findall(".//failure") == [], "a green run has no failing case"


def test_without_a_graphviz_renderer_the_page_embeds_the_dot_source(
    built: tuple[Findings, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("reports._ownership._renderer", lambda: None)
    graphs = ownership_graphs()
    assert [graph.svg for graph in graphs] == [None, None]
    assert all("no renderer" in graph.renderer for graph in graphs)
    html = render_html(dataclasses.replace(built[0], graphs=graphs))
    assert "Not drawn (no renderer: neither dot nor graphviz-pure was found)" in html
    assert "digraph ObjectGraph {" in html


def test_a_new_report_keeps_other_files_and_shows_the_benchmarks(
    built: tuple[Findings, Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    bench = {
        "date": "2026-11-25",
        "machine": {"cpu": "test cpu", "python": "3.11"},
        "operations": [
            {
                "operation": "get_context",
                "implementation": "fixed",
                "median_ns": 200.0,
                "ratio_to_floor": 1.5,
            }
        ],
        "targets": [{"target": "a target", "value": 1.5, "limit": 3.0, "met": True}],
    }
    (out / "bench.json").write_text(json.dumps(bench))
    (out / ".native-cache").mkdir()
    (out / ".native-cache" / "backstorie").write_text("a cached binary")
    reports.write_report(dataclasses.replace(built[0], bench=bench), out)
    assert json.loads((out / "bench.json").read_text()) == bench
    assert (out / ".native-cache" / "backstorie").read_text() == "a cached binary"
    assert "test cpu" in (out / "index.html").read_text()


def test_the_native_section_shows_each_compiler_and_what_ended_each_cell(
    built: tuple[Findings, Path],
) -> None:
    from reports.native import SCHEMA_VERSION as NATIVE_SCHEMA

    def cell(compiler: str, checker: str, **what: object) -> dict[str, object]:
        ran = {"signal": None, "exit_status": None, "frame_line": None, "report": None}
        return {"compiler": compiler, "host": "broken", "mm": "arc", "checker": checker,
                **ran, **what}  # fmt: skip

    native = {
        "schema": NATIVE_SCHEMA,
        "frames": 120,
        "cells": [
            cell("2.2.6", "asan", exit_status=1, report={
                "kind": "heap-use-after-free", "access": ["=dup", "getContext", "update"],
                "freed": ["=destroy", "init", "main"]}),
            cell("2.2.6", "malloc", signal="SIGABRT", exit_status=134,
                 abort={"message": "free(): invalid pointer", "kind": "bad-free"}),
            cell("1.6.10", "valgrind", not_run="valgrind not installed"),
        ],
    }  # fmt: skip
    page = _text(render_html(dataclasses.replace(built[0], native=native)))
    assert "2.2.6 broken arc asan 1 heap-use-after-free: accessed in =dup < getContext < update;" \
        " freed in =destroy < init" in page  # fmt: skip
    assert "2.2.6 broken arc malloc SIGABRT glibc abort: free(): invalid pointer" in page
    assert "1.6.10 broken arc valgrind not run: valgrind not installed" in page


def _text(html: str) -> str:
    """The page's text, one space between cells and words, as a reader sees it."""

    class Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.words: list[str] = []

        def handle_data(self, data: str) -> None:
            self.words.extend(data.split())

    reader = Text()
    reader.feed(html)
    return " ".join(reader.words)


def test_a_failed_write_leaves_the_previous_report_intact(
    built: tuple[Findings, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    reports.write_report(built[0], out)
    before = {name: (out / name).read_bytes() for name in FILES}

    def broken(findings: Findings) -> str:
        raise RuntimeError("disk full")

    monkeypatch.setattr("reports._build.render_junit", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        reports.write_report(built[0], out)
    assert {name: (out / name).read_bytes() for name in FILES} == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out"], "no leftovers"


def _stable(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _stable(v) for k, v in data.items() if k not in ("timings", "volatile")}
    if isinstance(data, list):
        return [_stable(item) for item in data]
    return data


def test_two_runs_give_the_same_json_apart_from_timings(tmp_path: Path) -> None:
    """Not `id-dedup`: it loses a context only when CPython happens to give a new one a
    freed address, and where that happens shifts with Hypothesis's own allocations, which
    vary run to run; its verdict is stable (tests/test_catalogue.py), its story is not."""
    runs = []
    for number in (1, 2):  # side by side, each in its own folder, with the same command
        (tmp_path / f"run{number}").mkdir()
        runs.append(subprocess.Popen(
            [sys.executable, "-m", "reports", "--out", "out", "--max-examples", "10",
             "--frames", "3", "--only", "untracked,copying"],
            cwd=tmp_path / f"run{number}", stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True,
        ))  # fmt: skip
    for run in runs:
        assert run.wait(timeout=300) == 0, run.stderr.read() if run.stderr else ""
    first, second = (
        json.loads((tmp_path / f"run{n}" / "out" / "report.json").read_text()) for n in (1, 2)
    )
    assert _stable(first) == _stable(second)


def test_a_failing_run_exits_non_zero_and_says_why(
    built: tuple[Findings, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    escaped = dataclasses.replace(built[0].implementations[2], violation=None)
    failing = dataclasses.replace(built[0], implementations=[escaped])
    monkeypatch.setattr(reports_cli, "build_report", lambda *args, **kwargs: failing)
    assert reports_cli.main(["--out", str(tmp_path)]) == 1
    printed = capsys.readouterr().out
    assert printed.startswith("FAIL: ")
    assert f"mutant {escaped.name} escaped: {escaped.expected} should catch it" in printed
