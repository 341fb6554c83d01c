"""Running the contract on one registry and comparing its verdict with the documented one
(`run_one`), and on each in turn (`survey`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from hypothesis import settings as Settings

from refimpl.contract import factory_spec, run_contract
from refimpl.support.cmdline import raise_if_interrupted
from reports.survey._model import SurveyRow
from reports.survey._registries import Registry

__all__ = ["NOT_INSTALLED", "TIMEOUT", "Outcome", "run_one", "survey"]

TIMEOUT = 10.0
"""Seconds one call into a registry may take before the contract calls it hung: the
disk-backed ones commit to SQLite or dbm files on some calls."""

NOT_INSTALLED = "not installed (make survey installs it)"


@dataclass(frozen=True, slots=True)
class Outcome(SurveyRow):
    """What the survey found for one registry: a row of survey.json as the report reads it
    (`SurveyRow`), and the `factory` the contract ran, by import path.

    `status` is `agrees`, `disagrees`, `not-installed` or `error` (the contract could not
    judge it: `note` says why); `found` is the contract's verdict (`holds` or a property),
    `None` when it did not run; `steps` and `detail` are the violation's."""

    factory: str = ""

    @property
    def agrees(self) -> bool:
        return self.status == "agrees"


def _spec(registry: Registry) -> str:
    """The path the contract's worker imports `registry.factory` by: the shortest that
    finds it (`reports.survey:make_dict`, the package re-exporting its factories)."""
    factory = registry.factory
    return factory_spec(factory) or f"{factory.__module__}:{factory.__qualname__}"


def run_one(
    registry: Registry, *, settings: Settings | None = None, timeout: float = TIMEOUT
) -> Outcome:
    """Run the contract on one registry and compare its verdict with the documented one.
    `settings=None` is the active Hypothesis profile, as `run_contract` takes it."""
    base = Outcome(
        name=registry.name,
        library=registry.library,
        version=registry.version(),
        documented=registry.documented,
        citation=registry.citation,
        url=registry.url,
        status="error",
        factory=_spec(registry),
    )
    if base.version is None:
        return replace(base, status="not-installed", note=NOT_INSTALLED)
    started = time.perf_counter()
    try:
        run = run_contract(registry.factory, settings=settings, timeout=timeout)
    except Exception as error:  # refused by the contract, or a harness failure: a row
        first = (str(error).strip().splitlines() or [""])[0]
        return replace(
            base,
            seconds=round(time.perf_counter() - started, 2),
            note=f"{type(error).__name__}: {first}",
        )
    found = "holds" if run.violation is None else run.violation.property
    return replace(
        base,
        status="agrees" if found == registry.documented else "disagrees",
        found=found,
        examples=run.examples,
        seconds=round(run.seconds, 2),
        steps=() if run.violation is None else tuple(run.violation.steps),
        detail="" if run.violation is None else run.violation.detail,
    )


def survey(
    registries: Sequence[Registry],
    *,
    progress: Callable[[str], None] = lambda line: None,
    run: Callable[[Registry], Outcome] | None = None,
) -> list[Outcome]:
    """Run every registry in turn (with `run`, `run_one` by default), saying how each went
    as it ends."""
    run = run or run_one
    outcomes: list[Outcome] = []
    for number, registry in enumerate(registries, 1):
        progress(f"[{number}/{len(registries)}] {registry.name} ... ")
        outcome = run(registry)
        outcomes.append(outcome)
        progress(f"{_verdict(outcome)} ({outcome.seconds:.1f} s)\n")
        raise_if_interrupted()
    return outcomes


def _verdict(outcome: Outcome) -> str:
    if outcome.status == "not-installed":
        return "not installed"
    if outcome.status == "error":
        return "error"
    return f"{outcome.found}" + ("" if outcome.agrees else " (DISAGREES)")
