"""The report: files that tell the same findings, escaped, atomic and reproducible."""

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

import reports.__main__ as reports_cli
import reports.report
from broken_variant.mutants import MUTANTS
from refimpl.contract import PROPERTIES
from reports.report import FILES, Findings, build_report, render_html, render_markdown
from reports.report._collect import collect_lessons, collect_sessions
from reports.report._ownership import ownership_graphs
from reports.report._render import _md

SCHEMA = Path(reports.report.__file__).with_name("report.schema.json")
PICTURE = "data:image/svg+xml;base64,"
ONE_PER_PROPERTY = frozenset({"untracked", "copying", "unchecked-cast", "leaky", "segfault"})
"""Mutants that cover every property (test_contract runs the whole catalogue)."""


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Findings, Path]:
    out = tmp_path_factory.mktemp("report") / "out"
    return build_report(out, max_examples=20, frames=8, only=ONE_PER_PROPERTY), out


@pytest.mark.slow
def test_report_writes_its_files(built: tuple[Findings, Path]) -> None:
    _, out = built
    assert sorted(path.name for path in out.iterdir()) == sorted(FILES)


@pytest.mark.slow
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


@pytest.mark.slow
def test_every_lesson_is_run_and_shown(built: tuple[Findings, Path]) -> None:
    """Every lesson that can run here is shown; one that needs the native toolchain where
    there is none is not run, for that reason, and is the only kind allowed not to run."""
    from reports.lessons import LESSONS, native_missing

    data = json.loads((built[1] / "report.json").read_text())
    assert [lesson["name"] for lesson in data["lessons"]] == [lesson.name for lesson in LESSONS]
    missing = native_missing()
    for lesson, shown in zip(LESSONS, data["lessons"], strict=True):
        if lesson.needs_nim and missing is not None:
            assert (shown["state"], shown["not_run"]) == ("not-run", missing), lesson.name
        else:
            assert (shown["state"], shown["holds"]) == ("shown", True), lesson.name
    assert 'id="lessons"' in (built[1] / "index.html").read_text()


@pytest.mark.slow
def test_without_nim_the_report_shows_the_lesson_not_run_in_every_file(
    built: tuple[Findings, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end, with the native toolchain hidden as on a fresh machine: the lesson that
    needs it is not run, and every file says so; nothing says it failed, and the report
    passes."""
    from reports.lessons import LESSONS, REQUIRE_NATIVE, native_missing

    monkeypatch.setenv("NATIVE_NIM", "none")
    monkeypatch.delenv(REQUIRE_NATIVE, raising=False)
    reason = native_missing()
    assert reason is not None
    native = [lesson for lesson in LESSONS if lesson.needs_nim]
    hidden = {result.name: result for result in collect_lessons(lambda line: None, native)}
    lessons = [hidden.get(lesson.name, lesson) for lesson in built[0].lessons]
    findings = dataclasses.replace(built[0], lessons=lessons)
    reports.report.write_report(findings, tmp_path)
    assert findings.ok, findings.problems
    page = (tmp_path / "index.html").read_text()
    markdown = (tmp_path / "report-full.md").read_text()
    data = json.loads((tmp_path / "report.json").read_text())
    junit = ElementTree.parse(tmp_path / "junit.xml").getroot()
    for lesson in native:
        assert f"<strong>not run here:</strong> {escape(reason)}" in page
        assert f" | not run: {reason} |" in markdown.replace("\\`", "`")
        shown = next(each for each in data["lessons"] if each["name"] == lesson.name)
        assert (shown["state"], shown["holds"], shown["not_run"]) == ("not-run", None, reason)
        name = f"{lesson.name}: shows what it claims"
        case = junit.find(f"./testsuite[@name='lessons']/testcase[@name='{name}']")
        assert case is not None
        assert [
            (child.tag, child.get("message")) for child in case if child.tag != "properties"
        ] == [("skipped", f"not run: {reason}")]
    assert "NOT shown" not in page
    assert "**NO**" not in markdown
    assert markdown.startswith("# Ownership contract report\n\n**PASS**")
    assert data["ok"] is True
    assert data["problems"] == []
    assert junit.findall(".//failure") == []
    jsonschema.validate(data, json.loads(SCHEMA.read_text()), cls=jsonschema.Draft202012Validator)


@pytest.mark.slow
def test_json_validates_against_its_schema(built: tuple[Findings, Path]) -> None:
    schema = json.loads(SCHEMA.read_text())
    data = json.loads((built[1] / "report.json").read_text())
    jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)
    assert data["schema_version"] == reports.report.SCHEMA_VERSION


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


@pytest.mark.slow
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


@pytest.mark.slow
def test_junit_has_a_case_per_fixed_promise_and_one_verdict_per_mutant(
    built: tuple[Findings, Path],
) -> None:
    """Three suites: the fixed implementations, a case per property named for its promise
    (a bare store's `checked-downcast` named not applicable); the mutants, one case each,
    named for what happened; the lessons, a case each. A green run has no failing case
    (tests/reports/report/test_junit.py checks each outcome, count and time)."""
    findings, out = built
    root = ElementTree.parse(out / "junit.xml").getroot()
    cases = {
        suite.get("name"): [(case.get("classname"), case.get("name")) for case in suite]
        for suite in root.findall("testsuite")
    }
    promises = [{"crash": "never crashes"}.get(prop, f"{prop} holds") for prop in PROPERTIES]
    fixed = [impl for impl in findings.implementations if impl.expected is None]
    expected = {
        "fixed implementations": [
            ("fixed", f"{impl.name}: {promise}") for impl in fixed for promise in promises
        ],
        "mutants": [
            ("mutants", f"{impl.name}: caught by {impl.expected}")
            for impl in findings.implementations
            if impl.expected is not None
        ],
        "lessons": [
            ("lessons", f"{lesson.name}: shows what it claims") for lesson in findings.lessons
        ],
    }
    bare = "ContextStore: checked-downcast"
    expected["fixed implementations"] = [
        ("fixed", f"{bare} not applicable") if name == f"{bare} holds" else (kind, name)
        for kind, name in expected["fixed implementations"]
    ]
    assert cases == expected
    assert len(expected["mutants"]) == len(ONE_PER_PROPERTY)
    assert root.findall(".//failure") == [], "a green run has no failing case"
    assert (root.get("tests"), root.get("failures")) == (str(sum(map(len, expected.values()))), "0")
    timed = [case.get("time") for case in root.iterfind("testsuite[@name='lessons']/testcase")]
    assert None not in timed, "every lesson's run is timed"


@pytest.mark.slow
def test_without_a_graphviz_renderer_the_page_embeds_the_dot_source(
    built: tuple[Findings, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("reports.report._ownership._renderer", lambda: None)
    graphs = ownership_graphs()
    assert [graph.svg for graph in graphs] == [None, None]
    assert all("no renderer" in graph.renderer for graph in graphs)
    html = render_html(dataclasses.replace(built[0], graphs=graphs))
    assert "Not drawn (no renderer: neither dot nor graphviz-pure was found)" in html
    assert "digraph ObjectGraph {" in html


@pytest.mark.slow
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
    reports.report.write_report(dataclasses.replace(built[0], bench=bench), out)
    assert json.loads((out / "bench.json").read_text()) == bench
    assert (out / ".native-cache" / "backstorie").read_text() == "a cached binary"
    assert "test cpu" in (out / "index.html").read_text()


@pytest.mark.slow
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


@pytest.mark.slow
def test_a_failed_write_leaves_the_previous_report_intact(
    built: tuple[Findings, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    reports.report.write_report(built[0], out)
    before = {name: (out / name).read_bytes() for name in FILES}

    def broken(findings: Findings) -> str:
        raise RuntimeError("disk full")

    renderers = {**reports.report.RENDERERS, "junit.xml": broken}
    monkeypatch.setattr("reports.report._build.RENDERERS", renderers)
    with pytest.raises(RuntimeError, match="disk full"):
        reports.report.write_report(built[0], out)
    assert {name: (out / name).read_bytes() for name in FILES} == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out"], "no leftovers"


def _stable(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _stable(v) for k, v in data.items() if k not in ("timings", "volatile")}
    if isinstance(data, list):
        return [_stable(item) for item in data]
    return data


@pytest.mark.slow
def test_two_runs_give_the_same_json_apart_from_timings(tmp_path: Path) -> None:
    """Not `id-dedup`: it loses a context only when CPython happens to give a new one a
    freed address, and where that happens shifts with Hypothesis's own allocations, which
    vary run to run; its verdict is stable (tests/reports/test_catalogue.py), its story is not."""
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


@pytest.mark.slow
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


@pytest.mark.slow
def test_the_page_stays_under_its_size_budget(built: tuple[Findings, Path]) -> None:
    """Two ownership pictures and the plot, inline, and every section: under 2 MB."""
    assert (built[1] / "index.html").stat().st_size < 2_000_000


@pytest.mark.slow
def test_every_violation_leads_with_its_diagnosis_in_the_page_and_in_markdown(
    built: tuple[Findings, Path],
) -> None:
    """One sentence, in plain words, before the evidence: on the page, right under the
    violation's heading and outside any `<details>`; in report-full.md, as a quote; in
    report.md, on its implementation's row."""
    findings, out = built
    page = (out / "index.html").read_text()
    markdown = (out / "report-full.md").read_text()
    summary = (out / "report.md").read_text()
    violated = [impl for impl in findings.implementations if impl.violation is not None]
    assert {impl.name for impl in violated} >= ONE_PER_PROPERTY
    for impl in violated:
        assert impl.violation is not None
        said = impl.violation.diagnosis
        assert said, impl.name
        assert "\n" not in said, impl.name
        assert said.endswith("."), impl.name
        heading = page.index(f'<h3 id="{impl.anchor}">')
        diagnosis = page.index(f'<p class="diagnosis">{escape(said)}</p>', heading)
        evidence = page.index("<details>", heading)
        assert diagnosis < evidence, f"{impl.name}: the diagnosis comes first, outside <details>"
        assert page.rfind("</details>", heading, diagnosis) == -1
        assert f"\n> {_md(said)}\n" in markdown, impl.name
        assert f" | {impl.violation.property}: {_md(said)} |\n" in summary, impl.name


def test_the_diagnosis_is_the_first_sentence_with_what_holds_the_object() -> None:
    from reports.report._diagnosis import diagnosis_of as diagnosis

    assert diagnosis("the context was freed while stored: the store did not keep it.\n"
                     "The last reference was dropped at:\n    #0 in f x.py:1") == (
        "The context was freed while stored: the store did not keep it."
    )  # fmt: skip
    assert diagnosis("the context is still alive.\nheld by: Store._history -> list[0]") == (
        "The context is still alive, held by Store._history -> list[0]."
    )
    assert diagnosis("freed while still referenced (an over-release); freed at:\n  #0 f") == (
        "Freed while still referenced (an over-release)."
    )
    assert diagnosis("store.get('a') returned None. 'a' was stored. More.") == (
        "store.get('a') returned None."
    ), "a name or a call keeps its case"
    assert diagnosis("=====\n==ERROR: heap-use-after-free") == "==ERROR: heap-use-after-free."
    assert diagnosis("") == ""


def test_a_crashs_diagnosis_names_the_step_and_the_call_it_died_in() -> None:
    """A crash's detail (`refimpl.contract._isolated`) says what ended the worker on its
    first line and during which step on the next; the diagnosis keeps both, once."""
    from reports.report._diagnosis import diagnosis_of as diagnosis

    def crash(first: str, during: str) -> str:
        return (
            f"the worker running the code under test: {first}\n{during}\n"
            "last completed step: step 1: state.store(name='a')  # store['a'] = a context\n"
            "\nwhat the worker said before it ended:\n(the worker wrote nothing)"
        )

    step = "during step 2: state.remove(name='a')  # del store['a']"
    said = "The worker running the code under test: exited with status 0"
    assert diagnosis(crash("exited with status 0", step)) == (
        f"{said}, during step 2 (del store['a'])."
    )
    assert diagnosis(crash("exited with status 0, during step 2 (del store['a'])", step)) == (
        f"{said}, during step 2 (del store['a'])."
    ), "a first line that already says so is not repeated"
    assert diagnosis(crash("exited with status 0", "during step 3: state.check()")) == (
        f"{said}, during step 3 (state.check())."
    ), "no comment: the code itself"
    assert diagnosis(crash("exited with status 0", "during the factory call")) == f"{said}."
    killed = "The worker running the code under test: killed by a segfault"
    assert diagnosis(crash("killed by a segfault. It said nothing.", step)) == (
        f"{killed}, during step 2 (del store['a'])."
    ), "the first sentence, with the step"


def _failing(findings: Findings) -> Findings:
    """`findings` with its first mutant escaped: no property broke."""
    mutant = next(impl for impl in findings.implementations if impl.kind == "mutant")
    cells = {**mutant.cells, **{prop: "held" for prop, cell in mutant.cells.items()
                                if cell in ("violated", "not-judged")}}  # fmt: skip
    escaped = dataclasses.replace(mutant, cells=cells, violation=None)
    return dataclasses.replace(
        findings,
        implementations=[escaped if impl is mutant else impl for impl in findings.implementations],
    )


@pytest.mark.slow
def test_a_failing_report_is_red_where_it_fails(built: tuple[Findings, Path]) -> None:
    """An escaped mutant: its declared property reads ESCAPED (red, linking to why), never
    a green "held"; its "as expected" a red NO; the violations section says it escaped."""
    failing = _failing(built[0])
    escaped = next(impl for impl in failing.implementations if impl.escaped)
    assert escaped.expected is not None
    page = render_html(failing)
    row = page[page.index(f"<td><strong>{escaped.name}</strong>") :]
    row = row[: row.index("</tr>")]
    assert f'<td class="escaped"><a href="#{escaped.anchor}">ESCAPED</a></td>' in row
    assert 'class="held"' not in row, "an escaped mutant painted green"
    assert '<td class="no">NO</td>' in row
    assert f'<h3 id="{escaped.anchor}">{escaped.name}: <span class="flag">ESCAPED</span></h3>' \
        in page  # fmt: skip
    assert '<p id="verdict" class="verdict bad">FAIL: ' in page
    markdown = render_markdown(failing)
    assert "| **ESCAPED** |" in markdown
    assert f"### {_md(escaped.name)}: ESCAPED" in markdown


@pytest.mark.slow
def test_a_mutant_caught_where_it_declares_is_green_and_its_other_cells_plain(
    built: tuple[Findings, Path],
) -> None:
    findings, _ = built
    for impl in findings.implementations:
        shown = {prop: impl.shown(prop)[0] for prop in PROPERTIES}
        if impl.kind == "fixed":
            assert set(shown.values()) <= {"held", "not-applicable"}, impl.name
        else:
            assert shown[impl.expected or ""] == "caught", impl.name
            assert "held" not in shown.values(), f"{impl.name}: a mutant's cell painted green"


def test_with_no_violation_the_section_says_none() -> None:
    from tests.report_samples import tiny_findings

    findings = tiny_findings("none")
    clean = dataclasses.replace(findings, implementations=findings.implementations[:1])
    assert "<h2 id=\"violations\">Violations, shrunk</h2>\n<p>None: no implementation broke a " \
        "property.</p>" in render_html(clean)  # fmt: skip
    assert "## Violations, shrunk\n\nNone: no implementation broke a property.\n" in (
        render_markdown(clean)
    )


@pytest.mark.slow
def test_the_page_says_exactly_how_to_make_it_again(built: tuple[Findings, Path]) -> None:
    """The command with its profile and options, the commit, the date, and the versions of
    Python, Hypothesis and Nim ("not run" without native.json)."""
    from refimpl.contract._profiles import profile_name

    findings, out = built
    page = _text((out / "index.html").read_text())
    command = (
        f"HYPOTHESIS_PROFILE={profile_name()} python -m reports --out {out} --max-examples 20 "
        f"--frames 8 --only {','.join(sorted(ONE_PER_PROPERTY))}"
    )
    assert findings.environment.command == command
    assert "Reproduce this page From a clone of this project" in page
    assert command in page
    assert findings.date
    assert findings.date in page
    assert json.loads((out / "report.json").read_text())["timings"]["date"] == findings.date
    assert f"Python {findings.environment.python} on" in page
    assert f"Hypothesis {findings.environment.packages['hypothesis']}, profile " in page
    assert "Nim not run (no native.json beside this report: make native)" in page
    assert findings.environment.commit is not None, "the suite runs in a git checkout"
    assert f"commit {findings.environment.commit}" in page
    assert f"{command}\n" in (out / "report.md").read_text()
    assert f"{command}\n" in (out / "report-full.md").read_text()


def test_make_report_is_named_for_what_it_runs() -> None:
    from reports.report._build import DEFAULT_OUT, reproduce_command

    assert reproduce_command("ci", out=DEFAULT_OUT) == "HYPOTHESIS_PROFILE=ci python -m reports"
    assert reproduce_command("dev", out=Path("x y"), frames=3) == (
        "HYPOTHESIS_PROFILE=dev python -m reports --out 'x y' --frames 3"
    )
    findings = _sample_environment("HYPOTHESIS_PROFILE=ci python -m reports")
    assert "That is what <code>make report</code> runs." in render_html(findings)
    assert "Reproduce with `make report`, which runs" in render_markdown(findings)


def _sample_environment(command: str) -> Findings:
    from tests.report_samples import tiny_findings

    findings = tiny_findings("make")
    return dataclasses.replace(
        findings, environment=dataclasses.replace(findings.environment, command=command)
    )


@pytest.mark.slow
def test_descriptions_show_code_as_code_and_count_steps_right(
    built: tuple[Findings, Path],
) -> None:
    findings, out = built
    page = (out / "index.html").read_text()
    untracked = next(impl for impl in findings.implementations if impl.name == "untracked")
    assert "`id()`" in untracked.bug
    assert "<code>id()</code>" in page
    for impl in findings.implementations:
        if impl.violation is None:
            continue
        start = page.index("<strong>The bug:</strong> ", page.index(f'<h3 id="{impl.anchor}">'))
        assert "`" not in page[start : page.index("</p>", start)], impl.name
    one_step = [i for i in findings.implementations if i.violation and len(i.violation.steps) == 2]
    assert one_step, "a story of one step (and its setup line)"
    assert "(1 step)" in page
    assert "(1 steps)" not in page
    assert "(1 step):" in (out / "report-full.md").read_text()


@pytest.mark.slow
def test_lessons_show_the_nim_they_start_from(built: tuple[Findings, Path]) -> None:
    from reports.lessons import LESSONS

    page = (built[1] / "index.html").read_text()
    with_nim = [lesson for lesson in LESSONS if lesson.nim]
    assert with_nim
    for lesson in with_nim:
        assert lesson.nim is not None
        assert f"<p>In the Nim seed:</p>\n<pre><code>{escape(lesson.nim)}</code></pre>" in page


def test_the_native_section_shows_what_was_expected_and_colours_the_verdict() -> None:
    from reports.report._native import native_verdict

    def cell(host: str, **what: object) -> dict[str, object]:
        return {"host": host, "exit_status": 0, "frame_line": "Frame: 120", **what}

    fixed = "exit 0, Frame: 120, nothing reported"
    broken = "fails or reports the bug"
    assert native_verdict(cell("fixed"), 120) == (fixed, "held", "clean")
    assert native_verdict(cell("fixed", frame_line="Frame: 119"), 120) == (
        fixed, "violated", "FAILED"
    )  # fmt: skip
    assert native_verdict(cell("broken"), 120) == (broken, "missed", "missed: ran on silently")
    assert native_verdict(cell("broken", frame_line="Frame: 240"), 120) == (
        broken, "caught", "caught: wrong count"
    )  # fmt: skip
    assert native_verdict(cell("broken", report={"kind": "x"}), 120)[1:] == (
        "caught", "caught: reported"
    )  # fmt: skip
    assert native_verdict(cell("broken", signal="SIGSEGV", exit_status=139), 120)[2] == (
        "caught: crashed"
    )
    assert native_verdict(cell("broken", not_run="no valgrind"), 120) == ("-", "not-run", "not run")


@pytest.mark.slow
def test_a_description_shows_its_code_as_code_in_both_files(built: tuple[Findings, Path]) -> None:
    """ "Keeps only the address (`id()`)": a code span in report-full.md as on the page, not
    escaped backticks; a span holding what Markdown or HTML reads stays escaped text."""
    findings, out = built
    untracked = next(impl for impl in findings.implementations if impl.name == "untracked")
    assert "`id()`" in untracked.bug
    assert untracked.bug in (out / "report-full.md").read_text()
    assert "<code>id()</code>" in (out / "index.html").read_text()
    hostile = dataclasses.replace(untracked, bug="a `<b>` and `x|y` and `ok`")
    markdown = render_markdown(dataclasses.replace(findings, implementations=[hostile]))
    assert "a \\`&lt;b&gt;\\` and \\`x\\|y\\` and `ok`" in markdown


def test_the_broken_hosts_session_records_the_frame_it_died_in_and_why() -> None:
    """What the plot marks: the frame the broken host crashed in and the cause its
    sanitizer report gives; a host that ran to the end has neither."""
    fixed, broken, weakref = collect_sessions(3, lambda line: None)
    assert (broken.crashed_at, broken.frames[-1]) == (1, 1)
    assert broken.crash == (
        "heap-use-after-free on a PluginContext[CounterState] of plugin 'simple_counter', "
        "freed in init"
    )
    assert (fixed.crashed_at, fixed.crash, weakref.crashed_at, weakref.crash) == (None,) * 4
