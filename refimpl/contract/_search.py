"""The search for one verdict: the contract's passes under Hypothesis, the follow-up
searches for an earlier property, the replay of saved failures first (see `verdict`)."""

from __future__ import annotations

import unittest
from collections.abc import Iterator, Sequence
from typing import Any

from hypothesis import HealthCheck, Phase
from hypothesis import settings as Settings
from hypothesis.database import ExampleDatabase, InMemoryExampleDatabase
from hypothesis.stateful import run_state_machine_as_test

from refimpl.contract._database import StoreKeyed, primary_only
from refimpl.contract._profiles import private_storage
from refimpl.contract._violation import PROPERTIES, ContractViolation

__all__ = [
    "ISOLATED_STEPS",
    "SHORT_STEPS",
    "first_violation",
    "isolated_passes",
    "isolated_settings",
    "verdict",
]


def verdict(
    machine: type[Any], passes: Sequence[Settings], database: ExampleDatabase | None = None
) -> ContractViolation | None:
    """Search `machine` with `passes` and return the verdict: `None` when every property
    held, else the violation of the first property in `PROPERTIES` order that the search
    shows, with its shortest story. Any other error propagates.

    With a `database` (keyed to the store), its saved failures replay first (see
    `_replayed`): when one still fails, that is the verdict, and no new search is run.
    Otherwise the search saves what it finds there (its passes never replay: the short
    first pass would cut a longer saved program and delete it as passing).

    One bug may break several properties, and which of them a search meets first depends
    on its seed. So the search does not stop at its first violation: it goes on, judging
    only the properties before that one (the checks of the others are not run), until it
    finds none. The verdict is thus the first property in that order that the search
    shows, not the one it happened to meet first. The search goes on for
    `FOLLOW_UP_FACTOR` times the examples it took to meet its first violation (at least
    `FOLLOW_UP_FLOOR`), within what its passes have left: an earlier property that takes
    ten times longer to show than the one met is, at that, not searched for."""
    scratch: ExampleDatabase | None = None
    with private_storage():
        if database is not None:
            found = _replayed(machine, passes, database)
            if found is not None:
                return found
            scratch = StoreKeyed(InMemoryExampleDatabase(), _SCRATCH_KEY)
            passes = [_saving_to(chosen, scratch) for chosen in passes]
        found = _searched(machine, passes)
        if found is not None and database is not None and scratch is not None:
            _remember(machine, found, scratch, database, passes)
    return found


def _searched(machine: type[Any], passes: Sequence[Settings]) -> ContractViolation | None:
    """The search of `verdict`: the first violation, then the follow-up searches."""
    found: ContractViolation | None = None
    left = [chosen.max_examples for chosen in passes]
    judged: tuple[str, ...] = PROPERTIES
    allowance: int | None = None
    while judged and any(left):
        machine.judged = judged
        seen, machine.first_failure = getattr(machine, "first_failure", None), None
        budget = [
            Settings(chosen, max_examples=n) for chosen, n in zip(passes, left, strict=True) if n
        ]
        violation, spent = _search(machine, budget if found is None else _rejecting(budget))
        if violation is None:
            machine.first_failure = seen  # when the verdict's violation was first seen
            break
        found = _told_judging(violation, judged)
        judged = PROPERTIES[: PROPERTIES.index(violation.property)]
        if allowance is None:
            allowance = max(FOLLOW_UP_FLOOR, FOLLOW_UP_FACTOR * sum(spent))
        else:
            allowance = max(0, allowance - sum(spent))
        left = _within(_remaining(left, spent), allowance)
    machine.judged = PROPERTIES
    return found


_SCRATCH_KEY = b"this run"
"""The key a run files what its search finds under, before `_remember` picks the verdict."""


def _remember(
    machine: type[Any],
    found: ContractViolation,
    scratch: ExampleDatabase,
    database: ExampleDatabase,
    passes: Sequence[Settings],
) -> None:
    """Save to `database` the one failure the search kept in `scratch` that tells
    `found`'s story: Hypothesis keeps every failure it meets, among them unshrunk ones of
    other properties met while shrinking, and a later run that replayed those would name
    another property, with a long story, than this run did.

    Each of the few failures kept is replayed once, judged up to `found`'s property, on a
    fresh worker, until one tells the same steps. A failure that shows only after earlier
    examples (instances sharing state through a class attribute: the worker tells a story
    of its own) fails no fresh run, so none of its is saved: a later run searches anew."""
    judged = PROPERTIES[: PROPERTIES.index(found.property) + 1]
    worker = getattr(machine, "worker", None)
    for saved in sorted(scratch.fetch(b""), key=lambda value: (len(value), value)):
        if worker is not None:
            worker.close()  # the next program starts a new one, as a later run would
        single = InMemoryExampleDatabase()
        single.save(_SCRATCH_KEY, saved)
        told = _replayed(
            machine, passes, StoreKeyed(single, _SCRATCH_KEY), judged=judged, narrow=False
        )
        story = (found.property, found.steps[1:])
        if told is not None and (told.property, told.steps[1:]) == story:
            database.save(b"", saved)
            return


def _replayed(
    machine: type[Any],
    passes: Sequence[Settings],
    database: ExampleDatabase,
    *,
    judged: tuple[str, ...] = PROPERTIES,
    narrow: bool = True,
) -> ContractViolation | None:
    """Replay the failures `database` holds for this store, and return the verdict they
    give (as `verdict` does: the first property in `PROPERTIES` order among them), or
    `None` when none fails any more.

    Each replays at full length: at least `REPLAY_STEPS` steps, more than any pass
    allows, so a saved program ends where it ended when it was found. The first replay
    judges every property, and deletes what passes all of them (the bug was fixed).
    Each later one judges only the properties before the one found, on the database
    read-only and without the failures' longer forms: what fails only a later property
    is kept for the runs to come, and costs one example. `judged` is what the first
    replay judges; `narrow=False`: that one replay only."""
    steps = max(REPLAY_STEPS, *(chosen.stateful_step_count for chosen in passes))
    replay = Settings(
        passes[-1],
        phases=(Phase.reuse,),
        stateful_step_count=steps,
        max_examples=sum(chosen.max_examples for chosen in passes),
    )
    found: ContractViolation | None = None
    source = database
    while judged:
        machine.judged = judged
        settings = Settings(replay, database=source)
        try:
            violation, _ = _search(machine, [settings] if found is None else _rejecting([settings]))
        except unittest.SkipTest:  # Hypothesis's word for a database with nothing saved
            violation = None
        if violation is None:
            break
        found = _told_judging(violation, judged)
        if not narrow:
            break
        judged = PROPERTIES[: PROPERTIES.index(violation.property)]
        source = primary_only(database)
    machine.judged = PROPERTIES
    return found


def _saving_to(chosen: Settings, database: ExampleDatabase) -> Settings:
    """`chosen`, saving what it finds to `database` without replaying from it."""
    phases = tuple(phase for phase in chosen.phases if phase is not Phase.reuse)
    return Settings(chosen, database=database, phases=phases)


REPLAY_STEPS = 50
"""The fewest steps a saved failure replays with: Hypothesis's default step count, more
than any pass of the contract takes (see `isolated_passes`)."""


FOLLOW_UP_FACTOR = 10
"""After its first violation, the search goes on for this many times the examples it
took to meet it, looking for an earlier property (see `verdict`)."""


FOLLOW_UP_FLOOR = 50
"""The fewest examples the search goes on for after its first violation."""


def _within(left: list[int], allowance: int) -> list[int]:
    """`left`, cut to `allowance` examples in all, the earlier passes served first."""
    kept = []
    for n in left:
        kept.append(min(n, allowance))
        allowance -= kept[-1]
    return kept


def _told_judging(violation: ContractViolation, judged: tuple[str, ...]) -> ContractViolation:
    """`violation`, its setup line asking `replay` to judge only `judged` when that is not
    every property: the checks of the others, which the search did not run, would stop its
    story at a later property."""
    setup, *rest = violation.steps
    if judged == PROPERTIES or not setup.endswith(")"):
        return violation
    told = f"{setup[:-1]}, judged={judged!r})"
    return ContractViolation(violation.property, (told, *rest), violation.detail)


def _rejecting(passes: Sequence[Settings]) -> list[Settings]:
    """`passes` for a search that judges fewer properties: an in-process machine rejects
    an example whose first broken check is one it does not judge (`hypothesis.reject`),
    which is no health problem here."""
    return [
        Settings(
            chosen,
            suppress_health_check=(*chosen.suppress_health_check, HealthCheck.filter_too_much),
        )
        for chosen in passes
    ]


def _remaining(left: list[int], spent: list[int]) -> list[int]:
    """What each pass has left after a search that spent `spent` of the passes with
    examples left (in order; the last one is where the violation was found)."""
    remaining = list(left)
    live = [index for index, n in enumerate(left) if n]
    for index, used in zip(live, spent, strict=False):
        remaining[index] = max(0, remaining[index] - used)
    return remaining


def _search(
    machine: type[Any], passes: Sequence[Settings]
) -> tuple[ContractViolation | None, list[int]]:
    """Run the state machine with each of `passes` in turn until one finds a violation;
    return it (the first property, the shortest story), or `None` when none did, and the
    examples each pass run generated before its first violation (all, when it found none)."""
    spent: list[int] = []
    for chosen in passes:
        before = getattr(machine, "examples", 0)
        machine.failed_at = None
        try:
            run_state_machine_as_test(machine, settings=chosen)
        except BaseException as error:
            verdict = first_violation(error)
            if verdict is not None:
                failed_at = machine.failed_at
                spent.append(chosen.max_examples if failed_at is None else failed_at - before)
                return ContractViolation(verdict.property, verdict.steps, verdict.detail), spent
            interruption = next(
                (e for e in _chain(error) if isinstance(e, KeyboardInterrupt)), None
            )
            if interruption is not None and interruption is not error:
                # Ctrl-C or SIGTERM inside Hypothesis's own bookkeeping, which it
                # reports as flaky data generation: the user asked to stop, that's all.
                raise interruption from None
            raise
        spent.append(chosen.max_examples)
    return None, spent


ISOLATED_STEPS = 20
"""Steps per example in an isolated run, unless the settings name another count."""


SHORT_STEPS = 5
"""Steps per example in the first pass of an isolated run (see `isolated_passes`)."""


SHORT_SHARE = 2
"""The first pass runs one example in this many: half (see `isolated_passes`)."""


def isolated_settings(chosen: Settings) -> Settings:
    """`chosen`, with at most `ISOLATED_STEPS` steps per example when it keeps Hypothesis's
    default (50). An isolated example's failure surfaces when its whole program has run,
    so every example the shrinker tries is as long as the one it shrinks: shorter
    programs shrink faster (every mutant's story has at most three steps)."""
    if _names_its_step_count(chosen):
        return chosen
    return Settings(chosen, stateful_step_count=ISOLATED_STEPS)


def isolated_passes(chosen: Settings) -> tuple[Settings, ...]:
    """The passes of an isolated run, each run only if the one before found nothing.

    When `chosen` names no step count: first half its examples with at most
    `SHORT_STEPS` steps, then the rest with at most `ISOLATED_STEPS`. Most ownership
    bugs show within a few steps, and a violation found in a short program shrinks in
    a fraction of the attempts a long one needs (the catalogue: 16 s against 30 s in
    all, and the shortest stories). When `chosen` names one, that one pass, as asked."""
    if _names_its_step_count(chosen):
        return (chosen,)
    short = max(1, chosen.max_examples // SHORT_SHARE)
    rest = max(1, chosen.max_examples - short)
    return (
        Settings(chosen, stateful_step_count=SHORT_STEPS, max_examples=short),
        Settings(chosen, stateful_step_count=ISOLATED_STEPS, max_examples=rest),
    )


def _names_its_step_count(chosen: Settings) -> bool:
    default = Settings.default
    return default is not None and chosen.stateful_step_count != default.stateful_step_count


def first_violation(error: BaseException) -> ContractViolation | None:
    """The violation to report among those raised: the first property in `PROPERTIES`
    order, then the shortest story."""
    found = [e for e in _chain(error) if isinstance(e, ContractViolation)]
    if not found:
        return None
    return min(found, key=lambda v: (PROPERTIES.index(v.property), len(v.steps)))


def _chain(error: BaseException) -> Iterator[BaseException]:
    """`error` and every error it was raised from or during, or groups: Hypothesis reports
    a store whose behaviour depends on state outside the example (a shared class
    attribute, address reuse) as flaky, with the violation it saw as the cause or
    context."""
    pending: list[BaseException | None] = [error]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        pending += [current.__cause__, current.__context__]
