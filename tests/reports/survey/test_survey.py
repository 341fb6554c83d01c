"""`python -m reports.survey` (`make survey`): its entries, its table and survey.json on
hand-made outcomes, a library that is not installed, bad arguments, and real runs on two
standard-library registries (the PyPI libraries are not installed by `make test`)."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

import reports.survey as survey_cli
import reports.survey._cli
import reports.survey._run
from refimpl.contract import factory_spec
from reports.survey import (
    NOT_INSTALLED,
    REGISTRIES,
    VERDICTS,
    Outcome,
    Registry,
    Survey,
    report,
    run_one,
    select,
    survey,
    table,
)

AGREES = Outcome(
    name="dict",
    library="stdlib",
    version="3.11.7",
    documented="holds",
    citation="d[key] = value sets d[key] to value",
    url="https://docs.python.org/3.11/library/stdtypes.html#mapping-types-dict",
    status="agrees",
    found="holds",
    examples=551,
    seconds=3.2,
    factory="reports.survey:make_dict",
)
DISAGREES = Outcome(
    name="blinker.Signal.connect(weak=False)",
    library="blinker",
    version="1.9.0",
    documented="holds",
    citation="disconnect(receiver, sender) disconnects it",
    url="https://blinker.readthedocs.io/en/stable/#blinker.Signal.disconnect",
    status="disagrees",
    found="released",
    examples=12,
    seconds=1.4,
    steps=(
        "from refimpl.contract import replay; state = replay('reports.survey:make_x')",
        "state.remove(name='a')",
    ),
    detail="the context stored at step 1 is still alive.\nheld by: Signal.receivers",
    factory="reports.survey:make_blinker_strong",
)
MISSING = Outcome(
    name="lru.LRU(4)",
    library="lru-dict",
    version=None,
    documented="no-stale",
    citation="evicts Least Recently Used items",
    url="https://github.com/amitdev/lru-dict#readme",
    status="not-installed",
    note=NOT_INSTALLED,
    factory="reports.survey:make_lru_dict",
)


@pytest.fixture(autouse=True)
def _collected_heap() -> None:
    """Overrides conftest's: nothing here judges this process's heap (the contract runs in
    its worker), so the collection before each test (~0.3 s) is skipped."""


QUICK = settings(max_examples=60, derandomize=True, database=None, deadline=None)
"""A small budget for the real runs: what is tested here is the survey, not the contract."""


def _entry(name: str) -> Registry:
    return next(registry for registry in REGISTRIES if registry.name == name)


def test_every_entry_is_runnable_by_path_and_documents_a_verdict() -> None:
    names = [registry.name for registry in REGISTRIES]
    assert len(names) >= 30
    assert len(set(names)) == len(names), "two entries share a name"
    for registry in REGISTRIES:
        assert factory_spec(registry.factory) == f"reports.survey:{registry.factory.__name__}"
        assert registry.documented in VERDICTS
        assert registry.url.startswith("https://"), registry.name
        assert registry.citation
        assert "\n" not in registry.citation


def test_the_table_shows_agreement_disagreement_and_a_missing_library() -> None:
    text = table([AGREES, DISAGREES, MISSING], width=200)
    rows = {cells[0]: cells[1:] for cells in map(_cells, text.splitlines()[2:5])}
    assert rows["dict"] == ["stdlib 3.11.7", "holds", "holds", "agrees", AGREES.citation]
    assert rows["blinker.Signal.connect(weak=False)"][1:4] == ["holds", "released", "DISAGREES"]
    assert rows["lru.LRU(4)"] == ["lru-dict", "no-stale", NOT_INSTALLED, MISSING.citation]
    story = text.split("blinker.Signal.connect(weak=False): ", 1)[1]
    assert story.startswith("the docs imply holds, the contract found released")
    assert "  the context stored at step 1 is still alive." in story
    assert "held by" not in story, "only the detail's first line is shown"
    assert "    state.remove(name='a')" in story
    assert "dict: " not in text, "a registry that agrees has no story"
    assert text.splitlines()[-1] == "3 registries: 1 agrees, 1 disagrees, 1 not installed"


def _cells(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


def test_the_docs_column_is_cut_to_the_width_and_the_summary_counts_errors() -> None:
    long = replace(AGREES, citation="a promise " * 20)
    error = replace(AGREES, status="error", found=None, note="TypeError: refused")
    lines = table([long, AGREES, error], width=100).splitlines()
    assert max(len(line) for line in lines[:5]) == 100
    assert lines[2].endswith("a promi…")
    assert lines[3].endswith(AGREES.citation)
    assert _cells(lines[4])[3:5] == ["error", AGREES.citation]
    assert "dict: the contract could not judge it: TypeError: refused" in lines
    assert lines[-1] == "3 registries: 2 agree, 0 disagree, 1 error"


def test_the_json_has_a_schema_every_row_and_the_counts() -> None:
    data = json.loads(json.dumps(report([AGREES, DISAGREES, MISSING], profile="ci", command="c")))
    assert data["schema"] == 1
    assert data["profile"] == "ci"
    assert data["command"] == "c"
    assert [row["status"] for row in data["registries"]] == [
        "agrees",
        "disagrees",
        "not-installed",
    ]
    blinker = data["registries"][1]
    assert blinker["found"] == "released"
    assert blinker["documented"] == "holds"
    assert blinker["steps"] == list(DISAGREES.steps)
    assert blinker["detail"] == DISAGREES.detail
    assert data["registries"][2]["version"] is None
    assert data["registries"][2]["found"] is None
    assert data["summary"] == {
        "registries": 3,
        "agree": 1,
        "disagree": 1,
        "not_installed": 1,
        "errors": 0,
        "line": "3 registries: 1 agrees, 1 disagrees, 1 not installed",
    }


def test_the_report_reads_back_every_row_the_survey_writes() -> None:
    """survey.json's two ends agree: each field `report` writes is what `Survey.from_json`
    (the report's reader) gives back, so no row is shown changed or dropped."""
    outcomes = [AGREES, DISAGREES, MISSING]
    data = json.loads(json.dumps(report(outcomes, profile="ci", command="c")))
    read = Survey.from_json(data)
    written = [asdict(row) for row in outcomes]
    shown = [{key: value for key, value in row.items() if key != "factory"} for row in written]
    assert [asdict(row) for row in read.rows] == shown
    assert (read.profile, read.command, read.date) == ("ci", "c", data["date"])
    assert read.summary == data["summary"]["line"]


def _never_called() -> Any:
    raise AssertionError("the factory of a library that is not installed was called")


def test_a_library_not_installed_is_a_row_not_a_crash() -> None:
    absent = Registry(
        "absent.Registry()", "absent", "no-such-distribution-for-the-survey",
        _never_called, "holds", "nothing", "https://example.org/",
    )  # fmt: skip
    outcome = run_one(absent)
    assert outcome.status == "not-installed"
    assert outcome.version is None
    assert outcome.found is None
    assert NOT_INSTALLED in table([outcome])


def test_progress_says_each_verdict_as_it_comes() -> None:
    lines: list[str] = []
    answers = iter([AGREES, DISAGREES])
    survey(REGISTRIES[:2], progress=lines.append, run=lambda registry: next(answers))
    assert "".join(lines).splitlines() == [
        f"[1/2] {REGISTRIES[0].name} ... holds (3.2 s)",
        f"[2/2] {REGISTRIES[1].name} ... released (DISAGREES) (1.4 s)",
    ]


def test_only_selects_by_name_prefix_or_library_and_refuses_the_unknown() -> None:
    assert [r.name for r in select(["cachetools.LRUCache"])] == ["cachetools.LRUCache(maxsize=4)"]
    assert [r.name for r in select(["CACHETOOLS"])] == [
        "cachetools.Cache(maxsize=1024)",
        "cachetools.LRUCache(maxsize=4)",
        "cachetools.LFUCache(maxsize=4)",
    ]
    assert [r.name for r in select(["lru-dict"])] == ["lru.LRU(4)"]
    assert len(select(["shelve", "dict"])) == 3
    assert select(None) == list(REGISTRIES)
    with pytest.raises(ValueError, match="'nope'"):
        select(["dict", "nope"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--only", "nope"], "argument --only: no registry named 'nope'"),
        (["--only"], "argument --only: expected at least one argument"),
        (["--out", "/dev/null"], "argument --out: '/dev/null' is not a folder"),
        (["--frobnicate"], "unrecognized arguments: --frobnicate"),
    ],
)
def test_a_bad_argument_exits_2_with_one_line_before_any_work(
    argv: list[str], message: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setattr(reports.survey._cli, "survey", _never_called)
    with pytest.raises(SystemExit) as exited:
        survey_cli.main(argv)
    assert exited.value.code == 2
    error = capsys.readouterr().err.splitlines()[-1]
    assert error.startswith(f"python -m reports.survey: error: {message}")


def test_a_registry_the_contract_cannot_judge_exits_1_after_writing_the_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    error = replace(AGREES, status="error", found=None, note="TypeError: refused")
    monkeypatch.setattr(reports.survey._run, "run_one", lambda registry: error)
    assert survey_cli.main(["--only", "dict", "--out", str(tmp_path)]) == 1
    data = json.loads((tmp_path / "survey.json").read_text())
    assert data["summary"]["errors"] == 1
    assert capsys.readouterr().out.splitlines()[-1] == "1 registry: 0 agree, 0 disagree, 1 error"


def test_dict_holds_for_real() -> None:
    outcome = run_one(_entry("dict"), settings=QUICK)
    assert (outcome.status, outcome.found, outcome.steps) == ("agrees", "holds", ())
    assert outcome.examples >= 60


def test_the_survey_of_weak_value_dictionary_finds_survival_and_writes_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setattr(
        reports.survey._run, "run_one", lambda registry: run_one(registry, settings=QUICK)
    )
    assert survey_cli.main(["--only", "weakref", "--out", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "survey.json").read_text())
    (row,) = data["registries"]
    assert (row["name"], row["found"], row["status"]) == (
        "weakref.WeakValueDictionary",
        "survival",
        "agrees",
    )
    assert row["steps"][0].endswith("replay('reports.survey:make_weak_value_dictionary')")
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "1 registry: 1 agrees, 0 disagree"
