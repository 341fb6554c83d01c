"""The ownership contract: the fixed implementation passes it, and every mutant is caught."""

from __future__ import annotations

import re
import select
import signal
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, rule

from broken_variant.mutants import MUTANTS, Mutant
from refimpl import ContextStore, PluginAPI, PluginContextBase
from refimpl.contract import (
    PROPERTIES,
    ContractViolation,
    check_api,
    check_store,
    run_contract,
)
from refimpl.contract._search import verdict
from refimpl.support.cmdline import Terminated, run_cli
from tests.test_readme import mutant_rows

STILL_HUNG = 0.5
"""Seconds a replayed hang must still run after its last step began: a step that does not
hang ends within milliseconds (on a busy machine a slow one may pass for hung, never the
other way round)."""

MAX_RULE_STEPS = 5
"""The longest story the catalogue tells (clearing-remove's `survival`: the shrinker keeps
contexts where it can, so a story that needs one to die drops them with a step of its own,
and it can end on a longer program than the shortest there is)."""


QUICK = frozenset({"weakref", "copying", "unchecked-cast", "leaky", "segfault"})
"""One mutant per property: `make test` runs these; the others are `slow` (`make test-slow`)."""


def tiered(mutants: list[Mutant] | tuple[Mutant, ...]) -> list[Any]:
    """`mutants` as parameters, each named, those outside `QUICK` marked `slow`."""
    return [
        pytest.param(m, id=m.name, marks=() if m.name in QUICK else pytest.mark.slow)
        for m in mutants
    ]


def make_fixed_api() -> PluginAPI:
    return PluginAPI(ContextStore())


AT_LEAST_500 = settings(settings(), deadline=None, max_examples=max(500, settings().max_examples))
"""The active profile (ci under make test), with at least 500 examples."""

DERANDOMIZED = settings(
    settings(), derandomize=True, database=None, max_examples=max(500, settings().max_examples)
)
"""The active profile, derandomized, with at least the `ci` profile's 500 examples: the
budget the catalogue declares its verdicts for, and its measured table is made with."""


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
                mutant.factory,
                api=mutant.kind == "api",
                settings=DERANDOMIZED,
                timeout=mutant.timeout,
            ).violation
            if violation is None:
                pytest.fail(f"mutant {mutant.name!r} escaped: {mutant.catches} should catch it")
            verdicts[mutant.name] = violation
        return verdicts[mutant.name]

    return run


def named(name: str) -> Mutant:
    return next(mutant for mutant in MUTANTS if mutant.name == name)


@pytest.mark.parametrize("mutant", tiered(MUTANTS))
def test_mutant_is_caught_by_its_declared_property(
    mutant: Mutant, caught: Callable[[Mutant], ContractViolation]
) -> None:
    violation = caught(mutant)
    assert violation.property == mutant.catches, violation
    assert 1 <= len(violation.rule_steps) <= MAX_RULE_STEPS, violation


@pytest.mark.parametrize("mutant", tiered(MUTANTS))
def test_each_story_is_as_long_as_the_measured_table_says(
    mutant: Mutant, caught: Callable[[Mutant], ContractViolation]
) -> None:
    """reports/MEASUREMENTS.md gives each story's length in the catalogue's run. A run forked from
    another process (pytest's) can shrink to a story a step longer or shorter, where a
    candidate program's outcome depends on CPython's allocator (a freed address reused or
    not, as in `id-dedup`): `reused-wrapper` told 2 steps in the catalogue, 3 here."""
    said = next(int(cells[3]) for cells in mutant_rows() if cells[0] == f"`{mutant.name}`")
    steps = len(caught(mutant).rule_steps)
    assert abs(steps - said) <= 1, f"{mutant.name}: {steps} steps, MEASUREMENTS.md says {said}"


@pytest.mark.parametrize("mutant", tiered([m for m in MUTANTS if m.catches != "crash"]))
def test_replaying_the_steps_shows_the_same_violation(
    mutant: Mutant, caught: Callable[[Mutant], ContractViolation]
) -> None:
    violation = caught(mutant)
    with pytest.raises(ContractViolation) as replayed:
        exec("\n".join(violation.steps), {})
    assert replayed.value.property == violation.property


@pytest.mark.slow
def test_every_story_replays_in_a_fresh_process_to_the_property_named(
    caught: Callable[[Mutant], ContractViolation],
) -> None:
    """Each story, run by `python -c` in a process of its own (no name interned by a run
    before it, no store left by an earlier example), raises the property the run named."""
    told = {m.name: caught(m) for m in MUTANTS if m.catches != "crash"}
    script = (
        "from refimpl.contract import ContractViolation\n"
        "try:\n{}\nexcept ContractViolation as violation:\n    print(violation.property)\n"
    )
    running = {
        name: subprocess.Popen(
            [sys.executable, "-c", script.format("\n".join(f"    {s}" for s in v.steps))],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, v in told.items()
    }
    for name, process in running.items():
        out, err = process.communicate(timeout=300)
        assert out.strip() == told[name].property, f"{name}: {out!r} {err[-2000:]}"


@pytest.mark.parametrize("mutant", tiered([m for m in MUTANTS if m.catches == "crash"]))
def test_a_crash_story_replayed_ends_its_process_as_the_worker_ended(
    mutant: Mutant, caught: Callable[[Mutant], ContractViolation]
) -> None:
    violation = caught(mutant)
    assert violation.property == "crash"
    if "no answer within" in violation.detail:  # a hang: replayed, it hangs at its last step
        *before, last = violation.steps
        script = "\n".join([*before, "print('last step', flush=True)", last, "print('survived')"])
        replaying = subprocess.Popen(
            [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True,
        )  # fmt: skip
        try:
            assert replaying.stdout is not None
            assert select.select([replaying.stdout], [], [], 60)[0], "silent for 60 s"
            assert replaying.stdout.readline() == "last step\n", "ended before its last step"
            with pytest.raises(subprocess.TimeoutExpired):
                replaying.wait(STILL_HUNG)
        finally:
            replaying.kill()
            replaying.wait()
        return
    script = "\n".join(violation.steps) + "\nprint('replay survived')"
    replayed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert "replay survived" not in replayed.stdout, replayed.stderr
    code = replayed.returncode
    how = (
        f"killed by signal {-code} ({signal.Signals(-code).name})"
        if code < 0
        else (f"exited with status {code}")
    )
    assert how in violation.detail, (how, violation.detail)


def test_violation_is_an_assertion_error_carrying_its_fields(
    caught: Callable[[Mutant], ContractViolation],
) -> None:
    violation = caught(named("weakref"))
    assert isinstance(violation, AssertionError)
    assert violation.property in PROPERTIES
    assert violation.steps[0].startswith("from refimpl.contract import replay; state = replay(")
    assert all(line.startswith("state.") for line in violation.rule_steps)
    assert "survival violated" in str(violation)


@pytest.mark.slow
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
    assert re.search(r"held by: LeakyStore\._history -> list\[\d+\] -> ", violation.detail)


def test_a_crash_says_how_where_and_what_the_worker_said(
    caught: Callable[[Mutant], ContractViolation],
) -> None:
    violation = caught(named("segfault"))
    detail = violation.detail
    assert "killed by signal 11 (SIGSEGV)" in detail
    assert f"during step {len(violation.rule_steps)}: {violation.steps[-1]}" in detail
    assert "last completed step: " in detail
    assert "Fatal Python error: Segmentation fault" in detail  # faulthandler's dump
    assert "in remove_plugin_data" in detail
    # The dump shows the store's frames: not the contract's, Hypothesis's or the lifeline's.
    assert "refimpl/contract/" not in detail
    assert "hypothesis" not in detail
    assert "multiprocessing" not in detail


@pytest.mark.slow
def test_a_hang_says_no_answer_within_the_limit(
    caught: Callable[[Mutant], ContractViolation],
) -> None:
    assert "no answer within " in caught(named("hang")).detail


@pytest.mark.slow
def test_an_over_release_is_released_freed_while_still_referenced(
    caught: Callable[[Mutant], ContractViolation],
) -> None:
    assert "freed while still referenced" in caught(named("over-release")).detail


@pytest.mark.slow
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


DIAGNOSES = {
    "untracked": "freed while stored",
    "raw-pointer": "freed while stored",
    "weakref": "freed while stored",
    "weak-value-dict": "freed while stored",
    "copying": "an equal copy",
    "leaky": "held by: LeakyStore._history",
    "id-dedup": "freed while stored",
    "lru": "freed while stored",
    "shared-class-dict": "its instances share state",
    "clearing-remove": "freed while stored",
    "unchecked-cast": "instead of raising ContextTypeError",
    "silent-reset": "instead of raising ContextTypeError",
    "stale-cache-api": "instead of raising ContextTypeError",
    "over-release": "freed by the store while the contract still held",
    "threaded-weak": "freed while stored",
    "pickling": "an equal copy",
    "bounded-lru": "freed while stored",
    "equal-dedup": "stored at step 1, replaced at step 2",
    "hot-reload": "does not hold the data it was stored with",
    "refusing": "the store refused the context",
    "covariant-downcast": "instead of raising ContextTypeError",
    "data-check-downcast": "instead of raising ContextTypeError",
    "shared-default": "share one data object",
    "reused-wrapper": "its data replaced in place, not a new context",
    "segfault": "SIGSEGV",
    "abort": "SIGABRT",
    "exit": "exited with status 0",
    "hang": "no answer within",
    "case-folding": "freed while stored",
    "identity-names": "the store lost track of it",
    "last-index": "the store lost track of it",
    "persisting": "its instances share state",
    "layered-default": "expected None (it was removed)",
    "popitem-keeps": "held by: PopitemKeepingDict._popped",
    "erased-generics": "list[str]) on the stored IntsContext",
    "bound-getter": "api.get_plugin_data(",
}
"""The words each mutant's detail must say: the diagnosis of its own bug, not another's."""


def test_every_mutant_has_a_diagnosis_to_check() -> None:
    assert set(DIAGNOSES) == {m.name for m in MUTANTS}


@pytest.mark.parametrize("mutant", tiered(MUTANTS))
def test_each_mutant_detail_says_what_its_bug_is(
    mutant: Mutant, caught: Callable[[Mutant], ContractViolation]
) -> None:
    violation = caught(mutant)
    assert DIAGNOSES[mutant.name] in violation.detail, violation


class InterruptedInsideHypothesis(RuleBasedStateMachine):
    """Stands for SIGTERM landing in Hypothesis's own bookkeeping, which then fails with an
    error of its own (a flaky-generation report) raised during the interruption."""

    @rule()
    def step(self) -> None:
        try:
            raise Terminated(signal.SIGTERM)
        except Terminated:
            raise RuntimeError("Hypothesis's own error, on the way out") from None


def test_an_interruption_inside_hypothesis_stops_the_contract_as_itself() -> None:
    with pytest.raises(Terminated):
        verdict(InterruptedInsideHypothesis, [settings(max_examples=5, database=None)])


class _Token:
    """An object to drop, so that a weak reference's callback runs at once."""


class CtrlCInACallbackStore(ContextStore):
    """Its first store runs a weakref callback that Ctrl-C lands in: Python can only print
    "Exception ignored" and go on, so the interruption is swallowed there."""

    interrupted = False

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        super().set_plugin_data(name, data)
        if not CtrlCInACallbackStore.interrupted:
            CtrlCInACallbackStore.interrupted = True
            token = _Token()
            keep = weakref.ref(token, _ctrl_c)
            del token  # the callback runs now
            assert keep() is None


def _ctrl_c(_: object) -> None:
    raise KeyboardInterrupt


def test_a_ctrl_c_a_weakref_callback_swallowed_stops_the_contract_at_its_next_step() -> None:
    stopped: list[bool] = []

    def main(argv: object) -> int:
        with pytest.raises(KeyboardInterrupt):
            run_contract(CtrlCInACallbackStore, settings=DERANDOMIZED, isolate=False)
        stopped.append(True)
        return 0

    assert run_cli(main, "test") == 0  # raised in the contract, not only once it ended
    assert stopped == [True]


def test_a_swallowed_ctrl_c_stops_a_run_that_no_command_wraps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`pytest --store` and `check_store` run the contract with no `run_cli` around it: the
    run notes the interruption itself."""
    monkeypatch.setattr(CtrlCInACallbackStore, "interrupted", False)
    with pytest.raises(KeyboardInterrupt):
        run_contract(CtrlCInACallbackStore, settings=DERANDOMIZED, isolate=False)


def test_a_ctrl_c_swallowed_in_the_callers_gc_callback_stops_an_isolated_run() -> None:
    """Where Ctrl-C lands in Hypothesis's garbage-collector callback in the caller, Python
    hands it to `sys.unraisablehook` and goes on: the run stops at its next step."""

    def land_in_a_callback() -> None:  # what Python does with an interruption it cannot raise
        interruption = KeyboardInterrupt()
        sys.unraisablehook(
            SimpleNamespace(exc_type=KeyboardInterrupt, exc_value=interruption,
                            exc_traceback=None, err_msg="Exception ignored in", object=None)
        )  # fmt: skip

    timer = threading.Timer(0.5, land_in_a_callback)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            run_contract(ContextStore, settings=settings(DERANDOMIZED, max_examples=5000))
    finally:
        timer.cancel()
