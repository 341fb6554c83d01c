"""report.md is a summary a pull-request comment can hold: the verdict, the command, the
matrix with one line per violation, under 80 lines for the whole catalogue; report-full.md
beside it tells everything, as report.md used to. Every test renders findings built by hand."""

from __future__ import annotations

import dataclasses

import pytest

from reports.report import FILES, RENDERERS, render_markdown, render_summary
from reports.report._render import SUMMARY_PROBLEMS
from tests.report_samples import SANITIZER, catalogue_findings

MAX_LINES = 80
"""What a pull-request comment shows without a wall of text."""


@pytest.mark.parametrize("escaped", [False, True], ids=["passing", "every mutant escaped"])
def test_the_summary_of_the_whole_catalogue_is_under_80_lines(escaped: bool) -> None:
    findings = catalogue_findings(escaped=escaped)
    assert len(findings.implementations) >= 38
    assert len(findings.problems) == (len(findings.implementations) - 2 if escaped else 0)
    lines = render_summary(findings).splitlines()
    assert len(lines) < MAX_LINES, f"report.md is {len(lines)} lines"


def test_the_summary_gives_the_verdict_the_command_and_a_row_per_implementation() -> None:
    findings = catalogue_findings()
    summary = render_summary(findings)
    lines = summary.splitlines()
    assert lines[:3] == ["# Ownership contract report", "", f"**PASS**: {findings.summary}"]
    assert f"```sh\n{findings.environment.command}\n```" in summary
    assert "report-full.md" in summary
    rows = [line for line in lines if line.startswith("| ")]
    assert rows[0].startswith("| implementation | crash | survival | no-stale |")
    assert [row.split(" | ")[0] for row in rows[1:]] == [
        f"| {impl.name} ({impl.kind} {impl.target})" for impl in findings.implementations
    ]


def test_each_violation_is_one_line_its_diagnosis_on_its_row() -> None:
    findings = catalogue_findings()
    lines = render_summary(findings).splitlines()
    for impl in findings.implementations:
        if impl.violation is None:
            continue
        said = f" | {impl.violation.property}: {impl.violation.diagnosis} |"
        holding = [line for line in lines if impl.violation.diagnosis in line]
        assert len(holding) == 1, f"{impl.name}'s diagnosis is said {len(holding)} times"
        assert holding[0].endswith(said), impl.name
        assert holding[0].startswith(f"| {impl.name} ("), impl.name


def test_the_summary_leaves_the_stories_to_the_full_report() -> None:
    """No steps, sanitizer report or lesson table in report.md; report-full.md has them,
    and everything else report.md used to hold."""
    findings = catalogue_findings()
    summary, full = render_summary(findings), render_markdown(findings)
    violation = findings.implementations[2].violation
    assert violation is not None
    assert summary.count("```") == 2, "one code block: the command"
    for story in (violation.steps[1], SANITIZER.splitlines()[1], "## Lessons"):
        assert story not in summary
        assert story in full
    for section in ("## Violations, shrunk", "## The hosts, frame by frame", "## Environment"):
        assert section in full


def test_a_failing_summary_names_its_first_problems_and_counts_the_rest() -> None:
    findings = catalogue_findings(escaped=True)
    lines = render_summary(findings).splitlines()
    listed = [line for line in lines if line.startswith("- ")]
    more = len(findings.problems) - SUMMARY_PROBLEMS
    assert listed == [f"- {problem}" for problem in findings.problems[:SUMMARY_PROBLEMS]] + [
        f"- and {more} more, each a row marked **NO** below"
    ]
    assert lines[2].startswith("**FAIL**: ")
    escaped = findings.implementations[-1]
    row = next(line for line in lines if line.startswith(f"| {escaped.name} ("))
    assert row.endswith(
        f" | **NO** | **ESCAPED**: no property broke in {escaped.examples} examples |"
    )


def test_a_fixed_implementation_that_broke_is_flagged_on_its_row() -> None:
    findings = catalogue_findings()
    broken = dataclasses.replace(
        findings.implementations[0],
        cells={**findings.implementations[0].cells, "survival": "violated"},
        violation=findings.implementations[2].violation,
    )
    summary = render_summary(dataclasses.replace(findings, implementations=[broken]))
    assert broken.violation is not None
    row = next(line for line in summary.splitlines() if line.startswith("| ContextStore ("))
    assert row.endswith(f" | **NO** | **survival**: {broken.violation.diagnosis} |")


def test_the_report_writes_the_summary_and_the_full_report_beside_the_other_files() -> None:
    """The four names the design gives stay; report-full.md joins them, written by the same
    atomic writer (tests/reports/report/test_writer.py holds every name of `FILES` to it)."""
    assert FILES == ("index.html", "report.md", "report-full.md", "report.json", "junit.xml")
    assert RENDERERS["report.md"] is render_summary
    assert RENDERERS["report-full.md"] is render_markdown
