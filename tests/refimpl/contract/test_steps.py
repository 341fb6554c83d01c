"""The steps the contract drives beyond store, fetch and remove: look-alike names, names that
hold nothing, close and reopen, a store's `setdefault_plugin_data`, a mapping's other
mutators, generic state types; and the names it passes, made anew at every call."""

from __future__ import annotations

import ast
import re
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine

from broken_variant.mutants import PopitemKeepingDict, WarmingUpStore
from refimpl import ContextStore, PluginAPI, PluginContextBase
from refimpl._names import check_name
from refimpl.contract import check_store, replay, run_contract
from refimpl.contract._isolated import IsolatedMachine
from refimpl.contract._machine import ContractMachine
from refimpl.contract._names import LOOKALIKES, fresh
from refimpl.contract._rules import ContractRules
from refimpl.contract._states import Counter
from refimpl.contract._story import spell
from refimpl.contract._target import abilities, open_target
from refimpl.support.collector import gc_disabled

DERANDOMIZED = settings(settings(), derandomize=True, database=None, deadline=None)
CI_BUDGET = settings(max_examples=500, derandomize=True, database=None, deadline=None)
"""The ci profile's budget, under any profile: the look-alike pair a folding store breaks is
one of five a step draws, and a smaller budget (the dev profile's 100) misses some."""
FEW = settings(max_examples=150, derandomize=True, database=None, deadline=None)


# -- names -----------------------------------------------------------------------------


def test_every_look_alike_is_a_valid_plugin_name_and_differs_from_its_pair() -> None:
    for first, second in LOOKALIKES:
        assert check_name(first) == first
        assert check_name(second) == second
        assert first != second


@pytest.mark.slow
@given(st.text() | st.tuples(st.text(), st.text()))
def test_a_spelled_value_is_a_literal_of_itself_in_ascii(value: str | tuple[str, str]) -> None:
    spelled = spell(value)
    assert spelled.isascii()
    assert ast.literal_eval(spelled) == value


def test_names_that_print_alike_are_spelled_apart() -> None:
    assert spell("\u00e9") == "'\\u00e9'"
    assert spell("e\u0301") == "'e\\u0301'"


def test_a_fresh_name_is_equal_and_another_object() -> None:
    name = "".join(["tal", "ly"])
    assert fresh(name) == name
    assert fresh(name) is not name


def _folding(fold: Callable[[str], str]) -> type:
    """A store that files each context under `fold(name)`."""

    class Folding:
        def __init__(self) -> None:
            self.contexts: dict[str, Any] = {}

        def set_plugin_data(self, name: str, data: Any) -> None:
            self.contexts[fold(name)] = data

        def get_plugin_data(self, name: str) -> Any:
            return self.contexts.get(fold(name))

        def remove_plugin_data(self, name: str) -> None:
            self.contexts.pop(fold(name), None)

    return Folding


FOLDS: dict[str, tuple[Callable[[str], str], tuple[str, str]]] = {
    "case": (str.casefold, ("Tally", "tally")),
    "surrounding whitespace": (str.strip, ("tally ", "tally")),
    "inner whitespace": (lambda name: re.sub(r"(?<=\S)\s+(?=\S)", " ", name), LOOKALIKES[2]),
    "unicode normal form": (lambda name: unicodedata.normalize("NFC", name), LOOKALIKES[3]),
    "version suffix": (lambda name: name.rstrip("0123456789"), ("tally2", "tally")),
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", FOLDS)
def test_a_store_that_folds_names_together_is_caught_by_the_pair_it_folds(kind: str) -> None:
    fold, pair = FOLDS[kind]
    violation = run_contract(_folding(fold), settings=CI_BUDGET, isolate=False).violation
    assert violation is not None, f"a store that folds {kind} passed"
    assert violation.property in ("survival", "no-stale"), violation
    assert f"pair={spell(pair)}" in "\n".join(violation.steps), violation


# -- what a target can do ----------------------------------------------------------------


def test_a_targets_abilities_are_its_optional_methods() -> None:
    assert abilities(open_target(ContextStore, "store").terms) == {"setdefault"}
    assert abilities(open_target(dict, "store").terms) == {
        "pop", "popitem", "setdefault", "update", "clear"
    }  # fmt: skip
    assert abilities(open_target(lambda: PluginAPI(ContextStore()), "api").terms) == set()


def _rules(machine: type[RuleBasedStateMachine]) -> dict[str, tuple[Any, ...]]:
    """Each rule by name: the very function, strategies and preconditions Hypothesis draws
    it with (compared by identity: two equal-looking declarations are not one)."""
    return {
        rule.function.__name__: (
            rule.function,
            tuple((name, id(strategy)) for name, strategy in sorted(rule.arguments.items())),
            tuple(rule.preconditions),
        )
        for rule in machine.setup_state().rules
    }


def test_the_isolated_machine_draws_the_same_rules_as_the_machine_that_runs_them() -> None:
    """Both machines draw every rule from its one declaration in `ContractRules`: a rule
    declared (or overridden) on one machine only would never be drawn, or never run, or
    be drawn with other strategies or preconditions than it runs with."""
    declared = _rules(ContractRules)
    assert declared
    assert _rules(ContractMachine) == declared
    assert _rules(IsolatedMachine) == declared


def test_every_rule_has_an_effect_in_the_machine_that_runs_it() -> None:
    """`ContractMachine` runs a step as its `_do_<rule>` method: one missing would fail
    only when a search first drew that rule."""
    missing = [
        name for name in _rules(ContractRules) if not hasattr(ContractMachine, f"_do_{name}")
    ]
    assert not missing, f"rules without an effect in ContractMachine: {missing}"


# -- each new step, against one bug ---------------------------------------------------------


class PopKeepingDict(dict[str, Any]):
    """`pop` keeps what it pops."""

    def __init__(self) -> None:
        super().__init__()
        self.kept: list[Any] = []

    def pop(self, key: str, *default: Any) -> Any:
        value = super().pop(key, *default)
        self.kept.append(value)
        return value


class ClearKeepingDict(dict[str, Any]):
    """`clear` keeps a backup of what it held."""

    def __init__(self) -> None:
        super().__init__()
        self.backup: dict[str, Any] = {}

    def clear(self) -> None:
        self.backup.update(self)
        super().clear()


class CopyingUpdateDict(dict[str, Any]):
    """`update` stores copies."""

    def update(self, other: Any = (), /, **more: Any) -> None:
        import copy

        super().update({key: copy.copy(value) for key, value in dict(other).items()})


class ForgetfulSetdefaultDict(dict[str, Any]):
    """`setdefault` returns the value given, whatever the key holds."""

    def setdefault(self, key: str, default: Any = None) -> Any:
        super().setdefault(key, default)
        return default


@pytest.mark.slow
@pytest.mark.parametrize(
    ("mapping", "spelled", "prop"),
    [
        (PopKeepingDict, "store.pop(", "released"),
        (PopitemKeepingDict, "store.popitem()", "released"),
        (ClearKeepingDict, "store.clear()", "released"),
        (CopyingUpdateDict, "store.update({", "no-stale"),
        (ForgetfulSetdefaultDict, "store.setdefault(", "no-stale"),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_a_mappings_mutator_is_driven_and_spelled_in_the_story_as_called(
    mapping: type, spelled: str, prop: str
) -> None:
    violation = run_contract(mapping, settings=DERANDOMIZED, isolate=False).violation
    assert violation is not None, f"{mapping.__name__} passed"
    assert violation.property == prop, violation
    assert spelled in "\n".join(violation.steps), violation


@pytest.mark.slow
def test_the_fixed_store_and_api_hold_through_every_new_step() -> None:
    check_store(ContextStore, settings=FEW)
    check_store(dict, settings=FEW)
    run = run_contract(lambda: PluginAPI(ContextStore()), api=True, settings=FEW)
    assert run.violation is None, run.violation


@pytest.mark.slow
def test_a_store_that_rebinds_its_getter_holds_under_the_contract() -> None:
    """The contract's own wrapper asks the store through its getter as it is at each call."""
    check_store(WarmingUpStore, settings=FEW)
    run = run_contract(lambda: PluginAPI(WarmingUpStore()), api=True, settings=FEW)
    assert run.violation is None, run.violation


class RefusingMutatorsDict(dict[str, Any]):
    """A mapping whose `pop`, `popitem` and `clear` always raise, as cachebox's `popitem`
    does by design ("there is no eviction order")."""

    def pop(self, key: str, *default: Any) -> Any:
        raise NotImplementedError("no pop here")

    def popitem(self) -> tuple[str, Any]:
        raise OverflowError("no eviction order")

    def clear(self) -> None:
        raise NotImplementedError("no clear here")


@pytest.mark.slow
def test_a_mutator_the_mapping_refuses_is_no_verdict_and_the_run_stays_in_step() -> None:
    """The store is removed from through the protocol instead, in the worker and in the
    supervisor's model alike (a model that drifted made the harness itself fail)."""
    run = run_contract(RefusingMutatorsDict, settings=settings(FEW, max_examples=500))
    assert run.violation is None, run.violation


# -- addresses --------------------------------------------------------------------------


def test_a_context_the_contract_builds_never_lands_where_one_it_built_died() -> None:
    """CPython hands a new context the block a dead one left, or not, as the process's heap
    lies: a story whose violation rested on such a landing (an `id-dedup` store dropping the
    context) replayed to nothing in another process. Only `recycle` lands on purpose."""
    state = replay(ContextStore)
    data = Counter()
    dead = id(state._new_context("a", "counter", lambda: data))  # freed at once
    # Built outside the assert: what pytest's rewriting builds first could take the block.
    built = id(state._new_context("a", "counter", lambda: data))
    assert built != dead


class LitteringStore(ContextStore):
    """Notes the address of every context it is given, and leaves cyclic garbage of a
    context's size as it lets one go, for the collector's next pass, which then frees those
    blocks after the context's."""

    def __init__(self) -> None:
        super().__init__()
        self.given: list[int] = []

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        self.given.append(id(data))
        super().set_plugin_data(name, data)

    def remove_plugin_data(self, name: str) -> None:
        with gc_disabled():
            litter = tuple(_cycle() for _ in range(LITTER))
            super().remove_plugin_data(name)
            del litter


LITTER = 10_000
"""Blocks of garbage a removal leaves: far more than `recycle` allocates to land one."""


def _cycle() -> list[object]:
    item: list[object] = []
    item.append(item)
    return item


def test_recycle_lands_its_context_on_the_freed_address_though_a_collection_is_due() -> None:
    """No collection runs between the free and the new context: one that did would put the
    blocks it frees ahead of the freed one, as many as the heap holds garbage, so the context
    landed there in one process and not in another. (The first of the removals warms the
    heap: there the litter takes fresh blocks, behind the freed one.)"""
    state = replay(LitteringStore)
    state.store(name="a", state="counter", seed=0, keep=False)
    for _ in range(3):
        state.recycle(name="a", state="counter", seed=0, keep=False)
    given = state.target.given
    assert given == [given[0]] * 4
