"""Render findings as HTML (one self-contained page), Markdown, JSON and JUnit XML."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import asdict
from typing import Any

from jinja2 import Environment as Templates
from jinja2 import PackageLoader, StrictUndefined
from markupsafe import Markup

from reports._findings import SCHEMA_VERSION, Findings

__all__ = ["render_html", "render_json", "render_junit", "render_markdown", "to_data"]

_UNSAFE_SVG = re.compile(r"<\s*(script|foreignObject|iframe)|\son\w+\s*=|javascript:", re.I)


def _safe_svg(svg: str | None) -> Markup | None:
    """Trust an SVG made by Graphviz or matplotlib for inlining, unless it carries
    anything executable, in which case it is not inlined at all."""
    if svg is None or _UNSAFE_SVG.search(svg):
        return None
    return Markup(svg)  # checked above; text inside was escaped by its renderer


def _md(text: object) -> str:
    """Text safe inside a Markdown table cell or paragraph: no HTML, no broken tables."""
    return (
        str(text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("|", "\\|")
        .replace("\n", " ")
    )


def _fence(text: object) -> str:
    """Text safe inside a fenced code block (which no line of it may close)."""
    return str(text).replace("```", "'''")


def _templates(autoescape: bool) -> Templates:
    templates = Templates(
        loader=PackageLoader("reports", "templates"),
        autoescape=autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    templates.filters.update(safe_svg=_safe_svg, md=_md, fence=_fence)
    return templates


def render_html(findings: Findings) -> str:
    """The report as one HTML page with everything inline (no external resource)."""
    return _templates(autoescape=True).get_template("index.html.j2").render(f=findings)


def render_markdown(findings: Findings) -> str:
    """The report as Markdown for a code review."""
    return _templates(autoescape=False).get_template("report.md.j2").render(f=findings)


def to_data(findings: Findings) -> dict[str, Any]:
    """The findings as JSON-ready data (see `report.schema.json`).

    Timings sit under `timings` keys, and what may differ between two runs for
    another reason (what freed memory held, object ids in graphs) under
    `volatile` keys: everything else is the same for the same code and seed.
    """
    implementations = []
    for impl in findings.implementations:
        violation = None
        if impl.violation is not None:
            violation = {
                "property": impl.violation.property,
                "steps": list(impl.violation.steps),
                "detail": impl.violation.detail,
                "sanitizer_report": impl.violation.sanitizer_report,
                "volatile": {"probe": impl.violation.probe},
            }
        implementations.append({
            "name": impl.name, "kind": impl.kind, "target": impl.target,
            "factory": impl.factory, "bug": impl.bug, "expected": impl.expected,
            "as_expected": impl.as_expected, "cells": impl.cells, "violation": violation,
            "examples": impl.examples, "first_failure_examples": impl.first_failure_examples,
            "timings": {"seconds": round(impl.seconds, 3),
                        "first_failure_seconds": None if impl.first_failure_seconds is None
                        else round(impl.first_failure_seconds, 3)},
        })  # fmt: skip
    return {
        "schema_version": SCHEMA_VERSION,
        "ok": findings.ok,
        "summary": findings.summary,
        "problems": findings.problems,
        "environment": asdict(findings.environment),
        "properties": list(findings.properties),
        "implementations": implementations,
        "sessions": [asdict(session) for session in findings.sessions],
        "lessons": [
            {
                "name": lesson.name,
                "title": lesson.title,
                "holds": lesson.holds,
                "contract_property": lesson.contract_property,
                "not_run": lesson.not_run,
                "volatile": {"broken": lesson.broken, "fixed": lesson.fixed},
            }
            for lesson in findings.lessons
        ],
        "native": findings.native,
        "graphs": [
            {
                "title": g.title,
                "caption": g.caption,
                "rendered": g.svg is not None,
                "renderer": g.renderer,
                "volatile": {"dot": g.dot},
            }
            for g in findings.graphs
        ],
    }


def render_json(findings: Findings) -> str:
    """`to_data` as indented JSON."""
    return json.dumps(to_data(findings), indent=2, sort_keys=True) + "\n"


def render_junit(findings: Findings) -> str:
    """One test case per (implementation, property): a fixed implementation passes where
    the property held; a mutant passes where it is caught as it declares."""
    suites = ElementTree.Element("testsuites", name="ownership contract")
    for impl in findings.implementations:
        suite = ElementTree.SubElement(suites, "testsuite", name=impl.name)
        failures = skipped = 0
        for prop, cell in impl.cells.items():
            case = ElementTree.SubElement(
                suite,
                "testcase",
                classname=impl.name,
                name=prop,
                time=f"{impl.seconds / len(impl.cells):.3f}",
            )
            problem = _junit_problem(impl.kind, impl.expected, prop, cell)
            if problem is not None:
                failures += 1
                failure = ElementTree.SubElement(case, "failure", message=problem)
                if impl.violation is not None:
                    failure.text = "\n".join(impl.violation.steps) + "\n\n" + impl.violation.detail
            elif cell == "not-judged":
                skipped += 1
                ElementTree.SubElement(
                    case,
                    "skipped",
                    message=("not judged: the contract stopped at the first broken property"),
                )
        suite.set("tests", str(len(impl.cells)))
        suite.set("failures", str(failures))
        suite.set("skipped", str(skipped))
    ElementTree.indent(suites)
    return ElementTree.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _junit_problem(kind: str, expected: str | None, prop: str, cell: str) -> str | None:
    if kind == "fixed":
        return f"{prop} violated by the fixed implementation" if cell == "violated" else None
    if prop == expected and cell != "violated":
        return f"mutant not caught by {prop}, which it declares"
    if cell == "violated" and prop != expected:
        return f"mutant caught by {prop} instead of {expected}"
    return None
