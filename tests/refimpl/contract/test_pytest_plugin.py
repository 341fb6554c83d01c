"""The pytest plugin: inert without --store; with it, one item that runs the contract."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

import pytest

from refimpl.contract import ContractViolation
from refimpl.contract.pytest_plugin import (
    FAILURE_MESSAGE,
    IMPORT_HINT,
    IMPORT_LIMIT,
    IMPORT_NOTICE,
    REFUSED_MESSAGE,
)

pytest_plugins = ["pytester"]

CONTRACT_SECTION = (
    "hypothesis profile {profile!r} (max_examples={max_examples}, derandomize={derandomize}): "
    "* examples in * s (* steps)"
)
"""The line of the item's `Captured ownership contract call` section, as an fnmatch pattern."""


def clean_environment() -> dict[str, str]:
    """This process's environment without what would choose a profile, a storage directory
    or an import path for the code run with it."""
    hidden = {"HYPOTHESIS_PROFILE", "HYPOTHESIS_STORAGE_DIRECTORY", "PYTHONPATH"}
    return {key: value for key, value in os.environ.items() if key not in hidden}


@pytest.mark.slow
def test_without_store_the_plugin_adds_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_one():\n    assert sorted([2, 1]) == [1, 2]\n")
    result = pytester.runpytest_subprocess("-q")
    result.assert_outcomes(passed=1)
    assert "ownership contract" not in result.stdout.str()


def test_fixed_store_passes(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYPOTHESIS_PROFILE", "dev")  # 100 examples: test_contract runs 500
    result = pytester.runpytest_subprocess("-q", "--store", "refimpl:ContextStore")
    result.assert_outcomes(passed=1)
    assert result.ret == 0


def printed_steps(lines: list[str]) -> list[str]:
    """The steps a failing contract item printed: the indented lines after `Steps:`."""
    start = lines.index("Steps:") + 1
    steps = itertools.takewhile(lambda line: line.startswith("    "), lines[start:])
    return [line.removeprefix("    ") for line in steps]


@pytest.mark.slow
def test_untracked_store_fails_with_the_property_and_steps(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HYPOTHESIS_PROFILE", raising=False)  # the default: ci, derandomized
    result = pytester.runpytest_subprocess("--store", "broken_variant:UntrackedStore")
    assert result.ret == 1
    result.assert_outcomes(failed=1)
    head = FAILURE_MESSAGE.format(spec="broken_variant:UntrackedStore", property="survival")
    result.stdout.fnmatch_lines(["*ownership contract on*", head, "Steps:", "*state = replay(*"])
    section = CONTRACT_SECTION.format(profile="ci", max_examples=500, derandomize=True)
    result.stdout.fnmatch_lines(["*Captured ownership contract call*", section])
    assert "Traceback" not in result.stdout.str()
    # Several stories are equally short (store and keep, then drop_refs; or store without
    # keeping): which one Hypothesis shrinks to depends on its search. Whichever it
    # printed, run as Python it must show the same violation.
    steps = printed_steps(result.stdout.lines)
    assert steps[0] == "from refimpl.contract import replay; state = replay(" + (
        "'broken_variant:UntrackedStore')"
    )
    with pytest.raises(ContractViolation) as replayed:
        exec("\n".join(steps), {})
    assert replayed.value.property == "survival"


@pytest.mark.slow
def test_header_names_the_store_and_the_hypothesis_settings(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--store", "refimpl:ContextStore", "--co")
    result.stdout.fnmatch_lines(
        ["ownership contract: --store=refimpl:ContextStore --store-names=8; hypothesis *"]
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("refimpl", "is not of the form package.module:factory"),
        ("no_such_module:Store", "cannot import 'no_such_module'"),
        ("refimpl:NoSuchStore", "module 'refimpl' has no 'NoSuchStore'"),
        ("refimpl.contract:PROPERTIES", "'PROPERTIES' is a tuple, not callable"),
    ],
)
def test_a_bad_store_value_is_one_usage_error_line(
    pytester: pytest.Pytester, value: str, problem: str
) -> None:
    result = pytester.runpytest_subprocess("--store", value)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: --store={value}: *{problem}*"])
    assert "Traceback" not in result.stderr.str()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("spec", "how"),
    [
        ("broken_variant.mutants:SegfaultStore", "killed by signal 11 (SIGSEGV)"),
        ("broken_variant.mutants:ExitingStore", "exited with status 0"),
    ],
)
def test_a_store_that_ends_the_process_is_one_failed_item_naming_how(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, spec: str, how: str
) -> None:
    monkeypatch.setenv("HYPOTHESIS_PROFILE", "ci")
    result = pytester.runpytest_subprocess("--store", spec, "--store-timeout", "30")
    assert result.ret == 1, "a store that ends the process must never look like a pass"
    result.assert_outcomes(failed=1)
    head = FAILURE_MESSAGE.format(spec=spec, property="crash")
    result.stdout.fnmatch_lines([head, "Steps:", "*state = replay(*", f"*{how}*"])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("factory", "problem"),
    [
        ("lambda: None", "the factory returned None, which*has no set_plugin_data, "
         "get_plugin_data, remove_plugin_data"),
        ("lambda: 1 / 0", "the factory raised ZeroDivisionError: division by zero"),
    ],
)  # fmt: skip
def test_a_factory_that_cannot_build_a_store_is_one_short_failure(
    pytester: pytest.Pytester, factory: str, problem: str
) -> None:
    pytester.makepyfile(badstore=f"make = {factory}\n")
    result = pytester.runpytest_subprocess("--store", "badstore:make", "-p", "no:cacheprovider")
    assert result.ret == 1
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [REFUSED_MESSAGE.format(spec="badstore:make", problem=f"*{problem}*")]
    )
    assert "site-packages" not in result.stdout.str(), "no pytest internals in the report"


def test_a_second_store_is_refused_not_dropped(pytester: pytest.Pytester) -> None:
    """One in the ini file's addopts, one on the command line: argparse would keep only
    the last, and the first store would pass unchecked."""
    pytester.makeini("[pytest]\naddopts = --store refimpl:ContextStore\n")
    result = pytester.runpytest_subprocess("--store", "refimpl:PluginAPI", "--co")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--store was given 2 times (refimpl:ContextStore, refimpl:PluginAPI): give it once*"]
    )


def test_store_api_judges_an_apis_typed_fetches(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An API whose get_context casts unchecked holds every store property: only its
    typed fetches show the bug, which `--store-api` has the contract make."""
    monkeypatch.setenv("HYPOTHESIS_PROFILE", "dev")
    spec = "broken_variant.mutants:make_unchecked_api"
    as_store = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", "--store", spec)
    as_store.assert_outcomes(passed=1)
    as_api = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--store", spec, "--store-api")
    as_api.assert_outcomes(failed=1)
    as_api.stdout.fnmatch_lines([f"ownership contract: --store={spec} *--store-api;*"])
    as_api.stdout.fnmatch_lines(["ownership contract violated by *: checked-downcast"])


@pytest.mark.slow
def test_a_bad_store_timeout_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess(
        "--store", "refimpl:ContextStore", "--store-timeout", "soon", "--co"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--store-timeout*'soon' is not a number of seconds*"])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("value", "problem"),
    [("0", "'0' is not from 1 to 1000"), ("many", "'many' is not a whole number")],
)
def test_a_bad_store_names_is_a_usage_error(
    pytester: pytest.Pytester, value: str, problem: str
) -> None:
    result = pytester.runpytest_subprocess(
        "--store", "refimpl:ContextStore", "--store-names", value, "--co"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--store-names*{problem}*"])


def test_store_names_gives_a_bounded_cache_the_room_it_has(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`LruStore` holds two contexts: under two names it keeps every one (under the
    default eight it evicts: `test_contract.py` catches it so)."""
    monkeypatch.setenv("HYPOTHESIS_PROFILE", "dev")
    spec = "broken_variant.mutants:LruStore"
    roomy = pytester.runpytest_subprocess("-q", "--store", spec, "--store-names", "2")
    roomy.assert_outcomes(passed=1)


def run_console_script(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`pytest *args` run from `folder` through the venv's `pytest` console script, which,
    unlike `python -m pytest` (and pytester, which sets $PYTHONPATH), does not put the
    current directory on `sys.path`."""
    script = Path(sys.executable).with_name("pytest")
    return subprocess.run(
        [str(script), "-p", "no:cacheprovider", *args],
        cwd=folder,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.slow
def test_the_factory_module_is_imported_from_the_invocation_directory(tmp_path: Path) -> None:
    # A function, not a re-export: it names itself `mymod:make`, so the contract's worker
    # process imports mymod too, from the sys.path the plugin left.
    (tmp_path / "mymod.py").write_text(
        "from refimpl import ContextStore\n\n\ndef make():\n    return ContextStore()\n"
    )
    result = run_console_script(tmp_path, "--store", "mymod:make", "--hypothesis-profile", "dev")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


@pytest.mark.slow
def test_a_module_not_found_is_one_line_saying_where_it_was_looked_for(tmp_path: Path) -> None:
    result = run_console_script(tmp_path, "--store", "missing_mod:make", "--co")
    assert result.returncode == pytest.ExitCode.USAGE_ERROR
    hint = IMPORT_HINT.format(module="missing_mod", folder=tmp_path)
    assert result.stderr.strip().splitlines() == [
        f"ERROR: --store=missing_mod:make: cannot import 'missing_mod': "
        f"No module named 'missing_mod' ({hint})"
    ]


@pytest.mark.slow
def test_a_module_that_raises_on_import_is_one_usage_error_line(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(boommod="raise RuntimeError('boom')\n")
    result = pytester.runpytest_subprocess("--store", "boommod:make", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert result.stderr.str().strip().splitlines() == [
        "ERROR: --store=boommod:make: importing 'boommod' raised RuntimeError: boom"
    ]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("import os\nos._exit(0)\n", "ended the process with exit status 0"),
        ("import sys\nsys.exit(0)\n", "ended the process with exit status 0"),
        ("import ctypes\nctypes.string_at(0)\n", "killed the process with SIGSEGV"),
    ],
)
def test_a_module_that_ends_the_process_on_import_is_a_usage_error_not_a_green_run(
    body: str, said: str, pytester: pytest.Pytester
) -> None:
    """Imported in a child first: pytest itself neither dies nor exits 0 with no item."""
    pytester.makepyfile(endsmod=body)
    result = pytester.runpytest_subprocess("--store", "endsmod:make", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert result.stderr.str().strip().splitlines() == [
        f"ERROR: --store=endsmod:make: importing 'endsmod' {said} before it finished"
    ]


MANAGER_MODULE = """
import multiprocessing

from refimpl import ContextStore

manager = multiprocessing.Manager()  # a server process, forked, holding our stdout


def make():
    return ContextStore()
"""


@pytest.mark.slow
def test_a_module_that_starts_a_manager_on_import_is_checked_without_waiting_for_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The import check waits for its child, not for the end of the child's output, which
    the manager's server process (forked from it) holds open."""
    monkeypatch.setenv("HYPOTHESIS_PROFILE", "dev")
    pytester.makepyfile(managermod=MANAGER_MODULE)
    started = time.monotonic()
    result = pytester.runpytest_subprocess(
        "-q", "--store", "managermod:make", "-p", "no:cacheprovider"
    )
    seconds = time.monotonic() - started
    assert seconds < IMPORT_LIMIT / 2, f"the run took {seconds:.0f} s: it waited on the helper"
    result.assert_outcomes(passed=1)


HELPER_MODULE = """
import subprocess
import sys

from refimpl import ContextStore

helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
with open({pids!r}, "a") as pids:  # one line per import: the import check's comes first
    pids.write(f"{{helper.pid}}\\n")


def make():
    return ContextStore()
"""


def alive(pid: int) -> bool:
    """Whether process `pid` runs (a zombie is dead: its parent may never reap it)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


HANGING_MODULE = """
import os
import time

with open({pid_file!r}, "w") as said:
    said.write(str(os.getpid()))
time.sleep({seconds})


def make():
    return dict()
"""


def _wait_for(path: Path, limit: float = 60.0) -> str:
    """The text of `path` once something is written there (generous: a loaded machine)."""
    deadline = time.monotonic() + limit
    while not (path.exists() and path.read_text()) and time.monotonic() < deadline:
        time.sleep(0.02)
    return path.read_text()


def test_pytest_stopped_by_sigterm_while_a_module_imports_leaves_no_import_child(
    pytester: pytest.Pytester,
) -> None:
    """The import check's child runs in a session of its own; a CI cancel (SIGTERM) that
    ends pytest while it waits for that child takes the child with it."""
    pid_file = pytester.path / "child.pid"
    pytester.makepyfile(hangmod=HANGING_MODULE.format(pid_file=str(pid_file), seconds=600))
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--store",
               "hangmod:make"]  # fmt: skip
    run = subprocess.Popen(command, cwd=pytester.path, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        child = int(_wait_for(pid_file))
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=60) == -signal.SIGTERM
        deadline = time.monotonic() + 10
        while alive(child) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not alive(child), "the import child outlived pytest"
    finally:
        run.kill()
        run.wait()
        if pid_file.exists() and pid_file.read_text():
            with suppress(ProcessLookupError):
                os.kill(int(pid_file.read_text()), signal.SIGKILL)


@pytest.mark.slow
def test_a_slow_import_says_what_is_waited_for(pytester: pytest.Pytester) -> None:
    pid_file = pytester.path / "child.pid"
    seconds = IMPORT_NOTICE + 2
    pytester.makepyfile(slowmod=HANGING_MODULE.format(pid_file=str(pid_file), seconds=seconds))
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", "--store",
                                           "slowmod:make", "--co")  # fmt: skip
    result.stderr.fnmatch_lines(
        [f"--store: importing 'slowmod' (in a child process first) has taken over "
         f"{IMPORT_NOTICE:g} s; it is given {IMPORT_LIMIT:g} s in all"]
    )  # fmt: skip
    assert result.ret == 0


@pytest.mark.slow
def test_a_helper_started_on_import_is_stopped_with_the_import_check(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every import of the module starts a helper that would sleep ten minutes holding the
    importer's stdout. The import check's child imports first (pytest imports the module
    itself only once that child has ended, and any other importer later still), so the
    first pid written is its helper's: gone once the check is done."""
    monkeypatch.setenv("HYPOTHESIS_PROFILE", "dev")
    pids = pytester.path / "helpers.pid"
    pytester.makepyfile(helpermod=HELPER_MODULE.format(pids=str(pids)))
    started = time.monotonic()
    try:
        result = pytester.runpytest_subprocess(
            "-q", "--store", "helpermod:make", "-p", "no:cacheprovider"
        )
        seconds = time.monotonic() - started
        assert seconds < IMPORT_LIMIT / 2, f"the run took {seconds:.0f} s: it waited on the helper"
        result.assert_outcomes(passed=1)
        first = int(pids.read_text().split()[0])
        deadline = time.monotonic() + 5
        while alive(first) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not alive(first), "the import check's helper outlived the check"
    finally:  # the helpers of the other imports are the module's to stop: stop them here
        for pid in map(int, pids.read_text().split() if pids.exists() else []):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
def test_the_item_has_a_node_id_and_is_counted(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_one():\n    pass\n")
    listed = pytester.runpytest_subprocess("--store", "refimpl:ContextStore", "--co", "-q")
    assert listed.ret == 0
    assert listed.stdout.lines[:2] == [
        "test_the_item_has_a_node_id_and_is_counted.py::test_one",
        "ownership-contract::refimpl:ContextStore",
    ]
    header = pytester.runpytest_subprocess("--store", "refimpl:ContextStore", "--co")
    header.stdout.fnmatch_lines(["collected 2 items", "<ContractCollector ownership-contract>"])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("selection", "listed"),
    [
        (["-k", "contract"], ["ownership-contract::refimpl:ContextStore"]),
        (["-k", "ContextStore"], ["ownership-contract::refimpl:ContextStore"]),
        (["-m", "ownership_contract"], ["ownership-contract::refimpl:ContextStore"]),
        (["-k", "test_one"], ["*.py::test_one"]),
        (["-m", "not ownership_contract"], ["*.py::test_one"]),
    ],
)
def test_k_and_m_select_the_item_like_any_other(
    pytester: pytest.Pytester, selection: list[str], listed: list[str]
) -> None:
    pytester.makepyfile("def test_one():\n    pass\n")
    result = pytester.runpytest_subprocess(
        "--store", "refimpl:ContextStore", *selection, "--co", "-q"
    )
    assert result.ret == 0
    assert len(listed) == 1
    result.stdout.fnmatch_lines([*listed, "1/2 tests collected (1 deselected) in *"])


@pytest.mark.slow
def test_k_deselecting_the_only_item_is_exit_5(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--store", "refimpl:ContextStore", "-k", "nothing")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    result.stdout.fnmatch_lines(["collected 1 item / 1 deselected / 0 selected", "*1 deselected*"])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("option", "variable", "on_ci_service", "expected"),
    [
        ([], None, False, "profile 'ci', max_examples=500, derandomize=True"),
        ([], "dev", False, "profile 'dev', max_examples=100, derandomize=False"),
        # Under a CI service Hypothesis loads its own derandomized `ci` profile first;
        # `dev` is random all the same.
        ([], "dev", True, "profile 'dev', max_examples=100, derandomize=False"),
        (["--hypothesis-profile", "deep"], "dev", False, "profile 'deep', max_examples=5000, *"),
    ],
)
def test_the_profile_is_ci_unless_one_is_named(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    option: list[str],
    variable: str | None,
    on_ci_service: bool,
    expected: str,
) -> None:
    if on_ci_service:
        monkeypatch.setenv("CI", "true")
    if variable is None:
        monkeypatch.delenv("HYPOTHESIS_PROFILE", raising=False)
    else:
        monkeypatch.setenv("HYPOTHESIS_PROFILE", variable)
    result = pytester.runpytest_subprocess("--store", "refimpl:ContextStore", *option, "--co")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [f"ownership contract: --store=refimpl:ContextStore --store-names=8; *{expected}"]
    )


@pytest.mark.slow
def test_the_item_runs_on_the_named_profile_and_says_so(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeconftest(
        "from hypothesis import settings\n\n"
        # derandomize said, not inherited: a CI service's settings would make it True.
        "settings.register_profile('tiny', max_examples=7, database=None, derandomize=False)\n"
    )
    # Named by the variable, which Hypothesis does not read: only the item runs on it.
    monkeypatch.setenv("HYPOTHESIS_PROFILE", "tiny")
    result = pytester.runpytest_subprocess("--store", "refimpl:ContextStore", "-rP")
    assert result.ret == 0
    section = CONTRACT_SECTION.format(profile="tiny", max_examples=7, derandomize=False)
    result.stdout.fnmatch_lines(["*Captured ownership contract call*", section])
    line = next(line for line in result.stdout.lines if line.startswith("hypothesis profile"))
    examples = int(line.split(": ")[1].split()[0])
    assert examples < 50, "the item ran on the profile it names (7 examples; default 100)"


@pytest.mark.slow
def test_an_unknown_profile_is_one_usage_error_line(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess(
        "--store", "refimpl:ContextStore", "--hypothesis-profile", "nosuch", "--co"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert result.stderr.str().strip().splitlines() == [
        "ERROR: --hypothesis-profile='nosuch' is not a profile: ci, dev, deep, soak"
    ]


def run_check_store(folder: Path, call: str, env: dict[str, str]) -> str:
    """Run `check_store(...)` as `call` says, in a fresh `python -c` in `folder`, no profile
    loaded (Hypothesis's default settings); a violation is caught and said. Returns what
    the script printed: "a violation was found" if one was, then where a contract run keeps
    Hypothesis's files (its storage directory)."""
    script = (
        "from hypothesis import Phase, settings\n"
        "from hypothesis.configuration import storage_directory\n"
        "from refimpl import ContextStore\n"
        "from broken_variant import UntrackedStore\n"
        "from refimpl.contract import ContractViolation, check_store\n"
        f"try:\n    {call}\nexcept ContractViolation:\n    print('a violation was found')\n"
        "from refimpl.contract._profiles import private_storage\n"
        "with private_storage():  # where the contract's runs keep Hypothesis's files\n"
        "    print(storage_directory('examples', intent_to_write=False).path)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=folder, env=env, check=True, timeout=60, capture_output=True, text=True,
    )  # fmt: skip
    return done.stdout.strip()


@pytest.mark.slow
def test_check_store_leaves_no_hypothesis_directory_in_the_working_directory(
    tmp_path: Path,
) -> None:
    # Even a passing run makes Hypothesis cache the constants of local modules (refimpl's).
    run_check_store(tmp_path, "check_store(ContextStore)", clean_environment())
    assert sorted(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_check_store_keeps_no_example_database_unless_one_is_chosen(tmp_path: Path) -> None:
    # A failure is saved in Hypothesis's default database, in the storage directory (here
    # a chosen one, which the contract uses); the search alone is enough to save it.
    storage = tmp_path / "chosen"
    env = {**clean_environment(), "HYPOTHESIS_STORAGE_DIRECTORY": str(storage)}
    call = "check_store(UntrackedStore, settings=settings(phases=[Phase.generate]))"
    printed = run_check_store(tmp_path, call, env).splitlines()
    assert printed[0] == "a violation was found", "a failure to save is one the search met"
    said = printed[-1]
    # Hypothesis's own caches land there or not as it decides; where it would write is sure.
    used = Path(said).is_relative_to(storage)
    assert used, f"the chosen storage directory is used (for Hypothesis's caches): {said}"
    assert not (storage / "examples").exists()
    assert {path.name for path in tmp_path.iterdir()} <= {"chosen"}, "nothing else is written"
