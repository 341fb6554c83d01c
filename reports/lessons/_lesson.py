"""What a lesson is: a pitfall, its broken and fixed halves, run live, and the contract's word."""

from __future__ import annotations

import inspect
import os
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from hypothesis import settings

from refimpl.contract import run_contract
from reports.native import toolchain_missing

__all__ = [
    "REQUIRE_NATIVE",
    "ContractCheck",
    "Lesson",
    "LessonRun",
    "Outcome",
    "native_missing",
]

CONTRACT_EXAMPLES = 100
"""A lesson's contract run needs only to find the bug (found within a few examples)."""

REQUIRE_NATIVE = "REQUIRE_NATIVE"
"""Set to 1 (as CI does), a lesson that cannot run for want of its toolchain fails instead."""


def native_missing() -> str | None:
    """Why a lesson that needs the native toolchain (Nim and gcc) cannot run here, in one
    line, or `None` when it can. `NATIVE_NIM=none` hides the compilers, as on a machine
    without them (see `reports.native._nim`)."""
    return toolchain_missing()


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one half of a lesson did when run: whether it showed the failure, and how."""

    failed: bool
    summary: str
    output: str = ""


@dataclass(frozen=True, slots=True)
class ContractCheck:
    """Which store or API the contract is run on to catch this pitfall, and what it says."""

    factory: Callable[[], Any]
    api: bool = False


@dataclass(frozen=True, slots=True)
class LessonRun:
    """A lesson after running: both outcomes and, if it has one, the contract's verdict."""

    lesson: Lesson
    broken: Outcome
    fixed: Outcome
    contract_property: str | None
    contract_steps: tuple[str, ...]
    not_run: str | None = None

    @property
    def holds(self) -> bool:
        """True when the broken half failed as claimed and the fixed half did not."""
        return self.not_run is None and self.broken.failed and not self.fixed.failed

    @property
    def state(self) -> Literal["shown", "not-shown", "not-run"]:
        """`shown` (it holds), `not-shown` (it ran and did not: a failure) or `not-run`
        (`not_run` says why; neither a pass nor a failure)."""
        if self.not_run is not None:
            return "not-run"
        return "shown" if self.holds else "not-shown"


def _labelled(obj: object) -> str:
    """`obj`'s source, headed by a comment naming it and its file, so that two blocks of
    methods of two classes never read as one."""
    source = textwrap.dedent(inspect.getsource(obj))  # type: ignore[arg-type]
    name = getattr(obj, "__qualname__", type(obj).__name__)
    module = getattr(obj, "__module__", "?")
    return f"# {name}, in {module}\n{source}"


@dataclass(frozen=True, slots=True)
class Lesson:
    """One memory-ownership pitfall, shown failing and fixed.

    `broken_code` and `fixed_code` are real objects of this project (their
    source is shown); `run_broken` and `run_fixed` run the two halves live.
    """

    name: str
    title: str
    pitfall: str
    run_broken: Callable[[], Outcome]
    run_fixed: Callable[[], Outcome]
    broken_code: tuple[object, ...]
    fixed_code: tuple[object, ...]
    nim: str | None = None
    python: str | None = None
    contract: ContractCheck | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    needs_nim: bool = False

    def source(self, which: str) -> str:
        """The source of the broken or fixed code, as it is in this project."""
        objects = self.broken_code if which == "broken" else self.fixed_code
        return "\n\n".join(_labelled(obj) for obj in objects)

    def run(self) -> LessonRun:
        """Run both halves and the contract (if any), live.

        A lesson that needs nim where there is none is not run (`not_run` says why),
        unless `$REQUIRE_NATIVE` is 1: then it fails, saying why.
        """
        prop: str | None = None
        steps: tuple[str, ...] = ()
        missing = native_missing() if self.needs_nim else None
        if missing is not None:
            if os.environ.get(REQUIRE_NATIVE) == "1":
                could_not = Outcome(False, f"could not run ({missing}), and {REQUIRE_NATIVE}=1")
                return LessonRun(self, could_not, could_not, prop, steps)
            empty = Outcome(False, "not run")
            return LessonRun(self, empty, empty, prop, steps, not_run=missing)
        if self.contract is not None:
            budget = settings(max_examples=CONTRACT_EXAMPLES, derandomize=True, database=None)
            verdict = run_contract(
                self.contract.factory, api=self.contract.api, settings=budget
            ).violation
            if verdict is not None:
                prop, steps = verdict.property, verdict.steps
        return LessonRun(self, self.run_broken(), self.run_fixed(), prop, steps)
