"""`python -m reports.lessons --notebooks --out DIR` (`make notebooks`) writes one valid notebook
per lesson, never touching a file it did not write; each notebook runs from top to bottom
without an error, and its last cell says the lesson showed what it claims (the property,
where the contract runs), or, without the lesson's library, that it did not run and how to
install it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import nbclient
import nbformat
import pytest

import reports.lessons.__main__ as cli
from reports.lessons import LESSONS, LESSONS_WITHOUT, Lesson, lesson_named
from reports.lessons._notebook import MARK, notebook_name

NAMES = [notebook_name(number, lesson) for number, lesson in enumerate(LESSONS, 1)]


def _write(folder: Path, *names: str) -> int:
    return cli.main(["--notebooks", "--out", str(folder), *names])


def test_one_valid_notebook_per_lesson_with_the_halves_and_the_contract(tmp_path: Path) -> None:
    assert _write(tmp_path) == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(NAMES)
    for name, lesson in zip(NAMES, LESSONS, strict=True):
        book = nbformat.read(tmp_path / name, as_version=4)
        nbformat.validate(book)
        assert book.metadata[MARK]["lesson"] == lesson.name
        code = [cell.source for cell in book.cells if cell.cell_type == "code"]
        assert any("def broken()" in source for source in code), name
        assert any("def fixed()" in source for source in code), name
        runs_contract = any("check_store(" in s or "check_api(" in s for s in code)
        assert runs_contract == (lesson.contract is not None), name
        assert "run.verdict" in code[-1]
        markdown = "\n".join(cell.source for cell in book.cells if cell.cell_type == "markdown")
        assert lesson.pitfall in markdown
        assert lesson.source("broken") in markdown


def test_make_notebooks_writes_into_reports_out_notebooks_making_it_if_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"  # missing, as on a fresh checkout
    monkeypatch.setattr(cli, "DEFAULT_OUT", out)
    monkeypatch.setattr(cli, "DEFAULT_FOLDER", out / "notebooks")
    assert cli.main(["--notebooks", "leak"]) == 0
    assert [path.name for path in (out / "notebooks").iterdir()] == ["05-leak.ipynb"]


def test_notebooks_replace_their_own_and_touch_nothing_else(tmp_path: Path) -> None:
    other = tmp_path / "mine.txt"
    other.write_text("a student's notes")
    assert _write(tmp_path, "leak") == 0
    notebook = tmp_path / "05-leak.ipynb"
    book = nbformat.read(notebook, as_version=4)
    book.cells[1].outputs = [nbformat.v4.new_output("stream", text="ran once\n")]
    nbformat.write(book, notebook)  # run, not edited: still ours
    assert _write(tmp_path, "leak") == 0
    assert nbformat.read(notebook, as_version=4).cells[1].outputs == []
    assert other.read_text() == "a student's notes"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["05-leak.ipynb", "mine.txt"]


@pytest.mark.parametrize("whose", ["a file it did not write", "a notebook a student edited"])
def test_a_file_it_may_not_replace_stops_it_before_it_writes_anything(
    whose: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "05-leak.ipynb"
    if whose == "a file it did not write":
        target.write_text("{}")
    else:
        assert _write(tmp_path, "leak") == 0
        book = nbformat.read(target, as_version=4)
        book.cells[1].source += "\nprint('my own line')"
        nbformat.write(book, target)
    before = target.read_text()
    assert _write(tmp_path, "cycles", "leak") == 2
    said = capsys.readouterr().err
    assert repr(str(target)) in said
    assert "nothing was written" in said
    assert target.read_text() == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["05-leak.ipynb"]


def test_every_file_it_may_not_replace_is_named_at_once_one_line_each_saying_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`make notebooks` (no --out given) into a folder holding two files of notebooks'
    names that it did not write: both named, each on a line of its own, saying what to do,
    and nothing about an --out that was not given."""
    monkeypatch.setattr(cli, "DEFAULT_OUT", tmp_path)
    monkeypatch.setattr(cli, "DEFAULT_FOLDER", tmp_path / "notebooks")
    (tmp_path / "notebooks").mkdir()
    theirs = [tmp_path / "notebooks" / name for name in ("02-address-reuse.ipynb", "05-leak.ipynb")]
    for path in theirs:
        path.write_text("{}")
    assert cli.main(["--notebooks"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        *(
            f"python -m reports.lessons: error: {str(path)!r} was not written by "
            "python -m reports.lessons --notebooks: move it away, or use --out DIR"
            for path in theirs
        ),
        "python -m reports.lessons: nothing was written",
    ]
    assert sorted(os.listdir(tmp_path / "notebooks")) == [path.name for path in theirs]


def test_it_counts_what_it_wrote_in_words_that_fit_the_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _write(tmp_path / "one", "leak") == 0
    assert capsys.readouterr().err.splitlines()[-1].startswith("lessons: wrote 1 notebook into ")
    assert _write(tmp_path / "two", "leak", "cycles") == 0
    assert capsys.readouterr().err.splitlines()[-1].startswith("lessons: wrote 2 notebooks into ")


def _execute(path: Path) -> Any:
    """Run the notebook at `path` in a fresh kernel (this Python's), in the notebook's
    folder, as Jupyter would."""
    book = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        book, kernel_name="python3", timeout=300, resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()  # raises CellExecutionError naming the cell that failed
    return book


def _last_output(book: Any) -> str:
    return "".join(output.get("text", "") for output in book.cells[-1].outputs).strip()


@pytest.mark.slow
@pytest.mark.parametrize(
    "lesson",
    [pytest.param(lesson, marks=[pytest.mark.native] if lesson.needs_nim else [], id=lesson.name)
     for lesson in LESSONS],
)  # fmt: skip
def test_each_notebook_runs_without_error_and_shows_what_the_lesson_claims(
    lesson: Lesson, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(LESSONS_WITHOUT, raising=False)
    monkeypatch.delenv("HYPOTHESIS_STORAGE_DIRECTORY", raising=False)  # as a student's kernel
    assert _write(tmp_path, lesson.name) == 0
    [path] = tmp_path.iterdir()
    book = _execute(path)
    claim = f"{lesson.name}: shown: the bug showed and the fix held"
    if lesson.contract is not None:
        claim += f"; the contract catches it with {lesson.contract.catches}, as the lesson claims"
    assert _last_output(book) == claim
    errors = [o for cell in book.cells for o in cell.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    assert list(tmp_path.iterdir()) == [path], "nothing left beside the notebook (.hypothesis)"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["blinker-disconnect", "zope-utility"])
def test_a_library_notebook_without_its_library_runs_and_says_how_to_install_it(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lesson = lesson_named(name)
    assert lesson.library is not None
    monkeypatch.setenv(LESSONS_WITHOUT, lesson.library.module)  # the kernel inherits it
    assert _write(tmp_path, name) == 0
    [path] = tmp_path.iterdir()
    book = _execute(path)
    assert _last_output(book) == f"{name}: not run here: {lesson.missing()}"
    assert lesson.library.install in _last_output(book)
    assert os.environ[LESSONS_WITHOUT] == lesson.library.module


def test_out_goes_only_with_notebooks(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        cli.main(["--out", "somewhere", "leak"])
    assert stopped.value.code == 2
    assert "argument --out: only with --notebooks" in capsys.readouterr().err
