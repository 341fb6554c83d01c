"""Render findings as HTML (one self-contained page), Markdown (the summary and the full
report) and JSON (JUnit XML: `reports.report._junit`).

Whatever a name, message or detail holds, it reaches a file only through that format's
escaping: HTML through Jinja's autoescape, Markdown through `_md` on every expression
(code blocks through `_fence`), JUnit through ElementTree; and in every text file a
character XML 1.0 forbids, or a control character, is written as a visible escape
(`\\x1b`). Pictures are `<img>` data URIs: in an image, a browser runs no script and
fetches nothing that the SVG names.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import asdict
from typing import Any

from jinja2 import Environment as Templates
from jinja2 import PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from reports.report._authorship import GENERATOR, HTML_MARK, MARKDOWN_MARK
from reports.report._freshness import Freshness
from reports.report._model import SCHEMA_VERSION, Findings

__all__ = [
    "printable",
    "render_html",
    "render_json",
    "render_markdown",
    "render_summary",
    "to_data",
]

SUMMARY_PROBLEMS = 5
"""The problems report.md lists one by one; the rest it counts (each is a row marked NO)."""

_UNPRINTABLE = re.compile("[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_LINE_BREAK = re.compile("\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")
_MARKDOWN = str.maketrans(
    {"\\": "\\\\", "`": "\\`", "|": "\\|", "[": "\\[", "]": "\\]",
     "&": "&amp;", "<": "&lt;", ">": "&gt;"}
)  # fmt: skip
_SVG_ROOT = "{http://www.w3.org/2000/svg}svg"


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with each character that XML 1.0 forbids (NUL, lone surrogates, U+FFFE...)
    or that a terminal obeys (ESC and the other C0 and C1 controls but tab and line
    breaks) replaced by its escape, as visible text.

    >>> printable("a\\x00b\\x1b[31m\\ud800")
    'a\\\\x00b\\\\x1b[31m\\\\ud800'
    """
    return _UNPRINTABLE.sub(_escape, text)


def _svg_img(svg: str | None, alt: str) -> Markup | None:
    """`svg` as an `<img>` with a data URI, or `None` when it is not one well-formed SVG
    document. In an image no script runs, no handler fires and nothing outside it is
    fetched, whatever the SVG says; its ids stay its own."""
    if svg is None:
        return None
    try:
        root = ElementTree.fromstring(svg)
    except (ElementTree.ParseError, UnicodeError):
        return None
    if root.tag != _SVG_ROOT:
        return None
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return Markup('<img alt="{}" src="data:image/svg+xml;base64,{}">').format(alt, data)


_CODE_SPAN = re.compile("`([^`]+)`")
_EMPHASIS = re.compile(r"(?<![\w*\\])\*(?=[^\s*])([^*\n]*?[^\s*\\])\*(?![\w*])")
"""`*word*` or `*a few words*`, as Markdown emphasises them: no space just inside either
asterisk, no word character just outside (`2*3*4` and `a * b * c` stay as they are)."""


def _inline(text: object) -> Markup:
    """`text` escaped for HTML, then its inline Markdown shown as Markdown shows it: each
    pair of backticks a `<code>` element, each `*emphasis*` outside them an `<em>`:
    "Checks the *data* with `isinstance`" -> "Checks the <em>data</em> with
    <code>isinstance</code>". The escaping comes first, so what a span holds is text; a
    lone backtick or asterisk stays as it is.

    >>> str(_inline("a *b* `*c*` <d>"))
    'a <em>b</em> <code>*c*</code> &lt;d&gt;'
    """
    escaped = str(escape(str(text)))
    parts, last = [], 0
    for match in _CODE_SPAN.finditer(escaped):
        parts.append(_EMPHASIS.sub(r"<em>\1</em>", escaped[last : match.start()]))
        parts.append(f"<code>{match.group(1)}</code>")
        last = match.end()
    parts.append(_EMPHASIS.sub(r"<em>\1</em>", escaped[last:]))
    return Markup("".join(parts))


class _Verbatim(str):
    """Text already made safe for where it goes in Markdown (a code block)."""

    __slots__ = ()


_HOLDING_CHAIN = re.compile(r"(?<=held by )[^`|\\<&]+? -> [^`|\\<&]+?(?=\.?$|[.;] )")
"""What keeps an object alive, as a diagnosis says it ("held by LeakyStore._history ->
list[2]."): up to the sentence's end, with nothing a code span could not hold as it is."""


def _md(value: object) -> str:
    """Any value safe in a Markdown table cell or paragraph: on one line, no HTML, no
    cell break, code span, link or escape of its own, but for a holding chain ("held by
    `LeakyStore._history -> list[2]`"), a code span that shows its arrows and brackets as
    written (nothing in it is read as Markdown or HTML). Applied to every expression of
    the Markdown template, except a `_fence`'s.

    >>> _md("alive, held by S._history -> list[2]. See <x>")
    'alive, held by `S._history -> list[2]`. See &lt;x&gt;'
    """
    if isinstance(value, _Verbatim):
        return value
    text = _LINE_BREAK.sub(" ", str(value))
    parts, last = [], 0
    for chain in _HOLDING_CHAIN.finditer(text):
        parts += [text[last : chain.start()].translate(_MARKDOWN), f"`{chain.group(0)}`"]
        last = chain.end()
    parts.append(text[last:].translate(_MARKDOWN))
    return "".join(parts)


_PLAIN_CODE = re.compile(r"[^\\|<>&\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+")


def _md_inline(text: object) -> _Verbatim:
    """`text` safe in Markdown (see `_md`), with each pair of backticks around plain text
    kept as a code span, as the HTML page shows it; a span holding anything Markdown
    or HTML could read (`<`, `&`, `|`, a backslash, a line break) is escaped as text."""
    parts = []
    last = 0
    for match in _CODE_SPAN.finditer(str(text)):
        parts.append(_md(str(text)[last : match.start()]))
        inside = match.group(1)
        parts.append(f"`{inside}`" if _PLAIN_CODE.fullmatch(inside) else _md(match.group(0)))
        last = match.end()
    parts.append(_md(str(text)[last:]))
    return _Verbatim("".join(parts))


def _fence(text: object) -> _Verbatim:
    """Text safe inside a fenced code block (which no line of it may close)."""
    return _Verbatim(str(text).replace("```", "'''"))


@functools.cache
def _templates(autoescape: bool) -> Templates:
    """The HTML templates (autoescaped) or the Markdown ones (each expression `_md`)."""
    templates = Templates(
        loader=PackageLoader("reports.report", "templates"),
        autoescape=autoescape,
        finalize=None if autoescape else _md,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    inline = _inline if autoescape else _md_inline
    templates.filters.update(svg_img=_svg_img, fence=_fence, inline=inline)
    templates.globals.update(
        PROBLEMS=SUMMARY_PROBLEMS,
        HTML_MARK=Markup(HTML_MARK),
        MARKDOWN_MARK=_Verbatim(MARKDOWN_MARK),
    )
    return templates


def render_html(findings: Findings) -> str:
    """The report as one HTML page with everything inline (no external resource)."""
    page = _templates(autoescape=True).get_template("index.html.j2").render(f=findings)
    return printable(page)


def render_markdown(findings: Findings) -> str:
    """The whole report as Markdown (report-full.md): everything the page says, but its
    pictures."""
    text = _templates(autoescape=False).get_template("report-full.md.j2").render(f=findings)
    return printable(text)


def render_summary(findings: Findings) -> str:
    """The report's summary as Markdown (report.md), short enough for a pull-request
    comment: the verdict and the first `SUMMARY_PROBLEMS` problems, the command that made
    it, and the matrix with one line per implementation, its violation's diagnosis in it.
    Under 80 lines for the catalogue of today (tests/reports/report/test_summary.py)."""
    text = _templates(autoescape=False).get_template("report.md.j2").render(f=findings)
    return printable(text)


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
        "generator": GENERATOR,
        "ok": findings.ok,
        "summary": findings.summary,
        "problems": findings.problems,
        "environment": asdict(findings.environment),
        "timings": {"date": findings.date},
        "properties": list(findings.properties),
        "implementations": implementations,
        "sessions": [asdict(session) for session in findings.sessions],
        "lessons": [
            {
                "name": lesson.name,
                "title": lesson.title,
                "state": lesson.state,
                "holds": None if lesson.state == "not-run" else lesson.holds,
                "contract_property": lesson.contract_property,
                "not_run": lesson.not_run,
                "volatile": {"broken": lesson.broken, "fixed": lesson.fixed},
                "timings": {
                    "seconds": None if lesson.seconds is None else round(lesson.seconds, 3)
                },
            }
            for lesson in findings.lessons
        ],
        "native": findings.native,
        "survey": _survey_data(findings),
        "extras": {name: _freshness_data(fresh) for name, fresh in findings.extras.items()},
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


def _freshness_data(fresh: Freshness) -> dict[str, Any]:
    return {
        "file": fresh.file, "command": fresh.command, "present": fresh.present,
        "stale": fresh.stale, "reason": fresh.reason, "commit": fresh.commit,
        "dirty": fresh.dirty,
    }  # fmt: skip


def _survey_data(findings: Findings) -> dict[str, Any] | None:
    """survey.json as the report read it: each registry, its link (or null when its
    address may not be one) and the first line of its evidence."""
    survey = findings.survey
    if survey is None:
        return None
    return {
        "date": survey.date, "command": survey.command, "profile": survey.profile,
        "commit": survey.commit, "dirty": survey.dirty, "summary": survey.summary,
        "registries": [
            {
                "name": row.name, "library": row.library, "version": row.version,
                "documented": row.documented, "citation": row.citation, "url": row.url,
                "link": row.link, "status": row.status, "found": row.found,
                "examples": row.examples, "steps": list(row.steps), "detail": row.detail,
                "diagnosis": row.diagnosis, "note": row.note,
                "timings": {"seconds": row.seconds},
            }
            for row in survey.rows
        ],
    }  # fmt: skip


def render_json(findings: Findings) -> str:
    """`to_data` as indented JSON."""
    return json.dumps(to_data(findings), indent=2, sort_keys=True) + "\n"
