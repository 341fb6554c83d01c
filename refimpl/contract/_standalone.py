"""The contract as a state-machine class, for users who drive it from their own test modules or
from another engine than `check_store`'s search."""

from __future__ import annotations

import atexit
import time
from typing import Any

from hypothesis import HealthCheck, Phase
from hypothesis import settings as Settings
from hypothesis.stateful import RuleBasedStateMachine

from refimpl.contract._database import store_key
from refimpl.contract._factories import resolve_factory, setup_line
from refimpl.contract._isolated import IsolatedMachine
from refimpl.contract._messages import Check, Refused, Usable
from refimpl.contract._names import NAMES_DEFAULT, name_list
from refimpl.contract._search import ISOLATED_STEPS
from refimpl.contract._supervisor import Worker

__all__ = ["MACHINE_NAME", "contract_machine"]

MACHINE_NAME = "OwnershipContract"
"""The name of the classes `contract_machine` returns (Hypothesis's stories begin with
`state = OwnershipContract()`)."""


def contract_machine(
    spec: str, *, api: bool = False, timeout: float | None = 5.0, names: int = NAMES_DEFAULT
) -> type[RuleBasedStateMachine]:
    """The ownership contract on the factory `spec` names (`package.module:factory`) as a
    `RuleBasedStateMachine` subclass: `TestMyStore = contract_machine("pkg.mod:make").TestCase`
    runs it under plain pytest or unittest, on the active Hypothesis profile.

    Every example runs its program in a supervised worker (started at the first example,
    ended when this process exits), as `check_store` does, and fails with the
    `ContractViolation` it meets; `api=True` judges an API as `check_api` does. Its
    example-database entries are keyed by the store as `check_store`'s are (the factory's
    spec, store or API, `names`): another store's machine never replays or deletes them.
    Its `TestCase.settings` are the active profile's with at most 20 steps per example,
    one failure reported, and no deadline, `too_slow` health check (a slow store is no
    ownership bug) or explain phase (it costs more than the search).

    What `check_store` adds, this class does not: its verdict is the first violation
    Hypothesis shrinks, not the first property in `PROPERTIES` order that a search shows.
    Raises what `resolve_factory` raises for a `spec` that does not name a factory, and
    `ValueError` for a `timeout` that is not a positive number of seconds (`None`: no
    limit); a factory the contract refuses fails the first example with `TypeError`.
    """
    if timeout is not None and not 0 < timeout < float("inf"):
        raise ValueError(f"timeout must be a positive number of seconds or None, got {timeout!r}")
    factory = resolve_factory(spec)
    mode = "api" if api else "store"
    chosen = name_list(names)
    line = setup_line(factory, mode, len(chosen))
    machine: Any = IsolatedMachine.bind(
        None, setup_line=line, clock=time.perf_counter, mode=mode, names=chosen
    )
    machine.__name__ = machine.__qualname__ = MACHINE_NAME
    machine.start = staticmethod(lambda: _started(factory, mode, line, timeout, chosen))
    # Hypothesis adds this to the digest that keys a state machine's database entries.
    machine._hypothesis_internal_add_digest = store_key(spec, mode, len(chosen))
    test_case = machine.TestCase
    test_case.settings = Settings(
        test_case.settings,
        stateful_step_count=ISOLATED_STEPS,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        report_multiple_bugs=False,
        phases=[phase for phase in test_case.settings.phases if phase is not Phase.explain],
    )
    return machine  # type: ignore[no-any-return]


def _started(
    factory: Any, mode: str, line: str, timeout: float | None, names: tuple[str, ...]
) -> tuple[Worker, str]:
    """A worker for `factory`, checked (`TypeError` when refused), ended at exit; and the
    terms the code under test is spoken of in."""
    worker = Worker(factory, mode=mode, setup_line=line, timeout=timeout, names=names)
    atexit.register(worker.close)
    answer = worker.ask(Check())
    if isinstance(answer, Refused):
        worker.close()
        raise TypeError(answer.why)
    assert isinstance(answer, Usable), f"a worker answered {answer!r} to a check"
    return worker, answer.terms
