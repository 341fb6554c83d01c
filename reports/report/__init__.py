"""The report: `python -m reports` writes index.html, report.md (a summary), report-full.md,
report.json and junit.xml from one run of the contract on every implementation and the hosts."""

from reports.report._authorship import GENERATOR, ForeignFiles, foreign_files
from reports.report._build import FILES, RENDERERS, build_report, collect, write_report
from reports.report._junit import render_junit
from reports.report._model import SCHEMA_VERSION, Findings
from reports.report._render import render_html, render_json, render_markdown, render_summary

__all__ = [
    "FILES",
    "GENERATOR",
    "RENDERERS",
    "SCHEMA_VERSION",
    "Findings",
    "ForeignFiles",
    "build_report",
    "collect",
    "foreign_files",
    "render_html",
    "render_json",
    "render_junit",
    "render_markdown",
    "render_summary",
    "write_report",
]
