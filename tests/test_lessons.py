"""Each lesson's broken half shows the failure it claims, live, and its fixed half does not."""

from __future__ import annotations

import subprocess
import sys

import pytest

from refimpl.lessons import LESSONS, Lesson


@pytest.mark.parametrize(
    "lesson",
    [pytest.param(lesson, marks=[pytest.mark.native] if lesson.needs_nim else [])
     for lesson in LESSONS],
    ids=lambda lesson: lesson.name,
)  # fmt: skip
def test_broken_half_fails_and_fixed_half_does_not(lesson: Lesson) -> None:
    broken, fixed = lesson.run_broken(), lesson.run_fixed()
    assert broken.failed, f"{lesson.name}: the broken half did not fail: {broken.summary}"
    assert not fixed.failed, f"{lesson.name}: the fixed half failed: {fixed.summary}"


@pytest.mark.parametrize(
    "lesson", [lesson for lesson in LESSONS if lesson.contract], ids=lambda lesson: lesson.name
)
def test_the_contract_catches_what_the_lesson_teaches(lesson: Lesson) -> None:
    run = lesson.run()
    assert run.contract_property is not None, f"{lesson.name}: the contract found nothing"
    assert run.contract_steps[0].startswith("from refimpl.contract import replay")


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.name)
def test_lesson_shows_real_source_for_both_halves(lesson: Lesson) -> None:
    assert "def " in lesson.source("broken") or "class " in lesson.source("broken")
    assert "def " in lesson.source("fixed") or "class " in lesson.source("fixed")
    assert 2 <= lesson.pitfall.count(". ") + 1 <= 4, "two or three plain sentences"


def test_walkthrough_runs_every_lesson_and_exits_0() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "refimpl.lessons"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    for number, lesson in enumerate(LESSONS, 1):
        assert f"## {number}. {lesson.title}" in done.stdout
    assert "NOT SHOWN" not in done.stdout


def test_walkthrough_lists_and_refuses_unknown_names() -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "refimpl.lessons", "--list"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.stdout.splitlines() == [
        f"{number}. {lesson.name}: {lesson.title}" for number, lesson in enumerate(LESSONS, 1)
    ]
    unknown = subprocess.run(
        [sys.executable, "-m", "refimpl.lessons", "no-such-lesson"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert unknown.returncode == 2
    assert "unknown lesson 'no-such-lesson'" in unknown.stderr
