"""Run the contract against a store or an API factory, and turn a failure into a verdict."""

from __future__ import annotations

import importlib
import importlib.machinery
import os
import sys
import threading
import time
import unittest
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, Phase
from hypothesis import settings as Settings
from hypothesis.database import ExampleDatabase, InMemoryExampleDatabase
from hypothesis.stateful import run_state_machine_as_test

from refimpl.contract._database import StoreKeyed, primary_only, store_key
from refimpl.contract._isolated import IsolatedMachine
from refimpl.contract._machine import ContractMachine
from refimpl.contract._messages import Check, Refused, Usable
from refimpl.contract._names import NAMES_DEFAULT, name_list
from refimpl.contract._profiles import private_storage, without_default_database
from refimpl.contract._supervisor import Died, Worker
from refimpl.contract._violation import PROPERTIES, ContractViolation
from refimpl.contract._worker import check_factory
from refimpl.support.cmdline import interrupts_noted
from refimpl.support.collector import frozen_gc

__all__ = [
    "ContractRun",
    "NoDatabaseKey",
    "bare_cost",
    "check_api",
    "check_store",
    "factory_spec",
    "replay",
    "resolve_factory",
    "run_contract",
    "setup_line",
]


def check_store(
    make_store: Callable[[], Any],
    *,
    settings: Settings | None = None,
    timeout: float | None = 5.0,
    names: int = NAMES_DEFAULT,
    database: ExampleDatabase | None = None,
) -> None:
    """Run the ownership contract against the stores `make_store()` builds.

    Returns quietly when every property holds; raises `ContractViolation` with
    the broken property, the shrunk steps and the evidence otherwise. Where one bug
    breaks several properties, the one named is the first in `PROPERTIES` order that
    the search shows, whichever it met first (see `_verdict`).
    `make_store()` may build a store (the three store methods) or any mutable
    mapping (`__setitem__`, `__getitem__` or `get`, `__delitem__` or `pop`: `dict`,
    `WeakValueDictionary`, a cachetools cache, a `shelve`), used as it is, or a context
    manager giving one; anything with a `close()` is closed when its example ends.
    A bare store has no typed calls: `checked-downcast` is not judged (see
    `check_api`). `names` is how many plugin names the contract stores under (most
    steps pick from the first three; `store_all` stores under all of them, so a bounded
    cache smaller than `names` shows). `settings=None` means the active Hypothesis
    profile; either way the contract reports one violation and has no deadline (a
    slow store is not an ownership bug).

    The store runs in a supervised worker process (see `refimpl.contract._supervisor`):
    a store that kills it (a signal, `abort()`, `os._exit`, a thread dying of an
    uncaught error) or leaves one call unanswered for `timeout` seconds (`None`: no
    limit) is a `crash` violation, shrunk like any other. A factory that raises, or
    builds something without the store methods, is refused with `TypeError` before
    any example runs. Unless `settings` names a `stateful_step_count`, half the
    examples come first with at most 5 steps, the rest with at most 20 (see
    `isolated_passes`).

    `database` (a Hypothesis example database; `None`: the one `settings` names, if
    any other than Hypothesis's default) remembers the store's failures under a key of
    its own (its factory's import spec, store or API, `names`): they replay first, at
    full length, in every later run with that database, and no other store's run
    deletes them (see `_verdict`). A factory with no import spec (a lambda, a closure)
    gets none: a `NoDatabaseKey` warning says so.

    Example:
        >>> from refimpl import ContextStore
        >>> check_store(ContextStore)  # quiet: the fixed store holds every property
        >>> check_store(dict)  # quiet: a plain dict holds what it is given
    """
    run = run_contract(
        make_store, settings=settings, timeout=timeout, names=names, database=database
    )
    if run.violation is not None:
        raise run.violation


def check_api(
    make_api: Callable[[], Any],
    *,
    settings: Settings | None = None,
    timeout: float | None = 5.0,
    names: int = NAMES_DEFAULT,
    database: ExampleDatabase | None = None,
) -> None:
    """Run the ownership contract against the APIs `make_api()` builds, through their own
    store methods, `get_context` and `set_context`, with every property judged
    (`checked-downcast` included). Same promise as `check_store`."""
    run = run_contract(
        make_api, api=True, settings=settings, timeout=timeout, names=names, database=database
    )
    if run.violation is not None:
        raise run.violation


@dataclass(frozen=True, slots=True)
class ContractRun:
    """What one run of the contract did: its verdict and what it cost.

    `examples` counts the examples run in all (replay, search and shrinking), `steps`
    their steps; `first_failure_examples` / `first_failure_seconds` say when the first
    violation was seen (`None` when none was); `seconds` is the whole run.
    """

    violation: ContractViolation | None
    examples: int
    seconds: float
    first_failure_examples: int | None
    first_failure_seconds: float | None
    steps: int = 0


def run_contract(
    factory: Callable[[], Any],
    *,
    api: bool = False,
    settings: Settings | None = None,
    timeout: float | None = 5.0,
    isolate: bool = True,
    names: int = NAMES_DEFAULT,
    database: ExampleDatabase | None = None,
    seed: int | None = None,
) -> ContractRun:
    """Run the contract on `factory` (a store factory, or an API factory with `api=True`)
    and return its verdict with its costs, instead of raising.

    `isolate=False` runs the store in this process, as the contract did before it had
    a worker (no `crash` verdict, no time limit: a crash is this process's): the
    benchmark's baseline. `database` as for `check_store`. `seed` (an integer) fixes
    the search's random choices, whatever the profile says (`derandomize` included):
    shards of one store's budget each take their own.

    A Ctrl-C that Python could not raise where it landed (in Hypothesis's garbage-collector
    callback) stops the run all the same, at its next step.

    Runs called from several threads at once take turns: each has its own workers, but
    Hypothesis's storage directory is global, and CPython 3.11's parser, which Hypothesis
    uses as a run starts, fails in two threads at once."""
    if not callable(factory):
        raise TypeError(f"the contract needs a factory to call, got {type(factory).__name__}")
    if timeout is not None and not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds or None, got {timeout!r}")
    with _ONE_RUN_AT_A_TIME, interrupts_noted():
        return _run(factory, mode="api" if api else "store", settings=settings,
                    timeout=timeout, isolate=isolate, names=names, database=database,
                    seed=seed)  # fmt: skip


_ONE_RUN_AT_A_TIME = threading.RLock()
"""Held by a contract run (re-entrant: a factory may run the contract in-process)."""


def _run(
    factory: Callable[[], Any],
    *,
    mode: str,
    settings: Settings | None,
    timeout: float | None,
    isolate: bool,
    names: int,
    database: ExampleDatabase | None,
    seed: int | None,
) -> ContractRun:
    all_names = name_list(names)
    chosen = Settings() if settings is None else settings
    wanted = database if database is not None else without_default_database(chosen).database
    keyed = _keyed(wanted, factory, mode, names)
    if isolate:
        return _run_isolated(factory, mode, chosen, timeout, all_names, keyed, seed)
    answer = check_factory(factory, mode)
    if isinstance(answer, Refused):
        raise TypeError(answer.why)
    started = time.perf_counter()
    machine = ContractMachine.bind(
        factory,
        mode=mode,
        setup_line=setup_line(factory, mode, len(all_names)),
        refreeze=True,
        names=all_names,
    )
    _seeded(machine, seed)
    with frozen_gc():
        violation = _verdict(machine, (_contract_settings(chosen),), keyed)
    return ContractRun(
        violation,
        machine.examples,
        time.perf_counter() - started,
        machine.first_failure[0] if machine.first_failure else None,
        machine.first_failure[1] - started if machine.first_failure else None,
        machine.steps_run,
    )


class NoDatabaseKey(UserWarning):
    """An example database was asked for, but the factory has no import spec to file its
    failures under (a lambda, a closure, a function of `__main__`): the run keeps none."""


def _keyed(
    database: ExampleDatabase | None, factory: Callable[[], Any], mode: str, names: int
) -> ExampleDatabase | None:
    """`database` with every entry filed under the store's own key (see `store_key`), or
    `None` when there is no database or no key to file under (with a warning)."""
    if database is None:
        return None
    spec = factory_spec(factory)
    if spec is None:
        warnings.warn(
            f"the contract keeps no example database for {factory!r}: it has no import "
            "path (package.module:name) to file its failures under",
            NoDatabaseKey,
            stacklevel=5,
        )
        return None
    return StoreKeyed(database, store_key(spec, mode, names))


def _seeded(machine: type[Any], seed: int | None) -> None:
    """Give `machine` the search seed `seed` (Hypothesis's `@seed`, which
    `run_state_machine_as_test` reads from the machine class); `None` leaves it alone."""
    if seed is not None:
        machine._hypothesis_internal_use_seed = seed


def _run_isolated(
    factory: Callable[[], Any],
    mode: str,
    settings: Settings,
    timeout: float | None,
    names: tuple[str, ...],
    database: ExampleDatabase | None,
    seed: int | None,
) -> ContractRun:
    started = time.perf_counter()
    line = setup_line(factory, mode, len(names))
    worker = Worker(factory, mode=mode, setup_line=line, timeout=timeout, names=names)
    passes = isolated_passes(_contract_settings(settings))
    try:
        try:
            answer = worker.ask(Check())
        except Died:
            answer = Usable(mode)  # the crash is the verdict: the first example will meet it
        if isinstance(answer, Refused):
            raise TypeError(answer.why)
        assert isinstance(answer, Usable), f"a worker answered {answer!r} to a check"
        machine = IsolatedMachine.bind(
            worker,
            setup_line=line,
            clock=time.perf_counter,
            mode=mode,
            terms=answer.terms,
            names=names,
        )
        _seeded(machine, seed)
        violation = _verdict(machine, passes, database)
    finally:
        worker.close()
    return ContractRun(
        violation,
        machine.examples,
        time.perf_counter() - started,
        machine.first_failure[0] if machine.first_failure else None,
        machine.first_failure[1] - started if machine.first_failure else None,
        machine.steps_run,
    )


def _verdict(
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
    """The search of `_verdict`: the first violation, then the follow-up searches."""
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
    give (as `_verdict` does: the first property in `PROPERTIES` order among them), or
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
took to meet it, looking for an earlier property (see `_verdict`)."""
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
            verdict = _first_violation(error)
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


def bare_cost(settings: Settings | None = None) -> tuple[int, float]:
    """Examples and seconds of Hypothesis alone drawing the contract's steps, with no store
    and no check: the floor the benchmark compares the contract with."""
    started = time.perf_counter()
    machine = IsolatedMachine.bind(None, setup_line="", clock=time.perf_counter)
    passes = isolated_passes(_contract_settings(Settings() if settings is None else settings))
    _verdict(machine, passes)
    return machine.examples, time.perf_counter() - started


def factory_spec(factory: Callable[[], Any]) -> str | None:
    """Return `package.module:name` that imports `factory` back (the shortest such path,
    so a public re-export wins over a private module), or `None` if none does."""
    module = getattr(factory, "__module__", None)
    qualname = getattr(factory, "__qualname__", None)
    if not module or module == "__main__" or not qualname or "<" in qualname:
        return None
    if not _imports_afresh(module):
        return None
    parts = module.split(".")
    for depth in range(1, len(parts) + 1):
        spec = f"{'.'.join(parts[:depth])}:{qualname}"
        try:
            if resolve_factory(spec) is factory:
                return spec
        except (ImportError, AttributeError, TypeError, ValueError):
            continue
    return None


def _imports_afresh(name: str) -> bool:
    """Whether a fresh process that imports the loaded module `name` by that name finds the
    file it came from: not so for one a plugin loader executed from a file path
    (`importlib.util.spec_from_file_location`), which a story could not import."""
    module = sys.modules.get(name)
    file = getattr(module, "__file__", None)
    if module is None or file is None:
        return module is not None  # built in, or a namespace: nothing else to find
    parent = name.rpartition(".")[0]
    path = getattr(sys.modules.get(parent), "__path__", None) if parent else None
    try:
        found = importlib.machinery.PathFinder.find_spec(name, path)
    except (ImportError, ValueError):
        return False
    origin = getattr(found, "origin", None)
    return origin is not None and os.path.realpath(origin) == os.path.realpath(file)


def resolve_factory(spec: str) -> Callable[[], Any]:
    """Import `package.module:factory` and return the factory.

    Raises `ValueError` (no `:`), `ImportError` (module), `AttributeError`
    (name) or `TypeError` (not callable), each naming the spec and the fault.
    """
    module_name, colon, attribute = spec.partition(":")
    if not colon or not module_name or not attribute:
        raise ValueError(f"{spec!r} is not of the form package.module:factory")
    try:
        found: Any = importlib.import_module(module_name)
    except ImportError as error:
        raise ImportError(f"cannot import {module_name!r}: {error}") from error
    for part in attribute.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise AttributeError(f"module {module_name!r} has no {attribute!r}") from None
    if not callable(found):
        raise TypeError(f"{attribute!r} is a {type(found).__name__}, not callable")
    return found  # type: ignore[no-any-return]


def replay(
    factory: Callable[[], Any] | str,
    *,
    api: bool = False,
    names: int = NAMES_DEFAULT,
    judged: Sequence[str] = PROPERTIES,
) -> ContractMachine:
    """Return a fresh contract machine on `factory` (a callable or a `module:name` spec),
    ready to run a violation's steps line by line.

    `judged` names the properties it checks (in `PROPERTIES`, `crash` among them): a
    violation found once the search judged only the properties before the one it met
    first (see `_verdict`) says so in its first line, so that its story replays to it.

    The machine runs in the calling process, not isolated: replaying a `crash` story
    crashes the replaying process as it crashed the worker (a segfault kills it, a hang
    hangs it). Replay such a story in a process you can lose, e.g.
    `python -c "$steps"`, and read its exit status.

    A violation's first line calls this; when its factory could not be named by
    import path, that line says `replay(factory)`, so run the steps with
    `exec("\\n".join(steps), {"factory": your_factory})`.
    """
    unknown = [prop for prop in judged if prop not in PROPERTIES]
    if unknown or "crash" not in judged:
        raise ValueError(f"judged must name properties of {PROPERTIES}, crash among them")
    make = resolve_factory(factory) if isinstance(factory, str) else factory
    mode = "api" if api else "store"
    line = setup_line(make, mode, names)
    machine = ContractMachine.bind(make, mode=mode, setup_line=line, names=name_list(names))
    machine.judged = tuple(prop for prop in PROPERTIES if prop in judged)
    return machine()


def setup_line(factory: Callable[[], Any], mode: str, names: int) -> str:
    """A story's first line: `replay` of `factory` (by import spec, else `factory`)."""
    spec = factory_spec(factory)
    target = repr(spec) if spec else "factory"
    flag = ", api=True" if mode == "api" else ""
    if names != NAMES_DEFAULT:
        flag += f", names={names}"
    return f"from refimpl.contract import replay; state = replay({target}{flag})"


def _contract_settings(chosen: Settings) -> Settings:
    """`chosen` (the active profile by default), adjusted so that the verdict does not
    depend on how it was run: one violation reported (the one Hypothesis shrinks
    first), no `explain` phase (it costs more than search and shrinking together),
    and nothing that calls a slow store a failure (no deadline, no `too_slow`
    health check), since a slow store is not an ownership bug. No database: the one a
    run keeps is keyed to its store and given to each search (see `_verdict`); under
    Hypothesis's own key, which every store shares, one store's failures would replay
    on another."""
    phases = tuple(phase for phase in chosen.phases if phase is not Phase.explain)
    suppressed = (*chosen.suppress_health_check, HealthCheck.too_slow)
    return Settings(
        chosen,
        database=None,
        deadline=None,
        suppress_health_check=suppressed,
        report_multiple_bugs=False,
        phases=phases,
    )


def _first_violation(error: BaseException) -> ContractViolation | None:
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
