"""The ownership contract as a Hypothesis state machine, run in this process against a store."""

from __future__ import annotations

import gc
import time
import weakref
from collections.abc import Callable
from contextlib import suppress
from typing import Any, ClassVar, NoReturn

from hypothesis import reject
from hypothesis.control import currently_in_test_context

from refimpl._context import PluginContext, PluginContextBase
from refimpl.contract._effects import RuleEffects, Wrong
from refimpl.contract._expected import Expected
from refimpl.contract._names import NAMES
from refimpl.contract._story import step_line
from refimpl.contract._violation import FAILURES, Unjudged
from refimpl.support.cmdline import raise_if_interrupted

__all__ = ["ContractMachine"]


class ContractMachine(RuleEffects):
    """Drives one store, mapping or API and checks the ownership properties after every step.

    Build a machine for a target with `bind`; `check_store` and `check_api`
    run it. Each rule records itself as a line of Python in `steps`, and each
    broken property raises its own `PropertyFailure` carrying those steps.
    The machine holds contexts only where the rules say so (`held`); what it
    knows of them (`expected`) is weakrefs and descriptions, so it never keeps
    alive what it tests. The rules are `ContractRules`'; each step's effect is
    `RuleEffects`', its judgement `PropertyChecks`'.
    The typed rules (`set_context`, `get_default`, `fetch`, `fetch_wrong`) run
    on an API only: a bare store has no typed calls, so `checked-downcast` is
    not judged for it.
    """

    refreeze: ClassVar[bool] = False
    examples: ClassVar[int] = 0
    steps_run: ClassVar[int] = 0
    """Steps run in all examples (the soak's progress line counts them)."""
    first_failure: ClassVar[tuple[int, float] | None] = None
    failed_at: ClassVar[int | None] = None
    """`examples` when the current search's first judged violation was seen."""
    setup_line: ClassVar[str] = "state = ContractMachine()"

    @classmethod
    def bind(
        cls,
        factory: Callable[[], Any],
        *,
        mode: str,
        setup_line: str,
        refreeze: bool = False,
        names: tuple[str, ...] = NAMES,
    ) -> type[ContractMachine]:
        """Return a machine class that tests what `factory()` builds, as a store (or a
        mutable mapping) or an API, under `names`.

        With `refreeze`, each example starts with `gc.freeze()`, so its collections
        walk only what the example created, not Hypothesis's growing history (the
        caller must `gc.unfreeze()` afterwards: `check_store` does).
        """
        if mode not in ("store", "api"):
            raise ValueError(f"mode must be 'store' or 'api', got {mode!r}")
        attributes = {
            "factory": staticmethod(factory),
            "mode": mode,
            "setup_line": setup_line,
            "refreeze": refreeze,
            "names": names,
        }
        return type(f"{mode.title()}Contract", (cls,), attributes)

    def __init__(self) -> None:
        super().__init__()
        type(self).examples += 1
        if self.refreeze:  # free the previous example's cycles, then hide the survivors
            gc.collect()
            gc.freeze()
        self._pulse()  # the harness's own work above is no call into the code under test
        self.overreleased: list[str] = []
        self.data_refs: list[weakref.ref[object]] = []  # kept, so their callbacks can fire
        self.model: dict[str, str] = {}
        self.expected: dict[str, Expected] = {}
        self.held: list[PluginContextBase] = []
        self.running: set[int] = set()  # ids of held contexts of running plugins: never dropped
        self.retired: list[tuple[weakref.ref[PluginContextBase], str]] = []
        self.noise: list[object] = []
        self.built_at: set[int] = set()
        self.occupied: list[PluginContext[Any]] = []
        self.steps: list[str] = [self.setup_line]
        self.deaths: dict[int, str] = {}
        self.copied: set[int] = set()  # dead contexts (by weakref id) answered by a copy
        self.touched: dict[str, None] = dict.fromkeys(self.picked)
        self.ever_stored: set[str] = set()
        self._pulse()
        self._open()
        self._check_fresh(self.target, shared_story=True)

    def _act(self, rule_name: str, **arguments: Any) -> None:
        """Run the step against the target, then judge it: the effect is the method named
        `_do_` and the rule's name, whose answer, if any, is what its own call did wrong."""
        self._record(rule_name, **arguments)
        wrong: Wrong | None = getattr(self, f"_do_{rule_name}")(**arguments)
        if wrong is None:
            self._check()
        else:
            self._check(downcast=wrong.downcast, stale=wrong.stale)
        assert self.model.keys() == self.expected.keys(), (
            f"after {rule_name}, the rules' model holds {sorted(self.model)} but the "
            f"contract's holds {sorted(self.expected)}"
        )

    def _record(self, rule_name: str, **arguments: object) -> None:
        raise_if_interrupted()  # a Ctrl-C or SIGTERM a weakref callback swallowed
        type(self).steps_run += 1
        self.steps.append(step_line(rule_name, arguments, self.terms))

    def _fail(self, prop: str, detail: str, steps: tuple[str, ...] | None = None) -> NoReturn:
        cls = type(self)
        if prop not in cls.judged:  # this search looks for earlier properties only
            if not cls.in_worker and currently_in_test_context():
                reject()  # Hypothesis runs this machine: the example does not count
            raise Unjudged(prop)  # a worker runs it: it tells its supervisor the example passed
        if cls.first_failure is None:
            cls.first_failure = (self.examples, time.perf_counter())
        if cls.failed_at is None:
            cls.failed_at = cls.examples
        raise FAILURES[prop](tuple(self.steps) if steps is None else steps, detail)

    def teardown(self) -> None:
        """Release everything the machine holds, and close the store (a `close()` that
        raises is not an ownership verdict)."""
        self.held.clear()
        self.noise.clear()
        self.occupied.clear()
        with suppress(Exception):
            self.opened.close()
