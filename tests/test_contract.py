"""The ownership contract: the fixed implementation passes it, and every mutant is caught."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import settings

from broken_variant.mutants import MUTANTS, Mutant
from refimpl import ContextStore, PluginAPI
from refimpl.contract import (
    PROPERTIES,
    ContractViolation,
    check_api,
    check_store,
    run_contract,
)

MAX_RULE_STEPS = 6


def make_fixed_api() -> PluginAPI:
    return PluginAPI(ContextStore())


AT_LEAST_500 = settings(settings(), deadline=None, max_examples=max(500, settings().max_examples))
"""The active profile (ci under make test), with at least 500 examples."""

DERANDOMIZED = settings(settings(), derandomize=True, database=None)
"""The active profile, derandomized: a mutant with several bugs is named by the same one
whatever the profile (under `deep` the search would meet them in another order)."""


def test_fixed_store_holds_every_property() -> None:
    check_store(ContextStore, settings=AT_LEAST_500)  # raises ContractViolation if not


def test_fixed_api_holds_every_property() -> None:
    check_api(make_fixed_api, settings=AT_LEAST_500)  # raises ContractViolation if not


@pytest.fixture(scope="session")
def caught() -> Callable[[Mutant], ContractViolation]:
    """Run the contract on a mutant once per session and return its violation; a mutant
    that escapes fails the test, naming itself and the property that should catch it."""
    verdicts: dict[str, ContractViolation] = {}

    def run(mutant: Mutant) -> ContractViolation:
        if mutant.name not in verdicts:
            violation = run_contract(
                mutant.factory, api=mutant.kind == "api", settings=DERANDOMIZED
            ).violation
            if violation is None:
                pytest.fail(f"mutant {mutant.name!r} escaped: {mutant.catches} should catch it")
            verdicts[mutant.name] = violation
        return verdicts[mutant.name]

    return run


def named(name: str) -> Mutant:
    return next(mutant for mutant in MUTANTS if mutant.name == name)


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_mutant_is_caught_by_its_declared_property(
    mutant: Mutant, caught: Callable[[Mutant], ContractViolation]
) -> None:
    violation = caught(mutant)
    assert violation.property == mutant.catches, violation
    assert 1 <= len(violation.rule_steps) <= MAX_RULE_STEPS, violation


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_replaying_the_steps_shows_the_same_violation(
    mutant: Mutant, caught: Callable[[Mutant], ContractViolation]
) -> None:
    violation = caught(mutant)
    with pytest.raises(ContractViolation) as replayed:
        exec("\n".join(violation.steps), {})
    assert replayed.value.property == violation.property


def test_violation_is_an_assertion_error_carrying_its_fields(
    caught: Callable[[Mutant], ContractViolation],
) -> None:
    violation = caught(named("weakref"))
    assert isinstance(violation, AssertionError)
    assert violation.property in PROPERTIES
    assert violation.steps[0].startswith("from refimpl.contract import replay; state = replay(")
    assert all(line.startswith("state.") for line in violation.rule_steps)
    assert "survival violated" in str(violation)


def test_survival_detail_carries_the_sanitizer_report_of_the_untracked_store(
    caught: Callable[[Mutant], ContractViolation],
) -> None:
    violation = caught(named("untracked"))
    assert "raised UseAfterFree" in violation.detail
    assert "ERROR: SimulatedHeap: heap-use-after-free on address" in violation.detail


def test_released_detail_shows_who_holds_the_leaked_context(
    caught: Callable[[Mutant], ContractViolation],
) -> None:
    violation = caught(named("leaky"))
    assert "held by: LeakyStore -> " in violation.detail


def test_steps_of_an_unnamed_factory_replay_with_the_factory_given() -> None:
    weakref_store = named("weakref").factory
    run = run_contract(lambda: weakref_store())
    assert run.violation is not None
    assert "replay(factory)" in run.violation.steps[0]
    with pytest.raises(ContractViolation):
        exec("\n".join(run.violation.steps), {"factory": weakref_store})


def test_a_factory_that_is_not_callable_is_refused() -> None:
    with pytest.raises(TypeError, match="needs a factory to call, got ContextStore"):
        check_store(ContextStore())  # type: ignore[arg-type]  # the mistake under test


def test_catalogue_declares_known_properties_and_unique_names() -> None:
    assert len(MUTANTS) >= 8
    assert len({m.name for m in MUTANTS}) == len(MUTANTS)
    assert {m.catches for m in MUTANTS} <= set(PROPERTIES)
    assert all(m.bug and "\n" not in m.bug for m in MUTANTS)
