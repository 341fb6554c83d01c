"""The report's prose reads as written: inline Markdown in a description is shown as
Markdown shows it (emphasis, not asterisks), no parenthesis is doubled, and each fact of
the environment is said once. Every test renders findings built by hand."""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser

from broken_variant.mutants import MUTANTS
from reports.report import Findings, render_html, render_markdown
from tests.report_samples import tiny_findings


class _Prose(HTMLParser):
    """The text a reader reads on a page, outside code (`<code>`, `<pre>`), styles and
    pictures, one string per block; and the cells of the environment table, by row."""

    BLOCKS = frozenset({"p", "li", "td", "th", "h1", "h2", "h3", "figcaption", "summary"})
    SKIPPED = frozenset({"code", "pre", "style", "script"})

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.environment: list[list[str]] = []
        self._text: list[str] = []
        self._skipping = 0
        self._in_environment = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIPPED:
            self._skipping += 1
        if tag == "table":
            self._in_environment = dict(attrs).get("id") == "environment"
        if tag == "tr" and self._in_environment:
            self.environment.append([])
        if tag in self.BLOCKS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIPPED:
            self._skipping -= 1
        if tag in self.BLOCKS:
            text = self._flush()
            if tag in ("td", "th") and self._in_environment and self.environment:
                self.environment[-1].append(text)
        if tag == "table":
            self._in_environment = False

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self._text.append(data)

    def _flush(self) -> str:
        text = " ".join("".join(self._text).split())
        if text:
            self.blocks.append(text)
        self._text = []
        return text


def _markdown_prose(markdown: str) -> list[str]:
    """report.md's lines outside code blocks, each without its code spans."""
    lines, in_code = [], False
    for line in markdown.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code:
            lines.append(re.sub(r"`[^`]*`", "", line))
    return lines


def _with_bug(findings: Findings, bug: str) -> Findings:
    """`findings` with its mutant's bug described by `bug`."""
    implementations = [
        dataclasses.replace(impl, bug=bug) if impl.kind == "mutant" else impl
        for impl in findings.implementations
    ]
    return dataclasses.replace(findings, implementations=implementations)


DATA_CHECK = next(mutant for mutant in MUTANTS if mutant.name == "data-check-downcast")


def test_a_descriptions_emphasis_is_shown_as_emphasis_not_as_asterisks() -> None:
    """The catalogue's "Checks the stored context's *data* with `isinstance`": the page
    shows *data* in italics (an `<em>`), as report.md's reader sees it; no asterisk that
    Markdown would have read is left in the page's prose."""
    assert "*data*" in DATA_CHECK.bug
    findings = _with_bug(tiny_findings("emphasis"), DATA_CHECK.bug)
    page = render_html(findings)
    assert "context&#39;s <em>data</em> with <code>isinstance</code>" in page
    leftover = [block for block in _Prose(page).blocks if re.search(r"\*\w[^*]*\*", block)]
    assert leftover == [], "asterisks a Markdown reader would not see"
    assert "context's *data* with `isinstance`" in render_markdown(findings)


def test_an_asterisk_that_is_not_emphasis_stays_an_asterisk() -> None:
    findings = _with_bug(tiny_findings("asterisks"), "keeps 2*3*4 and a * b, `*c*` and *d")
    page = render_html(findings)
    said = "<strong>The bug:</strong> keeps 2*3*4 and a * b, <code>*c*</code> and *d</p>"
    assert said in page, "an asterisk Markdown would not read is shown as it is"
