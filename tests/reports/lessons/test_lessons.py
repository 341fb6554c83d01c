"""Each lesson's broken half shows the failure it claims, live, and its fixed half does not."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reports.lessons import LESSONS, Lesson, LessonRun, Outcome, lesson_named
from reports.lessons._summary import COLUMNS
from reports.lessons._walkthrough import Walkthrough


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
    assert lesson.contract is not None
    assert run.contract_property == lesson.contract.catches, (
        f"{lesson.name}: the lesson claims {lesson.contract.catches}, the contract found "
        f"{run.contract_property}"
    )
    assert run.contract_steps[0].startswith("from refimpl.contract import replay")
    assert run.state == "shown", run.verdict


@pytest.mark.parametrize(("found", "said"), [("survival", "survival"), (None, "nothing")])
def test_a_lesson_is_not_shown_when_the_contract_does_not_catch_it_as_claimed(
    found: str | None, said: str
) -> None:
    leak = lesson_named("leak")
    run = LessonRun(leak, Outcome(True, "grew"), Outcome(False, "held"), found, ())
    assert run.state == "not-shown"
    assert run.verdict == f"NOT shown: the contract found {said}, where the lesson claims released"
    right = LessonRun(leak, Outcome(True, "grew"), Outcome(False, "held"), "released", ())
    assert right.state == "shown"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.name)
def test_lesson_shows_real_source_for_both_halves(lesson: Lesson) -> None:
    assert "def " in lesson.source("broken") or "class " in lesson.source("broken")
    assert "def " in lesson.source("fixed") or "class " in lesson.source("fixed")
    assert 2 <= lesson.pitfall.count(". ") + 1 <= 4, "two or three plain sentences"


def _table_and_summary(stdout: str) -> tuple[list[str], str]:
    """The closing table's lines (header first) and the last line, the summary."""
    lines = stdout.rstrip("\n").splitlines()
    start = next(
        n for n, line in enumerate(lines) if line.split()[:3] == ["lesson", "bug", "shown"]
    )
    end = lines.index("", start)
    return lines[start:end], lines[-1]


@pytest.mark.slow
def test_walkthrough_ends_with_a_table_within_100_columns_and_a_summary_in_plain_words() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "reports.lessons"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "Memory-ownership lessons" not in done.stdout, "the full text only with --verbose"
    table, summary = _table_and_summary(done.stdout)
    assert table[0].split() == [word for column in COLUMNS for word in column.split()]
    rows = [row for row in table[1:] if not row.startswith(" " * 8)]  # not a wrapped line
    for number, (lesson, row) in enumerate(zip(LESSONS, rows, strict=True), 1):
        assert row.split()[:2] == [f"{number}.", lesson.name], row
        assert row.split()[2:4] in (["yes", "yes"], ["-", "-"]), row  # or not run (no Nim)
    for line in done.stdout.splitlines():
        assert len(line) <= 100, f"{len(line)} columns: {line}"
        assert "..." not in line, f"cut: {line}"
        assert "\u2026" not in line, f"cut: {line}"
    assert summary.startswith(f"All {len(LESSONS)} lessons ran") or "could not run" in summary
    assert "NOT" not in done.stdout


@pytest.mark.slow
def test_walkthrough_verbose_prints_every_lesson_in_full_and_no_markdown() -> None:
    chosen = ("untracked-pointer", "unchecked-downcast", "leak", "cycles", "zope-utility")
    done = subprocess.run(
        [sys.executable, "-m", "reports.lessons", "--verbose", *chosen],
        capture_output=True, text=True, timeout=300, env={**os.environ, "NO_COLOR": ""},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    for name in chosen:
        number = next(n for n, each in enumerate(LESSONS, 1) if each.name == name)
        assert f"\n{number}. {LESSONS[number - 1].title}\n" in done.stdout
    for mark in ("```", "**"):
        assert mark not in done.stdout, mark
    assert not [line for line in done.stdout.splitlines() if line.startswith("#")]
    prose = [line for line in done.stdout.splitlines() if line and not line.startswith(" ")]
    assert not [line for line in prose if "`" in line], "a code span's backticks, in prose"
    assert "\x1b[" not in done.stdout, "no colour when piped"


@pytest.mark.slow
def test_the_story_words_are_explained_once_at_the_first_story() -> None:
    chosen = ("untracked-pointer", "unchecked-downcast", "leak", "zope-utility")
    runs = [lesson_named(name).run() for name in chosen]
    walkthrough = Walkthrough()
    shown = [walkthrough.lesson(number, run) for number, run in enumerate(runs, 1)]
    headings = [[b.text for b in blocks if b.kind == "heading"] for blocks in shown]
    assert "How to read a story:" in headings[0]
    assert all("How to read a story:" not in later for later in headings[1:])
    explained = [
        word for blocks in shown for b in blocks if b.kind == "terms" for word, _ in b.terms
    ]
    assert len(explained) == len(set(explained)), "a word explained twice"
    first = {word for b in shown[0] if b.kind == "terms" for word, _ in b.terms}
    assert {"state.", "seed=", "state="} <= first
    assert {"keep=", "judged="} <= set(explained)
    for run in runs:  # every step of every story is explained somewhere
        steps = {line.split("(")[0][len("state.") :] for line in run.contract_steps[1:]}
        assert steps <= set(explained), steps - set(explained)
    caught = {run.contract_property for run in runs} - {None}
    assert caught <= set(explained), "a property the lessons catch bugs with, unexplained"
    first_caught = runs[0].contract_property
    assert first_caught is not None
    assert explained.index(first_caught) < explained.index("state.")


@pytest.mark.slow
def test_a_lesson_whose_halves_run_the_same_code_shows_it_once_and_every_block_is_named() -> None:
    def both_halves() -> Outcome:
        return Outcome(False, "ran")

    same = Lesson(
        "same", "Same code", "pitfall", both_halves, both_halves, (both_halves,), (both_halves,)
    )
    run = LessonRun(same, Outcome(True, "broke"), Outcome(False, "held"), None, ())
    shown = Walkthrough().lesson(1, run)
    code = [block.text for block in shown if block.kind == "code"]
    assert sum("def both_halves" in text for text in code) == 1, code
    assert any(b.text.startswith("The same code runs both halves") for b in shown)
    differs = Walkthrough().lesson(1, LESSONS[0].run())
    blocks = [block.text for block in differs if block.kind == "code" and block.language]
    assert all(text.startswith("# ") for text in blocks[2:4]), blocks  # each names what it shows


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
    assert done.stdout.splitlines()[-4:] == [
        f"make lint: REQUIRE_NATIVE={required}",
        f"make test: REQUIRE_NATIVE={required}",
        f"make test-slow: REQUIRE_NATIVE={required}",
        "make test-all: REQUIRE_NATIVE=0",
    ], done.stdout
    said = [line for line in done.stdout.splitlines() if "gcc" in line]
    assert said == ([] if gcc else [
        "ci: no gcc (it could not be installed): the native tests may not run"
    ]), done.stdout  # fmt: skip
