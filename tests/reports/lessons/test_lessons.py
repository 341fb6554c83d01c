"""Each lesson's broken half shows the failure it claims, live, and its fixed half does not."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reports.lessons import LESSONS, Lesson


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


@pytest.mark.slow
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


@pytest.mark.slow
def test_walkthrough_runs_every_lesson_and_ends_with_one_summary_line_each() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "reports.lessons"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "## " not in done.stdout, "the full text only with --verbose"
    table = done.stdout.split("\n\n")[0].splitlines()
    assert table[0].split() == ["lesson", "held", "what", "broke", "caught", "by"]
    for number, (lesson, row) in enumerate(zip(LESSONS, table[1:], strict=True), 1):
        assert row.startswith(f"{number}. {lesson.name} "), row
        assert row.split()[2] in ("yes", "not"), row  # held, or not run (no Nim here)
    assert "NOT SHOWN" not in done.stdout
    last = done.stderr.splitlines()[-1]
    assert last.startswith(f"summary: {len(LESSONS)} lessons: "), done.stderr
    assert "NOT shown" not in last


@pytest.mark.slow
def test_walkthrough_verbose_prints_every_lesson_in_full() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "reports.lessons", "--verbose", "leak", "cycles"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    for number, name in enumerate(("leak", "cycles"), 1):
        lesson = next(each for each in LESSONS if each.name == name)
        assert f"## {number}. {lesson.title}" in done.stdout


@pytest.mark.slow
def test_a_lesson_whose_halves_run_the_same_code_shows_it_once_and_every_block_is_named() -> None:
    from reports.lessons._lesson import Lesson, LessonRun, Outcome
    from reports.lessons._render import render_lesson

    def both_halves() -> Outcome:
        return Outcome(False, "ran")

    same = Lesson(
        "same", "Same code", "pitfall", both_halves, both_halves, (both_halves,), (both_halves,)
    )
    shown = render_lesson(
        1, LessonRun(same, Outcome(True, "broke"), Outcome(False, "held"), None, ())
    )
    assert shown.count("def both_halves") == 1, shown
    assert "The same code runs both halves" in shown
    differs = render_lesson(1, LESSONS[0].run())
    for half in ("Broken:", "Fixed:"):
        block = differs.split(f"{half}\n\n```python\n", 1)[1]
        assert block.startswith("# "), block[:200]  # each names what it shows, and where


def test_walkthrough_lists_and_refuses_unknown_names() -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "reports.lessons", "--list"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.stdout.splitlines() == [
        f"{number}. {lesson.name}: {lesson.title}" for number, lesson in enumerate(LESSONS, 1)
    ]
    unknown = subprocess.run(
        [sys.executable, "-m", "reports.lessons", "no-such-lesson"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert unknown.returncode == 2
    assert "unknown lesson 'no-such-lesson'" in unknown.stderr


@pytest.mark.slow
@pytest.mark.parametrize("closed", ["stdout", "stdout and stderr"])
def test_walkthrough_into_a_closed_pipe_ends_quietly_with_its_status(closed: str) -> None:
    reader, writer = os.pipe()
    os.close(reader)  # `python -m reports.lessons | true`: the reader is gone at once
    try:
        done = subprocess.run(
            [sys.executable, "-m", "reports.lessons", "leak"],
            stdout=writer,
            stderr=writer if closed == "stdout and stderr" else subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(writer)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in (done.stderr or ""), done.stderr


@pytest.mark.slow
def test_a_command_leaves_nothing_in_the_directory_it_is_run_from(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "HYPOTHESIS_STORAGE_DIRECTORY"}
    done = subprocess.run(
        [sys.executable, "-m", "reports.lessons", "leak"],  # runs the contract: Hypothesis
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert list(tmp_path.iterdir()) == [], "no .hypothesis/ (or anything) left behind"


def _ci_run(tmp_path: Path, *, gcc: bool) -> subprocess.CompletedProcess[str]:
    """.ci/run on Linux x86_64 (a stand-in `uname`), without apt-get or chromium, with or
    without a `gcc` on PATH; a stand-in `make` prints the REQUIRE_NATIVE it was given."""
    root = Path(__file__).resolve().parents[3]
    stubs = tmp_path / "bin"
    stubs.mkdir()
    commands = {
        "uname": 'case "$1" in -s) echo Linux;; -m) echo x86_64;; esac',
        "make": 'echo "make $1: REQUIRE_NATIVE=${REQUIRE_NATIVE-unset}"',
        **({"gcc": "exit 0"} if gcc else {}),
    }
    for name, body in commands.items():
        (stubs / name).write_text(f"#!/bin/sh\n{body}\n")
        (stubs / name).chmod(0o755)
    dirname = shutil.which("dirname")
    assert dirname is not None
    (stubs / "dirname").symlink_to(dirname)
    return subprocess.run(
        ["/bin/bash", str(root / ".ci" / "run")],
        env={"PATH": str(stubs), "HOME": str(tmp_path)},
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip


@pytest.mark.parametrize("gcc", [True, False], ids=["gcc", "no gcc"])
def test_ci_requires_the_native_tests_only_where_gcc_is_there_to_build_them(
    gcc: bool, tmp_path: Path
) -> None:
    done = _ci_run(tmp_path, gcc=gcc)
    required = "1" if gcc else "unset"
    assert done.stdout.splitlines()[-3:] == [
        f"make lint: REQUIRE_NATIVE={required}",
        f"make test: REQUIRE_NATIVE={required}",
        "make test: REQUIRE_NATIVE=0",
    ], done.stdout
    said = [line for line in done.stdout.splitlines() if "gcc" in line]
    assert said == ([] if gcc else [
        "ci: no gcc (it could not be installed): the native tests may not run"
    ]), done.stdout  # fmt: skip
