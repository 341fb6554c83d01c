"""reports/MEASUREMENTS.md: a command rewrites its own section and nothing else; a document
that is not ours is never overwritten; a test or a partial run never touches the checkout."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import reports.survey
import reports.survey._cli as survey_cli
from reports.output import DEFAULT_OUT, measured
from reports.output.measured import NotOurs, read, record, record_run
from reports.survey import REGISTRIES, Outcome

SECTIONS = ("catalogue", "seeds", "survey", "bench", "bench-fuzz", "native")
"""The sections the checkout's document holds, one per measuring command (and the seeds)."""
bodies = st.text(st.characters(exclude_categories=["Cs"]), max_size=120).filter(
    lambda text: "measured: " not in text
)
"""Any text a command could print (no lone surrogates, which UTF-8 cannot write), short of
a section marker."""


def block(section: str, body: str) -> str:
    """A section as `record` writes it."""
    return f"<!-- measured: {section} -->\n{body.rstrip(chr(10))}\n<!-- /measured: {section} -->"


@pytest.mark.slow
@given(
    st.dictionaries(st.sampled_from(SECTIONS), bodies, min_size=1),
    st.data(),
)
def test_recording_a_section_replaces_it_and_leaves_the_rest_byte_for_byte(
    before: dict[str, str], data: st.DataObject
) -> None:
    section = data.draw(st.sampled_from(sorted(before)), label="section")
    body = data.draw(bodies, label="body")
    with tempfile.TemporaryDirectory() as folder:
        document = Path(folder, "MEASUREMENTS.md")
        for name, text in before.items():
            record(name, text, document=document)
        old = document.read_bytes().decode("utf-8")
        record(section, body, document=document)
        new = document.read_bytes().decode("utf-8")
    assert new == old.replace(block(section, before[section]), block(section, body))
    assert old.count(block(section, before[section])) == 1


@pytest.mark.slow
@given(bodies, bodies)
def test_a_missing_section_is_appended_after_everything_there(first: str, second: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        document = Path(folder, "MEASUREMENTS.md")
        record("survey", first, document=document)
        old = document.read_bytes().decode("utf-8")
        record("native", second, document=document)
        new = document.read_bytes().decode("utf-8")
        assert new.startswith(old)
        assert new.endswith(block("native", second) + "\n")
        assert read("native", document=document) == second.rstrip("\n") + "\n"
        assert read("survey", document=document) == first.rstrip("\n") + "\n"


def test_a_missing_document_is_made_with_the_one_section(tmp_path: Path) -> None:
    document = tmp_path / "MEASUREMENTS.md"
    assert read("bench", document=document) is None
    record("bench", "| a | b |\n", document=document)
    assert read("bench", document=document) == "| a | b |\n"
    assert read("survey", document=document) is None


@given(st.text(st.characters(exclude_categories=["Cs"])).filter(lambda t: "measured: " not in t))
def test_a_document_that_is_not_ours_is_never_overwritten(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        document = Path(folder, "README.md")
        document.write_bytes(text.encode("utf-8"))
        with pytest.raises(NotOurs, match="not ours"):
            record("catalogue", "| new |", document=document)
        assert document.read_bytes() == text.encode("utf-8")


@pytest.mark.parametrize(
    "text",
    [
        "<!-- measured: bench -->\nno end\n",
        "<!-- /measured: bench -->\n<!-- measured: bench -->\n",
        "<!-- measured: bench -->\na\n<!-- /measured: bench -->\n"
        "<!-- measured: bench -->\nb\n<!-- /measured: bench -->\n",
    ],
    ids=["no end", "end first", "twice"],
)
def test_broken_markers_leave_the_document_as_it_was(tmp_path: Path, text: str) -> None:
    document = tmp_path / "MEASUREMENTS.md"
    document.write_text(text)
    with pytest.raises(NotOurs, match="broken"):
        record("bench", "new", document=document)
    assert document.read_text() == text


@pytest.mark.parametrize(
    ("section", "body"),
    [("Bench", "x"), ("", "x"), ("a b", "x"), ("bench", "<!-- /measured: bench -->")],
)
def test_a_bad_name_or_a_body_holding_a_marker_is_refused(
    tmp_path: Path, section: str, body: str
) -> None:
    document = tmp_path / "MEASUREMENTS.md"
    with pytest.raises(ValueError, match="section"):
        record(section, body, document=document)
    assert not document.exists()


def test_a_full_run_into_the_default_folder_is_recorded_with_its_provenance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = tmp_path / "MEASUREMENTS.md"
    monkeypatch.setattr(measured, "MEASUREMENTS", document)
    assert record_run("bench", "| x |", command="make bench", out=DEFAULT_OUT, full=True)
    body = read("bench", document=document)
    assert body is not None
    head = body.splitlines()[0]
    assert head.startswith("`make bench`, 20")
    assert "-core " in head
    assert "commit" in head
    assert body.endswith("\n\n| x |\n")


@pytest.mark.parametrize(("out", "full"), [("elsewhere", True), (None, False), ("default", False)])
def test_a_partial_run_or_one_elsewhere_records_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, out: str | None, full: bool
) -> None:
    document = tmp_path / "MEASUREMENTS.md"
    monkeypatch.setattr(measured, "MEASUREMENTS", document)
    where = {"elsewhere": tmp_path, "default": DEFAULT_OUT, None: None}[out]
    assert not record_run("bench", "| x |", command="make bench", out=where, full=full)
    assert not document.exists()


def test_a_document_it_may_not_write_is_one_line_and_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    document = tmp_path / "MEASUREMENTS.md"
    document.write_text("# someone's notes\n")
    monkeypatch.setattr(measured, "MEASUREMENTS", document)
    assert not record_run("bench", "| x |", command="make bench", out=None, full=True)
    assert capsys.readouterr().err.startswith("measurements not recorded: ")
    assert document.read_text() == "# someone's notes\n"


def _agreeing(registries: Sequence[Any], **_: Any) -> list[Outcome]:
    """The survey's outcomes without running anything: every registry as documented."""
    return [
        Outcome(
            name=registry.name,
            library=registry.library,
            version="1.0",
            documented=registry.documented,
            citation=registry.citation,
            url=registry.url,
            status="agrees",
            found=registry.documented,
        )
        for registry in registries
    ]


def test_a_command_records_only_a_full_run_into_the_default_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m reports.survey` (its contract runs replaced): with `--out` elsewhere, or
    with `--only`, the document is untouched; in full into the default folder (here a
    temporary one), its section is the table it printed."""
    document = tmp_path / "MEASUREMENTS.md"
    default = tmp_path / "out"
    monkeypatch.setattr(measured, "MEASUREMENTS", document)
    monkeypatch.setattr(measured, "DEFAULT_OUT", default)
    monkeypatch.setattr(survey_cli, "survey", _agreeing)
    assert reports.survey.main(["--out", str(tmp_path / "elsewhere")]) == 0
    assert reports.survey.main(["--out", str(default), "--only", "dict"]) == 0
    assert not document.exists()
    assert reports.survey.main(["--out", str(default)]) == 0
    body = read("survey", document=document)
    assert body is not None
    assert body.startswith("`make survey`, ")
    assert f"{len(REGISTRIES)} registries: {len(REGISTRIES)} agree" in body


def test_the_checkout_holds_a_section_for_every_measuring_command() -> None:
    for section in SECTIONS:
        assert read(section) is not None, f"reports/MEASUREMENTS.md has no {section!r}"
