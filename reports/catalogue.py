"""`python -m reports.catalogue`: run the contract on every mutant, print the table.

For each mutant: the property that caught it (and the one it declares), the
length of the shrunk story, when the first violation was seen (examples and
seconds) and the whole run's seconds, shrinking included; then the contract's
time on the fixed store and API. Exits 1 if any mutant escaped or was caught
by another property than it declares (each one named on stderr), or if the fixed
store or API broke the contract; 0 otherwise.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Sequence
from contextlib import redirect_stdout
from dataclasses import dataclass

from hypothesis import settings

from broken_variant.mutants import MUTANTS, Mutant
from refimpl import ContextStore, PluginAPI
from refimpl.contract import ContractRun, bare_cost, isolated_settings, load_profile, run_contract
from refimpl.support.cmdline import number_at_least, run_cli
from reports.output.measured import record_run

__all__ = ["Row", "main", "run_catalogue"]

PROG = "python -m reports.catalogue"


@dataclass(frozen=True, slots=True)
class Row:
    """One mutant's result."""

    mutant: Mutant
    run: ContractRun

    @property
    def caught_by(self) -> str:
        return self.run.violation.property if self.run.violation else "ESCAPED"

    @property
    def ok(self) -> bool:
        return self.caught_by == self.mutant.catches


def _fixed_api() -> PluginAPI:
    return PluginAPI(ContextStore())


def run_catalogue(
    progress: bool = True, examples: int | None = None
) -> tuple[list[Row], list[tuple[str, ContractRun]]]:
    """Run the contract on every mutant and on the fixed store and API, with the active
    Hypothesis profile's budget, or `examples` examples per run when given."""
    active = settings() if examples is None else settings(settings(), max_examples=examples)
    rows = []
    for number, mutant in enumerate(MUTANTS, 1):
        if progress:
            print(f"[{number}/{len(MUTANTS)}] {mutant.name} ...", file=sys.stderr, flush=True)
        # Derandomized: a mutant with several bugs is named by the same one in every profile.
        budget = settings(active, derandomize=True, database=None)
        with redirect_stdout(io.StringIO()):  # Hypothesis's own notes: the verdict says it all
            run = run_contract(
                mutant.factory,
                api=mutant.kind == "api",
                settings=budget,
                timeout=mutant.timeout,
            )
        rows.append(Row(mutant, run))
    fixed = []
    for label, factory, api in (
        ("ContextStore", ContextStore, False),
        ("PluginAPI", _fixed_api, True),
    ):
        if progress:
            print(f"[fixed] {label} ...", file=sys.stderr, flush=True)
        fixed.append((label, run_contract(factory, api=api, settings=active)))
    return rows, fixed


def markdown(rows: list[Row], fixed: list[tuple[str, ContractRun]]) -> str:
    """The results as Markdown tables."""
    lines = [
        "| mutant | bug | caught by | steps | first seen | total |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        run = row.run
        steps = len(run.violation.rule_steps) if run.violation else "-"
        seen = (
            f"example {run.first_failure_examples}, {run.first_failure_seconds:.2f} s"
            if run.first_failure_seconds is not None
            else "never"
        )
        verdict = row.caught_by if row.ok else f"{row.caught_by} (declares {row.mutant.catches})"
        lines.append(
            f"| `{row.mutant.name}` | {row.mutant.bug} | {verdict} | {steps} | {seen} "
            f"| {run.seconds:.2f} s |"
        )
    lines += ["", "| fixed implementation | examples | verdict | total |", "|---|---|---|---|"]
    for label, run in fixed:
        verdict = "holds every property" if run.violation is None else run.violation.property
        lines.append(f"| `{label}` | {run.examples} | {verdict} | {run.seconds:.2f} s |")
    return "\n".join(lines)


def isolation_cost(examples: int) -> str:
    """What isolating the store costs on the fixed store, per example, side by side: the
    contract in a worker, the contract in this process, and Hypothesis alone drawing the
    same steps (no store, no checks), each derandomized with `examples` examples of the
    isolated run's length."""
    budget = settings(
        isolated_settings(settings()), max_examples=examples, derandomize=True, database=None
    )
    isolated = run_contract(ContextStore, settings=budget)
    in_process = run_contract(ContextStore, settings=budget, isolate=False)
    bare_examples, bare_seconds = bare_cost(budget)
    per = {
        "isolated": isolated.seconds / isolated.examples,
        "in-process": in_process.seconds / in_process.examples,
        "bare Hypothesis": bare_seconds / bare_examples,
    }
    lines = ["| ContextStore, per example | ms | isolated / this |", "|---|---|---|"]
    for label, seconds in per.items():
        lines.append(f"| {label} | {seconds * 1000:.2f} | {per['isolated'] / seconds:.2f}x |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the catalogue table; exit 0 when every mutant is caught by its property and
    the fixed implementation holds them all."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument(
        "--examples",
        type=number_at_least(int, 1),
        default=None,
        help="examples per contract run (default: the Hypothesis profile's; 500 under ci)",
    )
    args = parser.parse_args(argv)
    profile = load_profile()
    active = settings()
    examples = active.max_examples if args.examples is None else args.examples
    print(
        f"hypothesis profile {profile!r}: max_examples={examples}, "
        f"derandomize={active.derandomize}",
        file=sys.stderr,
    )
    rows, fixed = run_catalogue(examples=args.examples)
    tables = f"{markdown(rows, fixed)}\n\n{isolation_cost(examples)}"
    print(tables)
    broken = [row.mutant.name for row in rows if not row.ok]
    failed = [label for label, run in fixed if run.violation is not None]
    for name in broken:
        print(
            f"catalogue: mutant {name!r} was not caught by its declared property", file=sys.stderr
        )
    for label in failed:
        print(f"catalogue: the fixed {label} broke the contract", file=sys.stderr)
    record_run(
        "catalogue",
        tables,
        command="make bench-contract",
        out=None,
        full=args.examples is None and profile == "ci",
    )
    return 1 if broken or failed else 0


if __name__ == "__main__":
    sys.exit(run_cli(main, PROG))
