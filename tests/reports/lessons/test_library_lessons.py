"""The lessons on real libraries (blinker, zope.interface) run live on the pinned versions,
which `make` installs for the tests (pyproject.toml's `dev` extra, pinned as the `survey`
extra pins them); where a library is missing they are shown as not run, with the command
that installs it, and fail nothing.

A missing library is simulated two ways, as the lessons honour both: `LESSONS_WITHOUT`
(an environment variable, so a subprocess or a notebook's kernel sees it too) and
`sys.modules[name] = None` (in this process: its import then fails)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from refimpl.contract import check_store
from reports.lessons import LESSONS, LESSONS_WITHOUT, Lesson, Outcome, contract_settings
from reports.lessons.blinker_disconnect import BLINKER, AllSendersReceivers
from reports.lessons.zope_utility import ZOPE, ReplacingUtilityRegistry

PYPROJECT = Path(__file__).resolve().parents[3] / "pyproject.toml"
LIBRARY_LESSONS = [lesson for lesson in LESSONS if lesson.library is not None]
IDS = [lesson.name for lesson in LIBRARY_LESSONS]


def _pins(extra: str) -> dict[str, str]:
    pins = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"][extra]
    return {pin.split("==")[0].lower(): pin.split("==")[1] for pin in pins if "==" in pin}


def test_there_are_two_library_lessons_on_the_survey_s_findings() -> None:
    assert {lesson.library.distribution for lesson in LIBRARY_LESSONS if lesson.library} == {
        "blinker",
        "zope.interface",
    }


@pytest.mark.parametrize("extra", ["survey", "dev"])
def test_each_library_is_pinned_in_the_extras_as_the_lesson_says(extra: str) -> None:
    pins = _pins(extra)
    for library in (BLINKER, ZOPE):
        assert pins.get(library.distribution.lower()) == library.pin, (library, extra)


@pytest.mark.parametrize("lesson", LIBRARY_LESSONS, ids=IDS)
def test_where_the_library_is_installed_the_lesson_runs_live_and_shows_the_bug(
    lesson: Lesson, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(LESSONS_WITHOUT, raising=False)
    assert lesson.library is not None
    assert lesson.missing() is None, "make installs the dev extra: the library is here"
    assert lesson.library.version() == lesson.library.pin
    broken, fixed = lesson.run_broken(), lesson.run_fixed()
    assert broken.failed, broken
    assert not fixed.failed, fixed
    assert lesson.reproduction is not None
    said = lesson.reproduction()
    assert (
        "the receiver is alive: True" in said
        if lesson.library is BLINKER
        else "queryUtility answers the new object: False" in said
    ), said


def _never() -> Outcome:
    raise AssertionError("a half ran, without its library")


@pytest.mark.parametrize("lesson", LIBRARY_LESSONS, ids=IDS)
def test_a_library_hidden_by_lessons_without_is_not_run_and_says_how_to_install_it(
    lesson: Lesson, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert lesson.library is not None
    monkeypatch.setenv(LESSONS_WITHOUT, lesson.library.module)
    run = lesson.run()
    assert run.state == "not-run"
    expected = f"pip install '{lesson.library.distribution}=={lesson.library.pin}'"
    assert run.not_run == (
        f"{lesson.library.distribution} is not installed here ({LESSONS_WITHOUT} hides it): "
        f"{expected}, or make survey"
    )
    assert lesson.attempt(_never) == Outcome(False, f"not run: {run.not_run}")
    assert not run.holds
    assert run.verdict == f"not run here: {run.not_run}"


@pytest.mark.parametrize("lesson", LIBRARY_LESSONS, ids=IDS)
def test_a_library_that_cannot_be_imported_is_not_run_either(
    lesson: Lesson, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert lesson.library is not None
    monkeypatch.delenv(LESSONS_WITHOUT, raising=False)
    monkeypatch.setitem(sys.modules, lesson.library.module, None)  # `import` now fails
    assert lesson.missing() == (
        f"{lesson.library.distribution} is not installed here: {lesson.library.install}, or "
        "make survey"
    )
    assert lesson.run().state == "not-run"
    with pytest.raises(ImportError, match="pip install"):
        lesson.library.load()


def test_lessons_without_names_libraries_by_module_or_distribution_or_all(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for value, hidden in (
        ("blinker", {"blinker"}),
        ("zope.interface, blinker", {"blinker", "zope.interface"}),
        ("all", {"blinker", "zope.interface"}),
        ("", set()),
        ("zope", set()),  # a prefix is not a name
    ):
        monkeypatch.setenv(LESSONS_WITHOUT, value)
        assert {lib.module for lib in (BLINKER, ZOPE) if lib.hidden()} == hidden, value


def test_the_walkthrough_without_the_libraries_says_not_run_and_exits_0() -> None:
    names = [lesson.name for lesson in LIBRARY_LESSONS]
    done = subprocess.run(
        [sys.executable, "-m", "reports.lessons", "--verbose", *names],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, LESSONS_WITHOUT: "blinker,zope.interface"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    for lesson in LIBRARY_LESSONS:
        assert lesson.library is not None
        line = f"lessons: {lesson.name} not run: {lesson.library.distribution} is not installed"
        assert line in done.stderr
        assert lesson.library.install in " ".join(done.stdout.split())
    assert done.stdout.splitlines()[-1] == (
        f"0 of 2 lessons showed their bug and their fix; 2 could not run here: "
        f"{', '.join(names)} (why: above)."
    )
    assert "FAILED" not in done.stderr


@pytest.mark.parametrize("fixed", [AllSendersReceivers, ReplacingUtilityRegistry])
def test_the_fixed_registry_holds_the_whole_contract(fixed: type) -> None:
    check_store(fixed, settings=contract_settings())


@pytest.mark.parametrize("lesson", LIBRARY_LESSONS, ids=IDS)
def test_a_reproduction_runs_as_shown_copied_into_a_file_of_its_own(
    lesson: Lesson, tmp_path: Path
) -> None:
    """What a student copies out of the terminal or the report runs by itself, and says
    what the lesson's live run said."""
    assert lesson.reproduction is not None
    assert lesson.reproduction_source is not None
    script = tmp_path / "alone.py"
    script.write_text(
        f"{lesson.reproduction_source}\n\n\nprint({lesson.reproduction.__name__}())\n"
    )
    alone = subprocess.run(
        [sys.executable, "-I", script.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert alone.returncode == 0, alone.stderr
    assert alone.stdout.strip() == lesson.reproduction()
