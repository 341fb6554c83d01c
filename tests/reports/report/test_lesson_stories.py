"""The report page teaches a lesson as the terminal does: the contract's shortest story,
every word of it explained, and a library lesson's few lines without the harness with what
they returned, live. The lessons here are real and run for the test."""

from __future__ import annotations

import dataclasses
import html
from functools import cache

import pytest

from reports.lessons import lesson_named
from reports.lessons._glossary import STEPS, story_lines
from reports.report import render_html
from reports.report._collect import collect_lessons
from reports.report._model import LessonResult
from tests.report_samples import tiny_findings


@cache
def collected(name: str) -> LessonResult:
    """The lesson called `name`, run live as `make report` runs it."""
    (result,) = collect_lessons(lambda _: None, [lesson_named(name)])
    return result


def section_of(result: LessonResult) -> str:
    """The page's section for the one lesson `result`, unescaped, up to the next `<h2>`."""
    page = render_html(dataclasses.replace(tiny_findings("lesson"), lessons=[result]))
    start = page.index(f'id="{result.anchor}"')
    return html.unescape(page[start : page.index("<h2", start)])


def test_a_lesson_shows_its_story_and_what_each_of_its_words_means() -> None:
    result = collected("blinker-disconnect")
    assert result.state == "shown", result.not_run
    section = section_of(result)
    assert f"catches it with <strong>{result.contract_property}</strong>" in section
    for line in story_lines(result.story):
        assert line in section
    steps = [line.split("(")[0].removeprefix("state.") for line in result.story[1:]]
    assert steps, result.story
    for step in steps:
        assert f"<dt><code>{step}</code></dt><dd>{STEPS[step]}</dd>" in section, step


def test_a_library_lesson_shows_its_lines_without_the_harness_and_what_they_returned() -> None:
    result = collected("blinker-disconnect")
    section = section_of(result)
    assert result.library is not None
    assert result.library.startswith("blinker ")
    assert f"Without the harness, {result.library} alone:" in section
    assert "def without_the_harness() -> str:" in section
    assert 'signal.disconnect(receiver, sender="counter")' in section
    assert "it returned: receivers for 'counter': []; the receiver is alive: True" in section


@pytest.mark.parametrize("name", ["double-free", "cycles"])
def test_a_lesson_the_contract_does_not_judge_shows_no_story_nor_library_lines(name: str) -> None:
    result = collected(name)
    section = section_of(result)
    assert result.story == ()
    assert result.reproduction is None
    assert "shortest story" not in section
    assert "Without the harness" not in section
