"""The catalogue table: one row per mutant, saying plainly when one escaped."""

from __future__ import annotations

import pytest

from broken_variant.mutants import MUTANTS, Mutant
from refimpl import ContextStore
from refimpl.contract import ContractRun, ContractViolation
from reports import catalogue
from reports.catalogue import Row, markdown

ESCAPED = ContractRun(None, 500, 1.0, None, None)


def test_an_escaped_mutant_is_flagged_in_its_row() -> None:
    row = Row(MUTANTS[0], ESCAPED)
    assert not row.ok
    table = markdown([row], [])
    assert f"| `{MUTANTS[0].name}` |" in table
    assert f"ESCAPED (declares {MUTANTS[0].catches})" in table
    assert "| never |" in table


def test_a_mutant_caught_by_its_property_shows_steps_and_timing() -> None:
    mutant = MUTANTS[0]
    violation = ContractViolation(
        mutant.catches, ("setup", "state.store()", "state.drop_refs()"), ""
    )
    row = Row(mutant, ContractRun(violation, 40, 0.5, 3, 0.09))
    assert row.ok
    line = markdown([row], []).splitlines()[2]
    assert line.endswith(f"| {mutant.catches} | 2 | example 3, 0.09 s | 0.50 s |")


CORRECT = Mutant(
    "correct-store", "store", ContextStore, "The fixed store, declared a mutant.", "survival"
)
"""A mutant that is not one: the contract cannot catch it, so it escapes."""
FEW = ["--examples", "3"]
"""A small budget, enough for what these tests show, at a fraction of the profile's cost."""


def test_the_catalogue_exits_1_naming_a_mutant_that_escapes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(catalogue, "MUTANTS", (CORRECT,))
    status = catalogue.main(FEW)
    out, err = capsys.readouterr()
    assert status == 1, "an escaped mutant must fail the catalogue"
    assert "catalogue: mutant 'correct-store' was not caught by its declared property" in err
    assert "| `correct-store` | The fixed store, declared a mutant. | ESCAPED (declares " in out


def test_the_catalogue_exits_0_when_no_mutant_escapes_and_the_fixed_ones_hold(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(catalogue, "MUTANTS", ())  # the escape above is then the only cause
    assert catalogue.main(FEW) == 0, capsys.readouterr().err
