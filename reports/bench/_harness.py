"""What the harness costs: the contract on every mutant (how soon each is caught) and on
the fixed store, on one example budget."""

from __future__ import annotations

import io
import statistics
from collections.abc import Callable
from contextlib import redirect_stdout
from typing import Any

from hypothesis import settings

from broken_variant.mutants import MUTANTS
from refimpl import ContextStore
from refimpl.contract import run_contract

__all__: list[str] = []


def _harness(examples: int, progress: Callable[[str], None]) -> dict[str, Any]:
    budget = settings(max_examples=examples, derandomize=True, database=None)
    mutants: list[dict[str, Any]] = []
    for mutant in MUTANTS:
        progress(f"harness: contract on mutant {mutant.name}")
        with redirect_stdout(io.StringIO()):  # Hypothesis's notes on flaky stores
            run = run_contract(
                mutant.factory,
                api=mutant.kind == "api",
                settings=budget,
                timeout=mutant.timeout,
            )
        mutants.append(
            {
                "mutant": mutant.name,
                "caught_by": run.violation.property if run.violation else None,
                "first_detection_examples": run.first_failure_examples,
                "first_detection_seconds": run.first_failure_seconds,
                "seconds_with_shrinking": round(run.seconds, 3),
            }
        )
    progress(f"harness: contract on the fixed ContextStore, {examples} examples")
    fixed = run_contract(ContextStore, settings=budget)
    detections = [
        m["first_detection_seconds"] for m in mutants if m["first_detection_seconds"] is not None
    ]
    return {
        "mutants": mutants,
        "examples_budget": examples,
        "median_first_detection_seconds": round(statistics.median(detections), 3)
        if detections
        else None,
        "fixed_store_seconds": round(fixed.seconds, 2),
        "fixed_store_examples": fixed.examples,
        "fixed_store_holds": fixed.violation is None,
    }
