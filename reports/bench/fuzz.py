"""`python -m reports.bench.fuzz` (`make bench-fuzz`): what remembering failures and splitting
the search cost, side by side in one run.

1. Replay: a store whose bug takes thousands of examples to find is searched once with a
   fresh example database (profile `deep`), then run again on `dev` with that database,
   where the saved failure replays first. Budget: at most 3 examples, under 2 s.
2. Shards: the correct store under pytest, one contract item against `--store-shards 2
   -n 2`, each pytest a subprocess in a temporary folder with a clean environment.
   Examples per second count each item's own seconds (the sum of the items' examples over
   the slowest item's seconds), not the subprocess's: pytest's start and xdist's workers
   cost the same whatever the budget, and would hide what sharding scales. Budget: at
   least 1.6x, on an idle machine with 2 cores or more.
3. Database overhead: the correct store on `ci` with an empty example database against
   without one, in interleaved rounds; the medians' ratio. Budget: at most 1.1x.

Writes `bench-fuzz.json` into the output folder (atomically: a run cut short leaves the
previous one whole) and prints a table, with each budget met or not. The load average
before and after is recorded: a busy machine makes the shards' ratio meaningless.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

from hypothesis import settings as Settings
from hypothesis.database import DirectoryBasedExampleDatabase

from refimpl.contract import ContractRun, register_profiles, resolve_factory, run_contract
from refimpl.support.cmdline import run_cli
from reports.output import (
    DEFAULT_OUT,
    UnusableFolder,
    machine_fields,
    output_folder,
    provenance_fields,
    write_text_atomically,
)
from reports.output.measured import record_run

__all__ = [
    "FULL",
    "QUICK",
    "SCHEMA_VERSION",
    "MeasurementFailed",
    "Plan",
    "main",
    "measure_overhead",
    "measure_replay",
    "measure_shards",
]

SCHEMA_VERSION: Final = 1
"""The `"schema"` of the bench-fuzz.json written now; bump it whenever its shape changes."""
PROG: Final = "python -m reports.bench.fuzz"
OUT_FILE: Final = "bench-fuzz.json"
CORRECT_STORE: Final = "refimpl:ContextStore"
SHARDS: Final = 2
SHARD_PROFILE: Final = "bench-fuzz"
"""The profile the pytest subprocesses run: `ci` (derandomized: the same examples every
run) with the plan's `max_examples`, registered by a conftest.py in their folder."""

REPLAY_EXAMPLES: Final = 3
REPLAY_SECONDS: Final = 2.0
SHARD_RATIO: Final = 1.6
OVERHEAD_RATIO: Final = 1.1

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Plan:
    """How big each measurement is: `FULL` for `make bench-fuzz`, `QUICK` for a smoke run
    (whose budgets are too small for its numbers to mean anything)."""

    replay_store: str
    """The import spec of the store whose failure is found, saved and replayed."""
    search_profile: str
    """The profile of the run that finds the failure."""
    replay_profile: str
    """The profile of the run that replays it."""
    shard_examples: int
    """`max_examples` of the pytest subprocesses (the shards split it)."""
    overhead_examples: int
    """`max_examples` of the `ci` runs of the database-overhead measurement."""
    rounds: int
    """Rounds of the database-overhead measurement, one run with and one without each."""


FULL: Final = Plan("broken_variant.deep:make_store", "deep", "dev", 2000, 500, 3)
"""`ci`'s 500 examples last about 3 s in one item: pytest's start would weigh as much."""
QUICK: Final = Plan("broken_variant.mutants:CopyingStore", "dev", "dev", 20, 20, 1)
"""A store whose bug shows within a few examples (found and shrunk in about half a second
on `dev`), and budgets of seconds. Not `SharedClassDictStore`: its failures depend on
what earlier examples left in the class, so a saved one alone does not replay."""


class MeasurementFailed(RuntimeError):
    """A measurement could not be taken (a pytest subprocess failed or said nothing
    readable); the message says which and how."""


@dataclass(frozen=True, slots=True)
class Replay:
    """The finding run and the replaying run of one store, with one database."""

    store: str
    search_profile: str
    search_property: str | None
    search_examples: int
    search_seconds: float
    search_first_failure_examples: int | None
    replay_profile: str
    replay_property: str | None
    replay_examples: int
    replay_seconds: float


@dataclass(frozen=True, slots=True)
class PytestRun:
    """One pytest subprocess: what its contract items reported, and its wall time."""

    items: int
    examples: int
    steps: int
    item_seconds: tuple[float, ...]
    wall_seconds: float

    @property
    def examples_per_second(self) -> float:
        """The items' examples over the slowest item's seconds: the items run side by side."""
        return self.examples / max(self.item_seconds)

    @property
    def wall_examples_per_second(self) -> float:
        """The items' examples over the subprocess's whole time, pytest's start included."""
        return self.examples / self.wall_seconds


@dataclass(frozen=True, slots=True)
class Shards:
    """One contract item against `SHARDS` shards on as many xdist workers."""

    store: str
    max_examples: int
    cores: int | None
    one_item: PytestRun
    sharded: PytestRun
    ratio: float
    """The sharded run's examples per second over the one item's, by the items' seconds."""
    wall_ratio: float
    """The same by the subprocesses' wall time: what a user waits, startup included."""


@dataclass(frozen=True, slots=True)
class Overhead:
    """The correct store's `ci` runs with an empty example database and without one."""

    store: str
    max_examples: int
    rounds: int
    seconds_without: tuple[float, ...]
    seconds_with: tuple[float, ...]
    examples_without: tuple[int, ...]
    examples_with: tuple[int, ...]
    holds: bool
    """Whether every run found the correct store correct."""
    ratio: float
    """The median run with the database over the median run without."""


@dataclass(frozen=True, slots=True)
class Budget:
    """One budget of the issue, and whether this run met it."""

    budget: str
    value: float | None
    limit: float
    met: bool


def _profile(name: str, **changes: Any) -> Settings:
    """The contract's profile `name`, with `changes`."""
    register_profiles()
    return Settings(Settings.get_profile(name), **changes)


def _quiet_run(factory: Callable[[], Any], settings: Settings, **kwargs: Any) -> ContractRun:
    """`run_contract`, without Hypothesis's notes on stdout (they would split the table)."""
    with contextlib.redirect_stdout(io.StringIO()):
        return run_contract(factory, settings=settings, **kwargs)


def measure_replay(plan: Plan, progress: Progress) -> Replay:
    """Search `plan.replay_store` on `plan.search_profile` with a fresh directory database
    in a temporary folder (removed after), then run it on `plan.replay_profile` with that
    database."""
    factory = resolve_factory(plan.replay_store)
    with tempfile.TemporaryDirectory(prefix="bench-fuzz-database-") as folder:
        database = DirectoryBasedExampleDatabase(folder)
        progress(
            f"replay: searching {plan.replay_store} on {plan.search_profile!r} with a fresh "
            "database (the full run takes about a minute)"
        )
        search = _quiet_run(factory, _profile(plan.search_profile), database=database)
        progress(
            f"replay: found {_property(search)} in {search.examples} examples, "
            f"{search.seconds:.1f} s; replaying on {plan.replay_profile!r}"
        )
        replay = _quiet_run(factory, _profile(plan.replay_profile), database=database)
    return Replay(
        store=plan.replay_store,
        search_profile=plan.search_profile,
        search_property=_property(search),
        search_examples=search.examples,
        search_seconds=round(search.seconds, 3),
        search_first_failure_examples=search.first_failure_examples,
        replay_profile=plan.replay_profile,
        replay_property=_property(replay),
        replay_examples=replay.examples,
        replay_seconds=round(replay.seconds, 3),
    )


def _property(run: ContractRun) -> str | None:
    return None if run.violation is None else run.violation.property


_CONFTEST = """\
from hypothesis import settings

from refimpl.contract import register_profiles

register_profiles()
settings.register_profile({name!r}, parent=settings.get_profile("ci"), max_examples={examples})
"""
_SECTION = re.compile(
    r"^hypothesis profile '[^']*' \(.*\): (?P<examples>\d+) examples in "
    r"(?P<seconds>\d+(?:\.\d+)?) s \((?P<steps>\d+) steps\)$",
    re.MULTILINE,
)
"""The line each contract item's report section ends with (shown by `-rA`)."""
SUBPROCESS_LIMIT: Final = 1800.0
"""Seconds one pytest subprocess may take before it is stopped and the measurement fails."""
CHECKOUT: Final = Path(__file__).resolve().parents[2]


def _clean_environment() -> dict[str, str]:
    """This process's environment without what would change the subprocesses' run: the
    Hypothesis profile and storage `make` and `run_cli` set, and pytest's own variables
    (a test running this benchmark is itself under pytest, maybe an xdist worker). The
    checkout comes first on `PYTHONPATH`: the contract measured is this one."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("HYPOTHESIS_", "PYTEST_"))
    }
    path = environment.get("PYTHONPATH")
    environment["PYTHONPATH"] = str(CHECKOUT) + (os.pathsep + path if path else "")
    return environment


def _pytest(folder: Path, extra: Sequence[str], items: int) -> PytestRun:
    """Run the contract on `CORRECT_STORE` under pytest in `folder` (its conftest.py
    registers `SHARD_PROFILE`), with `extra` arguments, and read its `items` items' lines.
    Raises `MeasurementFailed` when it fails or they cannot be read."""
    command = [
        sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--rootdir={folder}",
        f"--confcutdir={folder}", "--store", CORRECT_STORE, "--hypothesis-profile",
        SHARD_PROFILE, "-rA", *extra,
    ]  # fmt: skip
    started = time.perf_counter()
    output, status = _run(command, folder)
    wall = time.perf_counter() - started
    found = list(_SECTION.finditer(output))
    if status != 0 or len(found) != items:
        tail = "\n".join(output.splitlines()[-20:])
        raise MeasurementFailed(
            f"`pytest {' '.join(command[3:])}` exited with status {status} and reported "
            f"{len(found)} of {items} contract items; its last lines:\n{tail}"
        )
    return PytestRun(
        items=items,
        examples=sum(int(match["examples"]) for match in found),
        steps=sum(int(match["steps"]) for match in found),
        item_seconds=tuple(float(match["seconds"]) for match in found),
        wall_seconds=round(wall, 3),
    )


def _run(command: Sequence[str], folder: Path) -> tuple[str, int | None]:
    """Run `command` in `folder` with a clean environment; its output (stdout and stderr)
    and exit status, `None` when it outlasted `SUBPROCESS_LIMIT`. It runs in a session of
    its own (Ctrl-C reaches this process alone), whose process group is killed when it
    ends or this is interrupted: pytest's xdist workers and the contract's workers go with
    it."""
    with subprocess.Popen(
        command, cwd=folder, env=_clean_environment(), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    ) as child:  # fmt: skip
        try:
            output, _ = child.communicate(timeout=SUBPROCESS_LIMIT)
            status: int | None = child.returncode
        except subprocess.TimeoutExpired:
            output, status = "", None
        finally:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    return output, status


def measure_shards(plan: Plan, progress: Progress) -> Shards:
    """Run the contract on the correct store as one pytest item, then as `SHARDS` shards
    on as many xdist workers, each with `plan.shard_examples` examples in all, in a
    temporary folder (removed after)."""
    with tempfile.TemporaryDirectory(prefix="bench-fuzz-pytest-") as name:
        folder = Path(name)
        (folder / "conftest.py").write_text(
            _CONFTEST.format(name=SHARD_PROFILE, examples=plan.shard_examples)
        )
        progress(f"shards: {CORRECT_STORE}, {plan.shard_examples} examples, one pytest item")
        one = _pytest(folder, [], 1)
        progress(
            f"shards: one item, {one.examples} examples in {max(one.item_seconds)} s; "
            f"now {SHARDS} shards on {SHARDS} xdist workers"
        )
        sharded = _pytest(folder, [f"--store-shards={SHARDS}", f"-n={SHARDS}"], SHARDS)
    return Shards(
        store=CORRECT_STORE,
        max_examples=plan.shard_examples,
        cores=os.cpu_count(),
        one_item=one,
        sharded=sharded,
        ratio=round(sharded.examples_per_second / one.examples_per_second, 3),
        wall_ratio=round(sharded.wall_examples_per_second / one.wall_examples_per_second, 3),
    )


def measure_overhead(plan: Plan, progress: Progress) -> Overhead:
    """Run the contract on the correct store on `ci` (`plan.overhead_examples` examples)
    `plan.rounds` times without a database and as many with an empty directory database
    (a new one each time, in a temporary folder removed after), alternating, the first
    of each round alternating too. The times are what each `run_contract` call took."""
    factory = resolve_factory(CORRECT_STORE)
    settings = _profile("ci", max_examples=plan.overhead_examples)
    runs: dict[bool, list[tuple[float, ContractRun]]] = {False: [], True: []}
    for round_ in range(plan.rounds):
        # Alternating which goes first: a machine that gets busier or quieter as the
        # rounds go would otherwise favour one side.
        for with_database in (False, True) if round_ % 2 == 0 else (True, False):
            side = "with" if with_database else "without"
            progress(f"database overhead: round {round_ + 1} of {plan.rounds}, {side} a database")
            with _empty_database(with_database) as database:
                started = time.perf_counter()
                run = run_contract(factory, settings=settings, database=database)
                runs[with_database].append((time.perf_counter() - started, run))
    without = tuple(round(seconds, 3) for seconds, _ in runs[False])
    with_ = tuple(round(seconds, 3) for seconds, _ in runs[True])
    return Overhead(
        store=CORRECT_STORE,
        max_examples=plan.overhead_examples,
        rounds=plan.rounds,
        seconds_without=without,
        seconds_with=with_,
        examples_without=tuple(run.examples for _, run in runs[False]),
        examples_with=tuple(run.examples for _, run in runs[True]),
        holds=all(run.violation is None for side in runs.values() for _, run in side),
        ratio=round(statistics.median(with_) / statistics.median(without), 3),
    )


@contextlib.contextmanager
def _empty_database(wanted: bool) -> Iterator[DirectoryBasedExampleDatabase | None]:
    """A new directory database in a temporary folder (removed after), or `None`."""
    if not wanted:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="bench-fuzz-empty-") as folder:
        yield DirectoryBasedExampleDatabase(folder)


def budgets(replay: Replay, shards: Shards, overhead: Overhead) -> list[Budget]:
    """The issue's budgets, each judged on this run's numbers. The replay's count only
    when the search found a failure and the replay told the same property."""
    remembered = replay.search_property is not None and (
        replay.replay_property == replay.search_property
    )
    return [
        Budget(
            f"a saved failure replays in at most {REPLAY_EXAMPLES} examples",
            replay.replay_examples,
            REPLAY_EXAMPLES,
            remembered and replay.replay_examples <= REPLAY_EXAMPLES,
        ),
        Budget(
            f"a saved failure replays in under {REPLAY_SECONDS:g} s",
            replay.replay_seconds,
            REPLAY_SECONDS,
            remembered and replay.replay_seconds < REPLAY_SECONDS,
        ),
        Budget(
            f"{SHARDS} shards on {SHARDS} cores: at least {SHARD_RATIO}x the examples per "
            "second of one item",
            shards.ratio,
            SHARD_RATIO,
            shards.ratio >= SHARD_RATIO,
        ),
        Budget(
            f"an empty database costs a correct store at most {OVERHEAD_RATIO}x",
            overhead.ratio,
            OVERHEAD_RATIO,
            overhead.holds and overhead.ratio <= OVERHEAD_RATIO,
        ),
    ]


def table(result: dict[str, Any]) -> str:
    """The results as a plain-text table for the terminal."""
    replay, shards, overhead = result["replay"], result["shards"], result["database_overhead"]
    first = replay["search_first_failure_examples"]
    lines = [
        f"replay of a saved failure ({replay['store']}, one directory database)",
        f"  search  {replay['search_profile']:5} {replay['search_property'] or 'NOT FOUND':10}"
        f" {replay['search_examples']:6} examples {replay['search_seconds']:8.2f} s"
        f"  (first seen at example {first})",
        f"  replay  {replay['replay_profile']:5} {replay['replay_property'] or 'NOT FOUND':10}"
        f" {replay['replay_examples']:6} examples {replay['replay_seconds']:8.2f} s",
        f"shards ({shards['store']}, ci with max_examples={shards['max_examples']}, "
        f"{shards['cores']} cores)",
    ]
    for label, run in (("1 item", shards["one_item"]), (f"{SHARDS} shards", shards["sharded"])):
        seconds = max(run["item_seconds"])
        lines.append(
            f"  {label:9} {run['examples']:6} examples  {seconds:6.1f} s in the slowest item"
            f" ({run['examples'] / seconds:6.1f}/s)  {run['wall_seconds']:6.1f} s wall"
            f" ({run['examples'] / run['wall_seconds']:6.1f}/s)"
        )
    lines.append(
        f"  ratio {shards['ratio']:.2f}x by the items' seconds, {shards['wall_ratio']:.2f}x "
        "by wall time (pytest's start included)"
    )
    lines.append(
        f"database overhead ({overhead['store']}, ci with max_examples="
        f"{overhead['max_examples']}, {overhead['rounds']} rounds, medians)"
    )
    for side in ("without", "with"):
        seconds = overhead[f"seconds_{side}"]
        lines.append(
            f"  {side:7} {statistics.median(seconds):6.2f} s  (runs: "
            f"{', '.join(f'{s:.2f}' for s in seconds)}; examples: "
            f"{', '.join(str(n) for n in overhead[f'examples_{side}'])})"
        )
    lines.append(f"  ratio {overhead['ratio']:.2f}x, the store held: {overhead['holds']}")
    load = result["load_average"]
    lines.append(
        f"load average (1, 5, 15 min): before {_loads(load['before'])}, "
        f"after {_loads(load['after'])}"
    )
    lines.append(
        "budgets" + (" (a --quick run: its numbers mean nothing)" if result["quick"] else "")
    )
    for budget in result["budgets"]:
        mark = "met    " if budget["met"] else "NOT MET"
        lines.append(f"  {mark} {budget['budget']}: {budget['value']} (limit {budget['limit']})")
    return "\n".join(lines)


def _loads(loads: Sequence[float] | None) -> str:
    return "unknown" if loads is None else ", ".join(f"{load:.2f}" for load in loads)


def _load_average() -> list[float] | None:
    try:
        return [round(load, 2) for load in os.getloadavg()]
    except OSError:  # not available on this system
        return None


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, write bench-fuzz.json, print the table; exit 0 when every budget is met,
    1 when one is not or a measurement failed (bench-fuzz.json is then left as it was),
    2 (one line, before anything runs) for a bad argument."""
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument(
        "--out",
        default=str(DEFAULT_OUT),
        metavar="DIR",
        help=f"the folder to write {OUT_FILE} into; made if missing, but not its parent "
        "(default: reports/out)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run of every measurement on tiny budgets (seconds, not minutes); "
        "its numbers mean nothing",
    )
    args = parser.parse_args(argv)
    try:
        out = output_folder(args.out, [OUT_FILE])
    except UnusableFolder as refused:
        parser.error(f"argument --out: {refused}")
    plan = QUICK if args.quick else FULL

    def progress(line: str) -> None:
        print(f"bench-fuzz: {line}", file=sys.stderr, flush=True)

    before = _load_average()
    try:
        replay = measure_replay(plan, progress)
        shards = measure_shards(plan, progress)
        overhead = measure_overhead(plan, progress)
    except MeasurementFailed as failed:
        print(f"{PROG}: {failed}\n{OUT_FILE} was left as it was", file=sys.stderr)
        return 1
    result: dict[str, Any] = {
        **provenance_fields(SCHEMA_VERSION),
        "machine": machine_fields(cores=os.cpu_count()),
        "load_average": {"before": before, "after": _load_average()},
        "command": f"{PROG} --quick" if args.quick else "make bench-fuzz",
        "quick": args.quick,
        "plan": asdict(plan),
        "replay": asdict(replay),
        "shards": asdict(shards),
        "database_overhead": asdict(overhead),
        "budgets": [asdict(budget) for budget in budgets(replay, shards, overhead)],
    }
    write_text_atomically(out / OUT_FILE, json.dumps(result, indent=2) + "\n")
    print(table(result))
    print(f"bench-fuzz: wrote {out / OUT_FILE}", file=sys.stderr)
    record_run(
        "bench-fuzz",
        f"```text\n{table(result)}\n```",
        command="make bench-fuzz",
        out=out,
        full=not args.quick,
    )
    return 0 if all(budget["met"] for budget in result["budgets"]) else 1


if __name__ == "__main__":
    sys.exit(run_cli(main, PROG))
