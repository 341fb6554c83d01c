"""The catalogue table: one row per mutant, saying plainly when one escaped."""

from __future__ import annotations

from broken_variant.catalogue import Row, markdown
from broken_variant.mutants import MUTANTS
from refimpl.contract import ContractRun, ContractViolation

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
