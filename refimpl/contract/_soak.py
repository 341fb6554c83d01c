"""A soak: the contract on one store for as long as the user gives it, with a progress line a
minute, until a violation or the time limit.

Hypothesis runs a fixed number of examples; a soak has a time limit instead. So it runs
the contract in rounds, each one sized from the examples per second measured so far to
last about one progress interval, each with a seed of its own (a random profile draws
anew each round), all with the same database: the first round replays what is saved.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from hypothesis import settings as Settings
from hypothesis.database import ExampleDatabase

from refimpl.contract._check import ContractRun, run_contract

__all__ = ["LONGEST_SOAK", "PROGRESS_INTERVAL", "SoakProgress", "parse_duration", "soak"]

PROGRESS_INTERVAL = 60.0
"""Seconds between progress lines (and the length each round is sized to)."""
LONGEST_SOAK = 366 * 24 * 3600.0
"""The longest soak `parse_duration` takes: a year (and no infinity)."""
FIRST_ROUND = 20
"""Examples in the first round, before any rate is known."""
_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s?)?")


def parse_duration(text: str) -> float:
    """Seconds in `text`: `4h`, `90m`, `1h30m`, `45s`, `45` (seconds). Raises `ValueError`
    for anything else, and for no time at all."""
    found = _DURATION.fullmatch(text.strip())
    if not text.strip() or found is None:
        raise ValueError(f"{text!r} is not a duration such as 4h, 90m, 1h30m or 45s")
    hours, minutes, seconds = (float(part) if part else 0.0 for part in found.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if not total > 0:
        raise ValueError(f"{text!r} is no time at all")
    if total > LONGEST_SOAK:
        raise ValueError(f"{text!r} is longer than a year")
    return total


@dataclass(frozen=True, slots=True)
class SoakProgress:
    """Where a soak stands: seconds run of `limit`, examples and steps run, violations
    found (0 or 1: a soak stops at its first)."""

    seconds: float
    limit: float
    examples: int
    steps: int
    violations: int

    def line(self) -> str:
        """`soak 12m00s of 4h00m00s: 41,200 examples, 612,004 steps, 0 violations, 57.2
        examples/s`."""
        rate = self.examples / self.seconds if self.seconds > 0 else 0.0
        return (
            f"soak {_clock(self.seconds)} of {_clock(self.limit)}: {self.examples:,} examples, "
            f"{self.steps:,} steps, {self.violations} violations, {rate:.1f} examples/s"
        )


def _clock(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m{whole % 60:02d}s"


def soak(
    factory: Callable[[], Any],
    *,
    seconds: float,
    settings: Settings,
    api: bool = False,
    timeout: float | None = 5.0,
    names: int = 8,
    database: ExampleDatabase | None = None,
    progress: Callable[[SoakProgress], None] = lambda _: None,
    clock: Callable[[], float] = time.monotonic,
    interval: float = PROGRESS_INTERVAL,
) -> ContractRun:
    """Run the contract on `factory` in rounds until a violation or until `seconds` have
    passed, calling `progress` after each round (about every `interval` seconds), and
    return the whole soak as one run. A round under way when the limit passes is
    finished: a soak overruns its limit by at most about one round."""
    started = clock()
    total = ContractRun(None, 0, 0.0, None, None, 0)
    size = FIRST_ROUND
    while (elapsed := clock() - started) < seconds:
        run = run_contract(
            factory,
            api=api,
            settings=Settings(settings, max_examples=size),
            timeout=timeout,
            names=names,
            database=database,
        )
        total = _added(total, run)
        elapsed = clock() - started
        found = int(run.violation is not None)
        progress(SoakProgress(elapsed, seconds, total.examples, total.steps, found))
        if run.violation is not None:
            break
        rate = run.examples / run.seconds if run.seconds > 0 else float(size)
        size = max(1, int(rate * min(interval, max(0.0, seconds - elapsed))))
    return replace(total, seconds=clock() - started)


def _added(total: ContractRun, run: ContractRun) -> ContractRun:
    """`total` with `run` after it: the first failure counted from the soak's start."""
    first_examples = first_seconds = None
    if run.first_failure_examples is not None:
        first_examples = total.examples + run.first_failure_examples
        first_seconds = total.seconds + (run.first_failure_seconds or 0.0)
    return ContractRun(
        run.violation,
        total.examples + run.examples,
        total.seconds + run.seconds,
        first_examples,
        first_seconds,
        total.steps + run.steps,
    )
