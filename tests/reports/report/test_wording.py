"""The report's prose reads as written: inline Markdown in a description is shown as
Markdown shows it (emphasis, not asterisks), no parenthesis is doubled, and each fact of
the environment is said once. Every test renders findings built by hand."""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser
from typing import Any

from broken_variant.mutants import MUTANTS
from reports.report import Findings, render_html, render_markdown, render_summary
from tests.report_samples import catalogue_findings, tiny_findings


class _Prose(HTMLParser):
    """The text a reader reads on a page, outside code (`<code>`, `<pre>`) and styles,
    one string per block; and the environment table's cells (code included), by row."""

    BLOCKS = frozenset({"p", "li", "td", "th", "h1", "h2", "h3", "figcaption", "summary"})
    SKIPPED = frozenset({"code", "pre", "style", "script"})

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.environment: list[list[str]] = []
        self._text: list[str] = []
        self._cell: list[str] = []
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
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIPPED:
            self._skipping -= 1
        if tag in self.BLOCKS:
            self._flush()
            if tag in ("td", "th") and self._in_environment and self.environment:
                self.environment[-1].append(" ".join("".join(self._cell).split()))
        if tag == "table":
            self._in_environment = False

    def handle_data(self, data: str) -> None:
        self._cell.append(data)
        if not self._skipping:
            self._text.append(data)

    def _flush(self) -> None:
        text = " ".join("".join(self._text).split())
        if text:
            self.blocks.append(text)
        self._text = []


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


def _as_made_by_make_report(findings: Findings) -> Findings:
    """`findings` with the environment `python -m reports` records on the `ci` profile."""
    from hypothesis import settings

    from reports.report._collect import environment

    made = environment(settings(derandomize=True), "HYPOTHESIS_PROFILE=ci python -m reports", "ci")
    return dataclasses.replace(findings, environment=made)


def test_no_parenthesis_is_doubled_in_the_prose_of_either_file() -> None:
    """The seed "derived from the state machine's source (derandomize=True)" is said
    without a parenthesis around it: no "...True))." on the page or in report.md."""
    findings = _as_made_by_make_report(tiny_findings("parentheses"))
    seed = findings.environment.hypothesis["seed"]
    assert seed.endswith(")"), "the case this guards: a seed that ends in a parenthesis"
    prose = _Prose(render_html(findings)).blocks + _markdown_prose(render_markdown(findings))
    assert [text for text in prose if "))" in text or "((" in text] == []
    assert any(f"Hypothesis seed: {seed}." in text for text in prose)


def test_the_environment_table_gives_hypothesiss_version_and_profile_once() -> None:
    findings = _as_made_by_make_report(tiny_findings("environment"))
    rows = _Prose(render_html(findings)).environment
    version = findings.environment.packages["hypothesis"]
    assert [row for row in rows if any(version in cell for cell in row[1:])] == [
        ["Hypothesis", f"{version}, profile ci"]
    ]
    assert [row for row in rows if any(cell == "ci" for cell in row[1:])] == []


_DOUBLED = re.compile(r"\b(\w+)\s+\1\b", re.IGNORECASE)


def _with_violations(findings: Findings, **changed: Any) -> Findings:
    """`findings` with each violation's fields `changed`: its `probe` (what the store
    answered, asked for the dead context afterwards), its `detail` (and so its diagnosis)."""
    implementations = [
        dataclasses.replace(impl, violation=dataclasses.replace(impl.violation, **changed))
        if impl.violation is not None
        else impl
        for impl in findings.implementations
    ]
    return dataclasses.replace(findings, implementations=implementations)


def test_no_word_is_doubled_in_the_pages_prose() -> None:
    """The sample findings, with what a store answered for a dead context (whose call,
    `store.get_plugin_data(...)`, once followed "the store" there: "the store store")."""
    probe = "store.get_plugin_data('a') returned None"
    for findings in (catalogue_findings(), _with_violations(catalogue_findings(), probe=probe)):
        blocks = _Prose(render_html(findings)).blocks
        doubled = [block for block in blocks if _DOUBLED.search(block)]
        assert doubled == [], "a word said twice in a row"
    probed = _Prose(render_html(_with_violations(catalogue_findings(), probe=probe))).blocks
    assert any(probe in block for block in probed), "the case this guards: the probe is shown"


def test_a_holding_chain_reads_as_written_in_both_markdown_files() -> None:
    """ "held by LeakyStore._history -> list[2]" reads so in report.md and report-full.md,
    as a code span: not "-&gt;" nor "list\\[2\\]"."""
    detail = "the context is still alive.\nheld by: LeakyStore._history -> list[2]"
    findings = _with_violations(tiny_findings("chain"), detail=detail)
    for markdown in (render_summary(findings), render_markdown(findings)):
        assert "alive, held by `LeakyStore._history -> list[2]`." in markdown
        assert "-&gt;" not in markdown
        assert "\\[2\\]" not in markdown


def test_a_holding_chain_a_code_span_cannot_hold_is_escaped_as_text() -> None:
    detail = "the context is still alive.\nheld by: Store['a|b'] -> list[2]"
    markdown = render_summary(_with_violations(tiny_findings("chain"), detail=detail))
    assert "held by Store\\['a\\|b'\\] -&gt; list\\[2\\]." in markdown


def test_the_markdown_says_why_examples_run_can_exceed_max_examples() -> None:
    """report-full.md shows hypothesis max_examples (500) and, per implementation, the
    examples run (569 in a real run): each says, as the page does, that the examples run
    include the shrinking."""
    findings = _as_made_by_make_report(catalogue_findings())
    lines = render_markdown(findings).splitlines()
    budget = f"- hypothesis max_examples: {findings.environment.hypothesis['max_examples']} ("
    said = [line for line in lines if line.startswith(budget)]
    assert len(said) == 1, said
    assert "shrinking included" in said[0], said
    table = lines.index(
        "| implementation | examples run | first violation seen | total (with shrinking) |"
    )
    legend = next(line for line in lines[table:] if line.startswith("Examples run: "))
    assert "search and shrinking included" in legend
    assert "max_examples" in legend
