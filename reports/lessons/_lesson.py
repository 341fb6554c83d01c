"""What a lesson is: a pitfall, its broken and fixed halves, run live, and the contract's word."""

from __future__ import annotations

import os
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Literal

from hypothesis import settings

from refimpl.contract import PROPERTIES, run_contract
from reports.lessons._library import Library
from reports.lessons._source import Shown, source_of
from reports.native import toolchain_missing

__all__ = [
    "CONTRACT_EXAMPLES",
    "REQUIRE_NATIVE",
    "ContractCheck",
    "Lesson",
    "LessonRun",
    "Outcome",
    "Verdicts",
    "contract_settings",
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


def contract_settings() -> settings:
    """The settings of a lesson's contract run: `CONTRACT_EXAMPLES` examples, derandomized
    (the same story on every run), no example database."""
    return settings(max_examples=CONTRACT_EXAMPLES, derandomize=True, database=None)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one half of a lesson did when run: whether it showed the failure, and how."""

    failed: bool
    summary: str
    output: str = ""


@dataclass(frozen=True, slots=True)
class ContractCheck:
    """The store or API the contract is run on (the one the broken half runs), and the
    property the lesson claims catches its bug (one of `PROPERTIES`)."""

    factory: Callable[[], Any]
    catches: str
    api: bool = False

    def __post_init__(self) -> None:
        if self.catches not in PROPERTIES:
            raise ValueError(f"catches must be one of {PROPERTIES}, got {self.catches!r}")


Verdicts = MutableMapping[tuple[object, bool], tuple[str | None, tuple[str, ...]]]
"""The contract's verdicts already found in this run, by factory and `api`: two lessons on
one store run the contract once."""


@dataclass(frozen=True, slots=True)
class LessonRun:
    """A lesson after running: both outcomes, the contract's verdict (the property it caught
    the bug with, and its shortest story), and what the few lines without the harness
    printed (`reproduced`, for a lesson that has them)."""

    lesson: Lesson
    broken: Outcome
    fixed: Outcome
    contract_property: str | None
    contract_steps: tuple[str, ...]
    not_run: str | None = None
    reproduced: str = ""

    @property
    def holds(self) -> bool:
        """True when the broken half failed as claimed, the fixed half did not, and the
        contract (for a lesson that runs it) caught the bug with the property claimed."""
        return (
            self.not_run is None
            and self.broken.failed
            and not self.fixed.failed
            and self.contract_agrees
        )

    @property
    def contract_agrees(self) -> bool:
        """Whether the contract caught the bug with the property the lesson claims (True
        for a lesson without a contract run)."""
        check = self.lesson.contract
        return check is None or self.contract_property == check.catches

    @property
    def state(self) -> Literal["shown", "not-shown", "not-run"]:
        """`shown` (it holds), `not-shown` (it ran and did not: a failure) or `not-run`
        (`not_run` says why; neither a pass nor a failure)."""
        if self.not_run is not None:
            return "not-run"
        return "shown" if self.holds else "not-shown"

    @property
    def verdict(self) -> str:
        """What the run showed, in plain words: `shown: the bug showed and the fix held;
        the contract catches it with survival, as the lesson claims`."""
        check = self.lesson.contract
        if self.not_run is not None:
            return f"not run here: {self.not_run}"
        if self.holds:
            said = "shown: the bug showed and the fix held"
            if check is not None:
                said += f"; the contract catches it with {check.catches}, as the lesson claims"
            return said
        wrong = []
        if not self.broken.failed:
            wrong.append("the bug did not show")
        if self.fixed.failed:
            wrong.append("the fix did not hold")
        if check is not None and not self.contract_agrees:
            wrong.append(
                f"the contract found {self.contract_property or 'nothing'}, "
                f"where the lesson claims {check.catches}"
            )
        return "NOT shown: " + "; ".join(wrong)


@dataclass(frozen=True, slots=True)
class Lesson:
    """One memory-ownership pitfall, shown failing and fixed.

    `broken_code` is the code the broken half runs (one store, API or function, shown
    whole); `fixed_code` only what fixes it (an `Excerpt` shows the lines that do, the
    rest is a flag away: `source("fixed", full=True)`). `run_broken` and `run_fixed` run
    the two halves live. A lesson on a third-party `library` also has a `reproduction`:
    the bug in a few lines without the harness, run live, its source shown.
    """

    name: str
    title: str
    pitfall: str
    run_broken: Callable[[], Outcome]
    run_fixed: Callable[[], Outcome]
    broken_code: tuple[Shown, ...]
    fixed_code: tuple[Shown, ...]
    nim: str | None = None
    python: str | None = None
    contract: ContractCheck | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    needs_nim: bool = False
    library: Library | None = None
    reproduction: Callable[[], str] | None = None

    def source(self, which: str, *, full: bool = False) -> str:
        """The code of the broken or fixed half, as it is in this project: what the lesson
        shows, or with `full` every object whole."""
        shown = self.broken_code if which == "broken" else self.fixed_code
        return "\n\n".join(source_of(item, full=full) for item in shown)

    @property
    def reproduction_source(self) -> str | None:
        """The code of `reproduction` as shown (self-contained: it runs as shown, copied
        into a file of its own), or `None` for a lesson without one."""
        return None if self.reproduction is None else source_of(self.reproduction)

    def missing(self) -> str | None:
        """Why this lesson cannot run here (its toolchain or library is missing), in one
        line, or `None` when it can."""
        if self.needs_nim and (missing := native_missing()) is not None:
            return missing
        return self.library.missing() if self.library is not None else None

    def attempt(self, half: Callable[[], Outcome]) -> Outcome:
        """Run `half` (either half of this lesson, or one like it) where the lesson can run;
        where it cannot, an outcome that says so, having run nothing."""
        missing = self.missing()
        return half() if missing is None else Outcome(False, f"not run: {missing}")

    def run(self, *, verdicts: Verdicts | None = None) -> LessonRun:
        """Run both halves, the few lines without the harness and the contract (each where
        the lesson has them), live. `verdicts` holds the contract's verdicts already found
        in this run, and takes this lesson's.

        A lesson that cannot run here (`missing`) is not run (`not_run` says why), unless
        it needs nim and `$REQUIRE_NATIVE` is 1: then it fails, saying why.
        """
        missing = self.missing()
        if missing is not None:
            if self.needs_nim and os.environ.get(REQUIRE_NATIVE) == "1":
                said = f"could not run ({missing}), and {REQUIRE_NATIVE}=1"
                # neither half ran: the bug did not show, and the fix did not hold
                return LessonRun(self, Outcome(False, said), Outcome(True, said), None, ())
            empty = Outcome(False, "not run")
            return LessonRun(self, empty, empty, None, (), not_run=missing)
        prop, steps = self._verdict({} if verdicts is None else verdicts)
        reproduced = self.reproduction() if self.reproduction is not None else ""
        return LessonRun(
            self, self.run_broken(), self.run_fixed(), prop, steps, reproduced=reproduced
        )

    def _verdict(self, verdicts: Verdicts) -> tuple[str | None, tuple[str, ...]]:
        check = self.contract
        if check is None:
            return None, ()
        key = (check.factory, check.api)
        if key not in verdicts:
            found = run_contract(check.factory, api=check.api, settings=contract_settings())
            violation = found.violation
            verdicts[key] = (
                (None, ()) if violation is None else (violation.property, violation.steps)
            )
        return verdicts[key]
