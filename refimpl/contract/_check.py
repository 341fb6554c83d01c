"""The contract's entry points: run it against a store or an API factory, as a check that
raises or as a run that reports its costs."""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, Phase
from hypothesis import settings as Settings
from hypothesis.database import ExampleDatabase

from refimpl.contract._database import StoreKeyed, store_key
from refimpl.contract._factories import factory_spec, resolve_factory, setup_line
from refimpl.contract._isolated import IsolatedMachine
from refimpl.contract._machine import ContractMachine
from refimpl.contract._messages import Check, Refused, Usable
from refimpl.contract._names import NAMES_DEFAULT, name_list
from refimpl.contract._profiles import without_default_database
from refimpl.contract._search import (
    isolated_passes,
    verdict,
)
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
    "replay",
    "run_contract",
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
    the search shows, whichever it met first (see `verdict`).
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

    `database` (a Hypothesis example database, not a path: `TypeError` says how to make
    one; `None`: the one `settings` names, if any other than Hypothesis's default)
    remembers the store's failures under a key of its own (its factory's import spec,
    store or API, `names`): they replay first, at full length, in every later run with
    that database, and no other store's run deletes them (see `verdict`). A factory with
    no import spec (a lambda, a closure) gets none: a `NoDatabaseKey` warning says so.

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
    if settings is not None and not isinstance(settings, Settings):
        raise TypeError(f"settings must be hypothesis.settings(...) or None, got {settings!r}")
    if database is not None and not isinstance(database, ExampleDatabase):
        raise TypeError(
            "database must be a Hypothesis ExampleDatabase or None (for a folder: "
            f"hypothesis.database.DirectoryBasedExampleDatabase(path)), got {database!r}"
        )
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
        violation = verdict(machine, (_contract_settings(chosen),), keyed)
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
        violation = verdict(machine, passes, database)
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


def bare_cost(settings: Settings | None = None) -> tuple[int, float]:
    """Examples and seconds of Hypothesis alone drawing the contract's steps, with no store
    and no check: the floor the benchmark compares the contract with."""
    started = time.perf_counter()
    machine = IsolatedMachine.bind(None, setup_line="", clock=time.perf_counter)
    passes = isolated_passes(_contract_settings(Settings() if settings is None else settings))
    verdict(machine, passes)
    return machine.examples, time.perf_counter() - started


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
    first (see `verdict`) says so in its first line, so that its story replays to it.

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


def _contract_settings(chosen: Settings) -> Settings:
    """`chosen` (the active profile by default), adjusted so that the verdict does not
    depend on how it was run: one violation reported (the one Hypothesis shrinks
    first), no `explain` phase (it costs more than search and shrinking together),
    and nothing that calls a slow store a failure (no deadline, no `too_slow`
    health check), since a slow store is not an ownership bug. No database: the one a
    run keeps is keyed to its store and given to each search (see `verdict`); under
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
