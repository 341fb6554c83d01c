"""A failure found once is never lost: each store's failures are filed under a key of its own in
an example database, replay first at full length, and survive other stores' runs; the `ci`
profile draws the same examples with a database as without; shards split one store's budget
with seeds of their own and one key; a soak runs until its time limit; `contract_machine`
runs under plain pytest."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import warnings
from collections.abc import Iterable
from pathlib import Path

import pytest
from hypothesis import Phase, given
from hypothesis import settings as Settings
from hypothesis import strategies as st
from hypothesis.database import (
    DirectoryBasedExampleDatabase,
    ExampleDatabase,
    InMemoryExampleDatabase,
    MultiplexedDatabase,
    ReadOnlyDatabase,
)

from broken_variant import deep
from refimpl import ContextStore
from refimpl.contract import (
    DatabaseUnavailable,
    NoDatabaseKey,
    contract_machine,
    register_profiles,
    resolve_factory,
    run_contract,
)
from refimpl.contract._database import StoreKeyed, open_database, open_databases, store_key
from refimpl.contract._soak import SoakProgress, parse_duration, soak
from tests.test_readme import readme_section

pytest_plugins = ["pytester"]

EAGER = "broken_variant.deep:make_eager"
"""A store whose every removal clears its table: `survival`, found within a few examples."""
EAGER_KEY = store_key(EAGER, "store", 8)
THIRD_KEY = store_key("broken_variant.deep:make_third", "store", 8)


def profile(name: str, **changes: object) -> Settings:
    """The contract's profile `name`, with `changes`."""
    register_profiles()
    return Settings(Settings.get_profile(name), **changes)  # type: ignore[arg-type]


SHORT_CI = profile("ci", max_examples=60)
"""`ci` with a budget that finds the eager store's bug and costs a few seconds."""


def saved(database: ExampleDatabase, key: bytes) -> set[bytes]:
    """What `database` holds under `key`."""
    return set(database.fetch(key))


def clean_environment(storage: Path) -> dict[str, str]:
    """This environment, without a profile or an import path chosen for the child, and with
    Hypothesis's own files kept in `storage`."""
    hidden = {"HYPOTHESIS_PROFILE", "PYTHONPATH"}
    kept = {key: value for key, value in os.environ.items() if key not in hidden}
    return {**kept, "HYPOTHESIS_STORAGE_DIRECTORY": str(storage)}


# -- keys ---------------------------------------------------------------------------------


def test_a_stores_key_names_its_spec_its_mode_and_its_names() -> None:
    keys = {
        store_key("pkg.mod:make", "store", 8),
        store_key("pkg.mod:make", "api", 8),
        store_key("pkg.mod:make", "store", 9),
        store_key("pkg.mod:other", "store", 8),
    }
    assert len(keys) == 4
    assert store_key("pkg.mod:make", "store", 8) == b"ownership-contract:pkg.mod:make store names=8"


HYPOTHESIS_KEY = b"\x00digest of the one machine class\x2e"
"""A key as Hypothesis derives it: the same for every store (a digest may hold a dot)."""
SUB_KEYS = (b"", b".secondary", b".pareto")


@pytest.mark.slow
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["save", "delete", "move"]),
            st.integers(0, 1),
            st.sampled_from(SUB_KEYS),
            st.sampled_from(SUB_KEYS),
            st.binary(max_size=3),
        ),
        max_size=40,
    )
)
def test_two_stores_on_one_database_never_see_or_touch_each_others_entries(
    operations: list[tuple[str, int, bytes, bytes, bytes]],
) -> None:
    """Whatever Hypothesis does through one store's view (under the key it shares with every
    other store), the other store's entries stay as they were, and each view holds exactly
    what was done through it."""
    shared = InMemoryExampleDatabase()
    views = [StoreKeyed(shared, b"store one"), StoreKeyed(shared, b"store two")]
    model: list[dict[bytes, set[bytes]]] = [{end: set() for end in SUB_KEYS} for _ in views]
    for operation, which, end, other_end, value in operations:
        view, held = views[which], model[which]
        if operation == "save":
            view.save(HYPOTHESIS_KEY + end, value)
            held[end].add(value)
        elif operation == "delete":
            view.delete(HYPOTHESIS_KEY + end, value)
            held[end].discard(value)
        else:
            view.move(HYPOTHESIS_KEY + end, HYPOTHESIS_KEY + other_end, value)
            held[end].discard(value)
            held[other_end].add(value)
    for view, held in zip(views, model, strict=True):
        for end in SUB_KEYS:
            assert saved(view, HYPOTHESIS_KEY + end) == held[end]
            assert saved(shared, view.key + end) == held[end]
    assert not saved(shared, HYPOTHESIS_KEY), "nothing is filed under the shared key"


def test_database_values_name_what_they_open(tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    folder = open_database(str(tmp_path / "db"))
    assert isinstance(folder, DirectoryBasedExampleDatabase)
    read_only = open_database(f"ro:{tmp_path / 'db'}")
    assert isinstance(read_only, ReadOnlyDatabase)
    github = open_database("github:owner/repo")
    assert isinstance(github, ReadOnlyDatabase), "the GitHub-artifact database is read-only"
    both = open_databases([str(tmp_path / "a"), f"ro:{tmp_path / 'db'}"])
    assert isinstance(both, MultiplexedDatabase)
    assert open_databases([]) is None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "needs a folder"),
        ("ro:", "needs a folder"),
        ("github:owner", "is not of the form github:owner/repo"),
        ("github:own er/repo", "is not of the form github:owner/repo"),
        ("a-file", "exists and is not a folder"),
    ],
)
def test_a_database_value_that_cannot_be_used_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str, problem: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("someone else's file\n")
    with pytest.raises(ValueError, match=re.escape(problem)):
        open_database(value)
    assert (tmp_path / "a-file").read_text() == "someone else's file\n"


class FailingDatabase(InMemoryExampleDatabase):
    """A database whose server went away after `fetch` worked `fetches` times."""

    def __init__(self, fetches: int) -> None:
        super().__init__()
        self.fetches = fetches

    def fetch(self, key: bytes) -> Iterable[bytes]:
        if self.fetches <= 0:
            raise ConnectionError("Error 111 connecting to localhost:6399. Connection refused.")
        self.fetches -= 1
        yield from super().fetch(key)

    def save(self, key: bytes, value: bytes) -> None:
        raise ConnectionError("Error 111 connecting to localhost:6399. Connection refused.")


@pytest.mark.slow
@pytest.mark.parametrize("fetches", [0, 1])
def test_a_database_that_fails_mid_run_costs_the_memory_never_the_verdict(fetches: int) -> None:
    with pytest.warns(DatabaseUnavailable, match="Connection refused.*goes on without it"):
        run = run_contract(deep.make_eager, settings=SHORT_CI, database=FailingDatabase(fetches))
    assert run.violation is not None
    assert run.violation.property == "survival"


def test_a_read_only_folder_that_is_not_there_is_a_typo_not_an_empty_memory(
    tmp_path: Path,
) -> None:
    with pytest.raises(ValueError, match="no folder"):
        open_database(f"ro:{tmp_path / 'contract-bd'}")
    assert not (tmp_path / "contract-bd").exists()


# -- replay ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_failure_found_once_replays_first_at_full_length(tmp_path: Path) -> None:
    """The saved program is the unshrunk one a search without shrinking found (well over five
    steps): a later run, whose first pass takes at most five steps, still replays it whole,
    first, and tells the same story."""
    database = DirectoryBasedExampleDatabase(tmp_path / "db")
    first = run_contract(
        deep.make_third, settings=profile("ci", phases=[Phase.generate]), database=database
    )
    assert first.violation is not None
    assert len(first.violation.steps) > 6, "a long program, as the test needs"
    assert saved(database, THIRD_KEY), "the verdict's failure is saved under the store's key"
    later = run_contract(deep.make_third, settings=profile("dev"), database=database)
    assert later.violation is not None
    assert later.first_failure_examples is not None
    assert later.first_failure_examples <= 3
    assert later.examples <= 3
    assert later.violation.property == first.violation.property
    assert later.violation.steps[1:] == first.violation.steps[1:]


@pytest.mark.slow
def test_another_stores_run_keeps_the_failures_and_a_fixed_store_clears_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = DirectoryBasedExampleDatabase(tmp_path / "db")
    found = run_contract(deep.make_eager, settings=SHORT_CI, database=database)
    assert found.violation is not None
    kept = saved(database, EAGER_KEY)
    assert kept
    other = run_contract(ContextStore, settings=profile("ci", max_examples=30), database=database)
    assert other.violation is None
    assert saved(database, EAGER_KEY) == kept, "a correct store's run deleted nothing"
    replayed = run_contract(deep.make_eager, settings=profile("dev"), database=database)
    assert replayed.violation is not None
    assert replayed.first_failure_examples == 1, "the saved failure replays first"
    assert replayed.examples <= 6  # its replay, the report's rerun, the narrowing replays
    # The bug fixed (the worker is forked from this process, so it sees the patch): the
    # saved failure passes, and its run deletes it.
    monkeypatch.setattr(deep.EveryNthRemovalClears, "__delitem__", dict.__delitem__)
    fixed = run_contract(
        deep.make_eager, settings=profile("ci", max_examples=30), database=database
    )
    assert fixed.violation is None
    assert not saved(database, EAGER_KEY)


def test_what_is_saved_fails_a_fresh_run_even_when_the_search_met_it_after_earlier_examples(
    tmp_path: Path,
) -> None:
    """A store whose instances share a class attribute fails in the search because of what
    earlier examples left there (the worker tells a story of its own): the program that
    failed does not fail alone, so it is not saved, and nothing saved misleads a later run
    into a search that finds no replay."""
    factory = resolve_factory("broken_variant.mutants:SharedClassDictStore")
    database = DirectoryBasedExampleDatabase(tmp_path / "db")
    found = run_contract(factory, settings=SHORT_CI, database=database)
    assert found.violation is not None
    key = store_key("broken_variant.mutants:SharedClassDictStore", "store", 8)
    for entry in saved(database, key):
        alone = InMemoryExampleDatabase()
        alone.save(key, entry)
        replayed = run_contract(factory, settings=profile("dev"), database=alone)
        assert replayed.first_failure_examples is not None
        assert replayed.first_failure_examples <= 3, "a saved failure fails a fresh run at once"


@pytest.mark.slow
def test_the_ci_profile_draws_the_same_examples_with_a_database_as_without(
    tmp_path: Path,
) -> None:
    ci = profile("ci", max_examples=60)
    without = run_contract(ContextStore, settings=ci)
    with_one = run_contract(
        ContextStore, settings=ci, database=DirectoryBasedExampleDatabase(tmp_path / "a")
    )
    assert (with_one.examples, with_one.steps) == (without.examples, without.steps)
    broken_without = run_contract(deep.make_eager, settings=SHORT_CI)
    broken_with = run_contract(
        deep.make_eager,
        settings=SHORT_CI,
        database=DirectoryBasedExampleDatabase(tmp_path / "b"),
    )
    assert broken_with.first_failure_examples == broken_without.first_failure_examples
    assert broken_with.violation is not None
    assert broken_without.violation is not None
    assert broken_with.violation.steps == broken_without.violation.steps


@pytest.mark.slow
def test_a_factory_without_an_import_spec_keeps_no_database_and_says_so(tmp_path: Path) -> None:
    folder = tmp_path / "db"
    with pytest.warns(NoDatabaseKey, match="no import path"):
        run = run_contract(
            lambda: deep.EveryNthRemovalClears(1),
            settings=SHORT_CI,
            database=DirectoryBasedExampleDatabase(folder),
        )
    assert run.violation is not None
    assert not folder.exists() or not any(folder.iterdir()), "nothing was saved"
    named = InMemoryExampleDatabase()
    with pytest.warns(NoDatabaseKey):  # a database the profile names is asked for too
        run_contract(
            lambda: deep.EveryNthRemovalClears(1), settings=Settings(SHORT_CI, database=named)
        )
    assert not named.data, "not even under Hypothesis's own key, which every store shares"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no database asked for: nothing to say
        run_contract(lambda: deep.EveryNthRemovalClears(1), settings=SHORT_CI)


# -- shards -----------------------------------------------------------------------------


SECTION = re.compile(r"shard (\d) of (\d), seed (\d+)\): (\d+) examples")


@pytest.mark.slow
def test_shards_split_the_budget_with_their_own_seeds_and_one_key(
    pytester: pytest.Pytester,
) -> None:
    arguments = ("--store", EAGER, "--store-shards", "2", "--store-database", "db", "-rA")
    runs = [pytester.runpytest_subprocess(*arguments, "-p", "no:cacheprovider") for _ in "ab"]
    seeds = []
    for result in runs:
        result.assert_outcomes(failed=2)
        result.stdout.fnmatch_lines([f"*ownership-contract::{EAGER}[[]shard-1-of-2[]]*"])
        found = SECTION.findall(result.stdout.str())
        assert [(shard, count) for shard, count, _, _ in found] == [("1", "2"), ("2", "2")]
        assert "max_examples=250" in result.stdout.str(), "each shard has half of ci's 500"
        seeds.append([seed for _, _, seed, _ in found])
    assert seeds[0][0] != seeds[0][1], "each shard has a seed of its own"
    assert seeds[0] == seeds[1], "derandomized: the same seeds on every run"
    database = DirectoryBasedExampleDatabase(pytester.path / "db")
    assert saved(database, EAGER_KEY), "both shards saved under the store's one key"
    laptop = pytester.runpytest_subprocess(
        "--store", EAGER, "--store-database", "ro:db", "--hypothesis-profile", "dev", "-rA"
    )
    laptop.assert_outcomes(failed=1)
    examples = re.search(r"derandomize=False\): (\d+) examples", laptop.stdout.str())
    assert examples is not None
    assert int(examples.group(1)) <= 3


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        (["--store-shards", "0"], "--store-shards: '0' is not from 1 to 1000"),
        *(  # each a pytest run of its own: `make test` runs the first, `make test-slow` these
            pytest.param(*case, marks=pytest.mark.slow)
            for case in [
                (["--store-shards", "two"], "--store-shards: 'two' is not a whole number or auto"),
                (["--store-soak", "soon"], "is not a duration such as 4h"),
                (["--store-soak", "0s"], "is no time at all"),
                (["--hypothesis-profile", "soak"], "give --store-soak DURATION"),
                (
                    ["--store-soak", "1m", "--hypothesis-profile", "dev"],
                    "--store-soak runs the soak",
                ),
            ]
        ),
    ],
)
def test_a_bad_shard_or_soak_value_is_one_usage_error_line(
    pytester: pytest.Pytester, options: list[str], problem: str
) -> None:
    result = pytester.runpytest_subprocess("--store", "refimpl:ContextStore", *options, "--co")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert problem in result.stderr.str()
    assert "Traceback" not in result.stderr.str()


@pytest.mark.slow
def test_auto_shards_are_one_item_without_xdist(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess(
        "--store", "refimpl:ContextStore", "--store-shards", "auto", "--co", "-q"
    )
    result.stdout.fnmatch_lines(["ownership-contract::refimpl:ContextStore", "1 test collected*"])


# -- soak -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("4h", 14400), ("90m", 5400), ("1h30m", 5400), ("45s", 45), ("45", 45), ("0.5h", 1800)],
)
def test_a_duration_is_hours_minutes_and_seconds(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text", ["", "h", "4 hours", "-5s", "1d", "0", "0h0m", "9000h", "9" * 400 + "s"]
)
def test_anything_else_is_no_duration(text: str) -> None:
    with pytest.raises(ValueError, match=r"duration|no time|longer than a year"):
        parse_duration(text)


@pytest.mark.slow
def test_a_soak_runs_until_its_time_limit_with_progress_on_the_way() -> None:
    seen: list[SoakProgress] = []
    run = soak(
        ContextStore, seconds=2.0, settings=profile("soak"), progress=seen.append, interval=0.5
    )
    assert run.violation is None
    assert len(seen) >= 2, "a progress report after every round"
    assert seen[-1].seconds >= 2.0, "it ran until the limit"
    assert [p.examples for p in seen] == sorted(p.examples for p in seen)
    assert seen[-1].examples == run.examples > 0
    assert run.steps > 0
    assert all(p.violations == 0 for p in seen)
    assert re.fullmatch(
        r"soak 0h00m0\ds of 0h00m02s: [\d,]+ examples, [\d,]+ steps, 0 violations, "
        r"[\d.]+ examples/s",
        seen[-1].line(),
    )


@pytest.mark.slow
def test_a_soak_stops_at_its_first_violation() -> None:
    seen: list[SoakProgress] = []
    run = soak(deep.make_eager, seconds=600.0, settings=profile("soak"), progress=seen.append)
    assert run.violation is not None
    assert run.violation.property in {"survival", "no-stale"}  # the two it breaks
    assert seen[-1].violations == 1
    assert seen[-1].seconds < 600.0


@pytest.mark.slow
def test_store_soak_prints_its_progress_past_the_capture(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--store", "refimpl:ContextStore", "--store-soak", "2s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["*ownership contract: *profile 'soak', soak for 2 s*", "*: soak 0h00m0?s of 0h00m02s: *"]
    )


# -- contract_machine -----------------------------------------------------------------------


MACHINE_TESTS = f"""
from hypothesis import settings
from hypothesis.database import DirectoryBasedExampleDatabase

from refimpl.contract import contract_machine

# The user's own profile, whatever the environment says (a CI service's derandomized
# profile keeps no database).
settings.register_profile(
    "mine", derandomize=False, database=DirectoryBasedExampleDatabase("examples")
)
settings.load_profile("mine")

TestEager = contract_machine({EAGER!r}).TestCase
TestCorrect = contract_machine("refimpl:ContextStore").TestCase
"""


@pytest.mark.slow
def test_contract_machine_runs_under_plain_pytest_keyed_by_its_store(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_machines=MACHINE_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1, passed=1)
    # Its verdict is the first violation Hypothesis shrinks (no `check_store` precedence).
    result.stdout.fnmatch_lines(["*Failure: * violated*"])
    result.stdout.fnmatch_lines(["FAILED test_machines.py::TestEager::runTest*"])
    examples = pytester.path / "examples"
    before = sorted(path.name for path in examples.rglob("*"))
    assert before, "the failure went into the user's own example database"
    again = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-k", "Correct")
    again.assert_outcomes(passed=1, deselected=1)
    assert sorted(path.name for path in examples.rglob("*")) == before


def test_contract_machine_refuses_a_spec_that_names_no_factory() -> None:
    with pytest.raises(AttributeError, match="has no 'NoSuchStore'"):
        contract_machine("refimpl:NoSuchStore")


@pytest.mark.parametrize("timeout", [0, -1.0, float("nan"), float("inf")])
def test_contract_machine_refuses_a_time_limit_that_is_no_limit(timeout: float) -> None:
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        contract_machine("refimpl:ContextStore", timeout=timeout)


# -- the README's flow ---------------------------------------------------------------------


FLOW_STORE = '''
import weakref


def make_store() -> "weakref.WeakValueDictionary[str, object]":
    """A registry that holds its contexts weakly: it loses a context nobody else holds."""
    return weakref.WeakValueDictionary()
'''


def readme_flow() -> list[list[str]]:
    """The commands of the README's CI-to-laptop flow, in order."""
    section = readme_section("From CI to your laptop")
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block is not None, "the section shows its commands in a sh block"
    lines = [line.partition("#")[0].strip() for line in block.group(1).splitlines()]
    return [shlex.split(line) for line in lines if line]


def test_the_readmes_ci_to_laptop_flow_replays_cis_failure_first(tmp_path: Path) -> None:
    """The README's commands, run as written: CI's run saves its failure in a folder; the
    laptop, given that folder, replays it first (read-only), with the same story."""
    commands = readme_flow()
    assert [command[0] for command in commands] == ["pytest", "cp", "pytest"]
    ci, laptop = tmp_path / "ci", tmp_path / "laptop"
    for machine in (ci, laptop):
        (machine / "mypkg").mkdir(parents=True)
        (machine / "mypkg" / "__init__.py").write_text("")
        (machine / "mypkg" / "stores.py").write_text(FLOW_STORE)
    outputs = []
    for command, folder in zip(commands, (ci, ci, laptop), strict=True):
        argv = command  # cp, run in CI's folder: ../laptop/ is the laptop's
        if command[0] == "pytest":
            argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", *command[1:]]
        done = subprocess.run(
            argv, cwd=folder, env=clean_environment(tmp_path / "hypothesis"),
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        outputs.append(done)
    ci_run, copied, laptop_run = outputs
    assert ci_run.returncode == 1, ci_run.stdout + ci_run.stderr
    assert copied.returncode == 0, copied.stderr
    assert laptop_run.returncode == 1, laptop_run.stdout + laptop_run.stderr
    for run in (ci_run, laptop_run):
        assert "ownership contract violated by mypkg.stores:make_store: survival" in run.stdout
    examples = re.search(r"\): (\d+) examples in", laptop_run.stdout)
    assert examples is not None
    assert int(examples.group(1)) <= 3, "replayed first"
    steps = [steps_of(run.stdout) for run in (ci_run, laptop_run)]
    assert steps[0] == steps[1]
    assert steps[0], "a story of at least one step"


def steps_of(output: str) -> list[str]:
    """The printed story's steps after its first line."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if "state = replay(" in line)
    return [line.strip() for line in lines[start + 1 :] if line.startswith("    state.")]


@pytest.mark.slow
def test_the_header_names_the_database_and_says_when_a_seed_turns_it_off(
    pytester: pytest.Pytester,
) -> None:
    arguments = ("--store", "refimpl:ContextStore", "--store-database", "db", "--co")
    result = pytester.runpytest_subprocess(*arguments)
    result.stdout.fnmatch_lines(["ownership contract database: DirectoryBasedExampleDatabase(*)"])
    assert "unused" not in result.stdout.str()
    seeded = pytester.runpytest_subprocess(*arguments, "--hypothesis-seed", "3")
    seeded.stdout.fnmatch_lines(["ownership contract database: *(unused: --hypothesis-seed *"])
