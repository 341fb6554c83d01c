"""The report builder: `python -m reports` writes index.html, report.md, report.json and
junit.xml from one run of the contract on every implementation and both hosts.

Its names are imported on first use (PEP 562): `reports.survey`, `reports.native` and
`reports.bench` do not need the builder (matplotlib, Jinja2), and the contract's worker
imports `reports.survey` again at every start to find a surveyed registry's factory."""

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
    from reports._build import FILES, build_report, collect, write_report
    from reports._findings import SCHEMA_VERSION, Findings
    from reports._junit import render_junit
    from reports._render import render_html, render_json, render_markdown

__all__ = [
    "FILES",
    "SCHEMA_VERSION",
    "Findings",
    "build_report",
    "collect",
    "render_html",
    "render_json",
    "render_junit",
    "render_markdown",
    "write_report",
]

_HOMES = {
    "FILES": "_build", "build_report": "_build", "collect": "_build", "write_report": "_build",
    "SCHEMA_VERSION": "_findings", "Findings": "_findings", "render_junit": "_junit",
    "render_html": "_render", "render_json": "_render", "render_markdown": "_render",
}  # fmt: skip


def __getattr__(name: str) -> _typing.Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'reports' has no attribute {name!r}")
    value = getattr(_importlib.import_module(f"reports.{home}"), name)
    globals()[name] = value
    return value
