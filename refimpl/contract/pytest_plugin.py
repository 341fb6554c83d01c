"""pytest plugin: `pytest --store package.module:factory` runs the ownership contract.

Inert unless asked: without `--store` it adds its `--store-*` options and nothing else. (Loading
it does import its package, `refimpl.contract`, and with it Hypothesis and objgraph.)

With `--store`, the factory is imported as `python -m pytest` would: the directory
pytest was invoked from is put first on `sys.path` (and stays there, as
`python -m` leaves it, so the contract's worker processes import it too). The
session then collects one more item, `ownership-contract::<spec>`, beside whatever
the paths given collect: it is counted, listed by `--collect-only`, selected by
`-k`/`-m` (it carries the mark `ownership_contract`) and deselected like any other.
It runs on the Hypothesis profile named by `--hypothesis-profile`, else
`$HYPOTHESIS_PROFILE`, else `ci` (derandomized: the same verdict on every run); it
loads no profile for the session's other tests.

`--store-database DB` (repeatable) remembers the store's failures and replays them
first; `--store-shards N` (or `auto`: one per xdist worker) makes N items instead of one,
`ownership-contract::<spec>[shard-I-of-N]`, which split the profile's examples, each with
a seed of its own, and share the store's database key; `--store-soak DURATION` runs the
`soak` profile until a violation or the time limit, with a progress line a minute.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Generator, Iterator
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import hypothesis
import pytest
from hypothesis import Verbosity
from hypothesis import settings as Settings
from hypothesis.database import ExampleDatabase

from refimpl.contract import ContractViolation, resolve_factory, run_contract
from refimpl.contract._database import open_databases
from refimpl.contract._names import MAX_NAMES, NAMES_DEFAULT
from refimpl.contract._profiles import SOAK_PROFILE, profile_name
from refimpl.contract._soak import parse_duration
from refimpl.contract._soak import soak as run_soak

__all__ = [
    "COLLECTOR_NAME",
    "DEFAULT_PROFILE",
    "FAILURE_MESSAGE",
    "MARK",
    "REFUSED_MESSAGE",
    "USAGE_MESSAGE",
    "ContractCollector",
    "ContractItem",
]

COLLECTOR_NAME: Final = "ownership-contract"
"""The node id of the collector `--store` adds: its item's is `ownership-contract::<spec>`."""
MARK: Final = "ownership_contract"
"""The mark the contract item carries (`-m ownership_contract` selects it alone)."""
DEFAULT_PROFILE: Final = "ci"
"""The Hypothesis profile the item runs on when none is named."""
FAILURE_MESSAGE: Final = "ownership contract violated by {spec}: {property}"
"""The first line of a failing contract item."""
REFUSED_MESSAGE: Final = "ownership contract could not run on {spec}: {problem}"
"""The one line of a contract item whose factory cannot be used (it raised, returned
`None`, or built something without the store methods)."""
USAGE_MESSAGE: Final = "--store={spec}: {problem}"
"""The usage error for a `--store` value that cannot be used."""
IMPORT_HINT: Final = (
    "is {module!r} importable from {folder}? run pytest from its folder or add that "
    "folder to PYTHONPATH"
)
"""Appended to the usage error when the module to import is not found."""


SHARD_NAME: Final = "{spec}[shard-{index}-of-{count}]"
"""The name of one shard's item, when `--store-shards` asks for more than one."""
AUTO: Final = "auto"
"""`--store-shards auto`: one shard per xdist worker (one without xdist)."""


@dataclass(frozen=True, slots=True)
class _Contract:
    """What `--store` asked for, resolved once at configure time: the factory, the profile,
    the database (`None`: none), the shards (a count, or `AUTO`), the soak's seconds."""

    spec: str
    factory: Any
    profile: str
    settings: Settings
    database: ExampleDatabase | None = None
    shards: int | str = 1
    soak: float | None = None


_CONTRACT = pytest.StashKey[_Contract]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ownership-contract", "plugin-context ownership contract")
    group.addoption(
        "--store",
        action="append",  # to refuse a second one, which argparse would let replace the first
        default=[],
        metavar="package.module:factory",
        help="run the ownership contract against the stores this factory builds, as one "
        f"extra test item ({COLLECTOR_NAME}::<spec>), on the Hypothesis profile "
        f"--hypothesis-profile or $HYPOTHESIS_PROFILE names (default: {DEFAULT_PROFILE}). "
        "The module is imported with the invocation directory first on sys.path, as "
        "`python -m pytest` does. Give it once per run. Default: none, which means the "
        "plugin does nothing.",
    )
    group.addoption(
        "--store-api",
        action="store_true",
        help="the factory builds an API (get_context(name, T), set_context, as check_api "
        "takes), not a bare store: its typed fetches are judged too (checked-downcast). "
        "Default: a store.",
    )
    group.addoption(
        "--store-timeout",
        default=5.0,
        type=_timeout,
        metavar="SECONDS",
        help="seconds one call into the store may take before it is judged hung (a crash "
        "verdict). Default: 5; 0 means no limit.",
    )
    group.addoption(
        "--store-names",
        default=NAMES_DEFAULT,
        type=_names,
        metavar="N",
        help="how many plugin names the contract stores under (1 to 1000; most steps pick "
        "from the first three, one step stores under all of them, so a bounded cache with "
        f"room for fewer shows). Default: {NAMES_DEFAULT}.",
    )
    group.addoption(
        "--store-database",
        action="append",
        default=[],
        metavar="DB",
        help="remember the store's failures in this example database and replay them "
        "first: a folder, redis://host:port/db, or github:owner/repo (read-only); ro: "
        "before any makes it read-only. Repeatable: several are used together. Write "
        "--store-database=DB: pytest takes a bare folder after an option for a test path "
        "when it looks for its rootdir. Default: none.",
    )
    group.addoption(
        "--store-shards",
        default=1,
        type=_shards,
        metavar="N|auto",
        help="split the contract's examples over N items, each with its own seed, all "
        "sharing the store's database key (auto: one per xdist worker). Default: 1.",
    )
    group.addoption(
        "--store-soak",
        default=None,
        type=_duration,
        metavar="DURATION",
        help="run the soak profile until a violation or this time limit (4h, 90m, 1h30m, "
        "45s), with a progress line a minute. Default: no soak.",
    )


def _whole_number(text: str, most: int, *, other: str = "") -> int:
    """`text` as a whole number from 1 to `most`; an `argparse.ArgumentTypeError` saying
    what it is not otherwise (`other` names what else the option takes, e.g. ` or auto`)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number{other}") from None
    if not 1 <= value <= most:
        raise argparse.ArgumentTypeError(f"{text!r} is not from 1 to {most}")
    return value


def _names(text: str) -> int:
    """`--store-names`'s value: a whole number from 1 to 1000."""
    return _whole_number(text, MAX_NAMES)


def _shards(text: str) -> int | str:
    """`--store-shards`' value: `auto`, or a whole number from 1 to 1000."""
    return AUTO if text == AUTO else _whole_number(text, MAX_SHARDS, other=f" or {AUTO}")


MAX_SHARDS: Final = 1000
"""The most shards `--store-shards` takes."""


def _duration(text: str) -> float:
    """`--store-soak`'s value, in seconds."""
    try:
        return parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _timeout(text: str) -> float | None:
    """`--store-timeout`'s value: positive seconds, or 0 for no limit."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not 0 or a positive number of seconds")
    return value or None


@pytest.hookimpl(tryfirst=True)  # before Hypothesis's plugin loads --hypothesis-profile
def pytest_configure(config: pytest.Config) -> None:
    """With `--store`: register the contract's profiles, choose the item's, import the
    factory. Anything unusable is a one-line `pytest.UsageError`."""
    specs: list[str] = config.getoption("store")
    if not specs:
        return
    if len(specs) > 1:  # e.g. one in addopts, one on the command line: neither may be dropped
        raise pytest.UsageError(
            f"--store was given {len(specs)} times ({', '.join(specs)}): give it once, and "
            "run pytest once per store to check several"
        )
    (spec,) = specs
    soak = config.getoption("store_soak")
    profile = _profile(config.getoption("hypothesis_profile", None), soak)
    chosen = Settings.get_profile(profile)
    if verbosity := config.getoption("hypothesis_verbosity", None):
        chosen = Settings(chosen, verbosity=Verbosity[verbosity])
    try:
        database = open_databases(config.getoption("store_database"))
    except ValueError as error:
        raise pytest.UsageError(f"--store-database: {error}") from None
    factory = _import_factory(spec, config.invocation_params.dir)
    shards = config.getoption("store_shards")
    config.stash[_CONTRACT] = _Contract(spec, factory, profile, chosen, database, shards, soak)
    config.addinivalue_line("markers", f"{MARK}: the ownership contract item --store adds")


def _profile(option: str | None, soak: float | None) -> str:
    """The item's profile: `soak` with `--store-soak`, else as `profile_name` says (never
    `soak` then: it has no end). A one-line `pytest.UsageError` for a mismatch."""
    if soak is not None:
        if option and option != SOAK_PROFILE:
            raise pytest.UsageError(
                f"--store-soak runs the {SOAK_PROFILE} profile, not --hypothesis-profile={option}"
            )
        profile_name(SOAK_PROFILE)  # registers it
        return SOAK_PROFILE
    try:
        profile = profile_name(option, default=DEFAULT_PROFILE)
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None
    if profile == SOAK_PROFILE:
        raise pytest.UsageError(
            f"the {SOAK_PROFILE} profile runs until a time limit: give --store-soak DURATION "
            "(e.g. --store-soak 4h)"
        )
    return profile


def _import_factory(spec: str, folder: Path) -> Any:
    """Resolve `spec` with `folder` first on `sys.path` (it stays there, as `python -m`
    leaves the current directory); raise a one-line `pytest.UsageError` when it fails."""
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    _import_in_a_child(spec)
    try:
        return resolve_factory(spec)
    except Exception as error:
        problem = str(error) if str(error) else type(error).__name__
        module = spec.partition(":")[0]
        missing = getattr(error.__cause__, "name", None)
        if (
            isinstance(error.__cause__, ModuleNotFoundError)
            and missing
            and (module == missing or module.startswith(f"{missing}."))
        ):
            problem += f" ({IMPORT_HINT.format(module=missing, folder=folder)})"
        elif not isinstance(error, (ValueError, ImportError, AttributeError, TypeError)):
            problem = f"importing {module!r} raised {type(error).__name__}: {problem}"
        raise pytest.UsageError(USAGE_MESSAGE.format(spec=spec, problem=problem)) from None


_IMPORTED = b"imported"
_CHILD_IMPORT = f"""
import importlib, os, sys
sys.path[:0] = sys.argv[3:]
try:
    importlib.import_module(sys.argv[2])
except Exception:
    pass  # a Python error: the import in pytest's own process names it
os.write(int(sys.argv[1]), {_IMPORTED!r})
os._exit(0)  # nothing the module left behind (threads, atexit) may hold this up
"""
IMPORT_LIMIT = 120.0
"""Seconds the module of `--store` may take to import (in a child, first)."""
IMPORT_NOTICE = 5.0
"""Seconds after which a slow import says, in one line, that it is waited for, and how long."""


def _import_in_a_child(spec: str) -> None:
    """Import the module of `spec` in a child process first, so that one which ends or
    hangs the process as it is imported (`os._exit`, a segfault, a loop) is a one-line
    `pytest.UsageError`, never pytest's own death or a false exit 0.

    The child says it imported through a pipe of its own and exits; the check waits for
    the child to end, never for its pipes to close, so a helper process the module
    starts as it is imported (a `multiprocessing.Manager()`, a `subprocess.Popen`) does
    not hold it up. The child runs in a session of its own, whose process group is
    killed once it has ended: helpers it started go with it. Limit: a helper that leaves
    that group (`setsid`, `start_new_session=True`, `setpgid`) escapes and runs on.
    """
    module = spec.partition(":")[0]
    if not module or module in sys.modules:
        return  # resolve_factory says what is wrong with the spec; or imported already
    said, status = _run_import(module)
    if status is None:
        problem = f"importing {module!r} did not finish within {IMPORT_LIMIT:g} s"
    elif said.endswith(_IMPORTED):
        return
    else:
        problem = f"importing {module!r} {_ending(status)} before it finished"
    raise pytest.UsageError(USAGE_MESSAGE.format(spec=spec, problem=problem))


def _run_import(module: str) -> tuple[bytes, int | None]:
    """Import `module` in a child in a new session: what it wrote to its pipe, and its
    exit status (`None`: it did not end within `IMPORT_LIMIT` and was killed). Its
    process group is killed in every case before this returns."""
    read_end, write_end = os.pipe()
    try:
        argv = [sys.executable, "-S", "-c", _CHILD_IMPORT, str(write_end), module, *sys.path]
        try:  # -S: the path is given
            child = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, pass_fds=(write_end,), start_new_session=True,
            )  # fmt: skip
        finally:
            os.close(write_end)  # the child's alone: a helper may hold it, never this process
        try:
            with _group_killed_on_termination(child.pid):
                status = _waited(child, module)
        finally:
            _kill_group(child.pid)
            child.wait()
        os.set_blocking(read_end, False)
        return _read_all(read_end), status
    finally:
        os.close(read_end)


def _waited(child: subprocess.Popen[bytes], module: str) -> int | None:
    """`child`'s exit status, or `None` when it has not ended within `IMPORT_LIMIT`;
    after `IMPORT_NOTICE` seconds, one line on stderr says what is waited for."""
    try:
        return child.wait(timeout=IMPORT_NOTICE)
    except subprocess.TimeoutExpired:
        print(
            f"--store: importing {module!r} (in a child process first) has taken over "
            f"{IMPORT_NOTICE:g} s; it is given {IMPORT_LIMIT:g} s in all",
            file=sys.stderr,
            flush=True,
        )
    try:
        return child.wait(timeout=IMPORT_LIMIT - IMPORT_NOTICE)
    except subprocess.TimeoutExpired:
        return None


def _kill_group(pid: int) -> None:
    """Kill the process group `pid` leads (the import child's session)."""
    with suppress(ProcessLookupError, PermissionError):  # none left, or not ours
        os.killpg(pid, signal.SIGKILL)


@contextmanager
def _group_killed_on_termination(pid: int) -> Iterator[None]:
    """While inside, a SIGTERM or SIGHUP that would end pytest (their default action)
    first kills the process group `pid` leads, which runs in a session of its own and
    would outlive pytest, then ends pytest by that signal all the same."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before: dict[signal.Signals, Any] = {}

    def end(signum: int, frame: object) -> None:
        _kill_group(pid)
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    for ending in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(ending) == signal.SIG_DFL:
            before[ending] = signal.signal(ending, end)
    try:
        yield
    finally:
        for restored, handler in before.items():
            signal.signal(restored, handler)


def _read_all(fd: int) -> bytes:
    """What can be read from non-blocking `fd` now (a helper may hold its other end)."""
    chunks = []
    with suppress(BlockingIOError):
        while chunk := os.read(fd, 4096):
            chunks.append(chunk)
    return b"".join(chunks)


def _ending(status: int) -> str:
    if status < 0:
        return f"killed the process with {signal.Signals(-status).name}"
    return f"ended the process with exit status {status}"


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    """`ownership contract: --store=<spec>; hypothesis <version>, profile '<name>', ...`,
    and a line naming the example database when there is one."""
    if _CONTRACT not in config.stash:
        return None
    contract = config.stash[_CONTRACT]
    names = config.getoption("store_names")
    budget = (
        f"soak for {contract.soak:g} s"
        if contract.soak is not None
        else f"max_examples={contract.settings.max_examples}"
    )
    count = _shard_count(config, contract.shards)
    shards = f" --store-shards={count}" if count > 1 else ""
    shards += " --store-api" if config.getoption("store_api") else ""
    lines = [
        f"ownership contract: --store={contract.spec} --store-names={names}{shards}; "
        f"hypothesis {hypothesis.__version__}, profile {contract.profile!r}, {budget}, "
        f"derandomize={contract.settings.derandomize}"
    ]
    if contract.database is not None:
        unused = config.getoption("hypothesis_seed", None) is not None
        note = " (unused: --hypothesis-seed turns Hypothesis's databases off)" if unused else ""
        lines.append(f"ownership contract database: {contract.database!r}{note}")
    return lines


def _shard_count(config: pytest.Config, shards: int | str) -> int:
    """How many items `shards` makes: `AUTO` is one per xdist worker (1 without xdist)."""
    if shards != AUTO:
        return int(shards)
    workers = getattr(config, "workerinput", {}).get("workercount")
    if workers is None:
        workers = config.getoption("numprocesses", None)
    return workers if isinstance(workers, int) and workers > 0 else 1


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    """Add the contract's collector to what the session collects, so that its item is
    counted, reported and selected like every collected item."""
    report = yield
    config = collector.config
    if isinstance(collector, pytest.Session) and report.passed and _CONTRACT in config.stash:
        report.result.append(
            ContractCollector.from_parent(collector, name=COLLECTOR_NAME, nodeid=COLLECTOR_NAME)
        )
    return report


class ContractCollector(pytest.Collector):
    """The session-level collector `--store` adds (node id `ownership-contract`): one item."""

    def collect(self) -> Iterator[ContractItem]:
        contract = self.config.stash[_CONTRACT]
        count = _shard_count(self.config, contract.shards)
        if count == 1:
            yield ContractItem.from_parent(self, name=contract.spec, contract=contract)
            return
        examples = contract.settings.max_examples
        for index in range(count):
            share = examples // count + (index < examples % count)
            yield ContractItem.from_parent(
                self,
                name=SHARD_NAME.format(spec=contract.spec, index=index + 1, count=count),
                contract=contract,
                shard=(index, count, max(1, share)),
            )


class ContractItem(pytest.Item):
    """One test: the ownership contract on the factory given with `--store`, node id
    `ownership-contract::<spec>` (or one shard of it: `shard` is its index, the number of
    shards and its examples). Its report has a section saying the profile it ran on and
    how many examples that took (shown on failure, and on success with `-rP`)."""

    def __init__(
        self, *, contract: _Contract, shard: tuple[int, int, int] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.contract = contract
        self.spec = contract.spec
        self.shard = shard
        self.seed = self._shard_seed()
        self.add_marker(MARK)

    def _shard_seed(self) -> int | None:
        """A shard's seed: derived from the spec and its index under a derandomized profile
        (the same on every run, another for each shard), `None` (Hypothesis draws one)
        under a random one or without shards."""
        if self.shard is None or not self.contract.settings.derandomize:
            return None
        digest = hashlib.sha256(f"{self.spec} shard {self.shard[0]}".encode()).digest()
        return int.from_bytes(digest[:8], "big")

    def runtest(self) -> None:
        contract = self.contract
        settings = contract.settings
        if self.shard is not None:
            settings = Settings(settings, max_examples=self.shard[2])
        timeout = self.config.getoption("store_timeout")
        names = self.config.getoption("store_names")
        api = self.config.getoption("store_api")
        if contract.soak is not None:
            run = run_soak(
                contract.factory, seconds=contract.soak, settings=settings, api=api,
                timeout=timeout, names=names, database=contract.database,
                progress=lambda progress: self._say(progress.line()),
            )  # fmt: skip
            budget = f"a soak of {contract.soak:g} s"
        else:
            run = run_contract(
                contract.factory, api=api, settings=settings, timeout=timeout, names=names,
                database=contract.database, seed=self.seed,
            )  # fmt: skip
            budget = f"max_examples={settings.max_examples}"
        shard = "" if self.shard is None else f", shard {self.shard[0] + 1} of {self.shard[1]}"
        seed = "" if self.seed is None else f", seed {self.seed}"
        self.add_report_section(
            "call",
            "ownership contract",
            f"hypothesis profile {contract.profile!r} ({budget}, derandomize="
            f"{settings.derandomize}{shard}{seed}): {run.examples} examples in "
            f"{run.seconds:.1f} s ({run.steps} steps)",
        )
        if run.violation is not None:
            raise run.violation

    def _say(self, line: str) -> None:
        """Write `line` to the terminal now, past pytest's capture (under xdist a worker
        has no terminal: the line is lost)."""
        plugins = self.config.pluginmanager
        reporter = plugins.getplugin("terminalreporter")
        if reporter is None:
            return
        capture = plugins.getplugin("capturemanager")
        with capture.global_and_fixture_disabled() if capture is not None else nullcontext():
            reporter.write_line(f"{self.nodeid}: {line}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        violation = excinfo.value
        if isinstance(violation, TypeError):  # the factory was refused: the cause, no traceback
            return REFUSED_MESSAGE.format(spec=self.spec, problem=violation)
        if not isinstance(violation, ContractViolation):
            return str(super().repr_failure(excinfo))
        steps = "\n".join(f"    {line}" for line in violation.steps)
        head = FAILURE_MESSAGE.format(spec=self.spec, property=violation.property)
        return f"{head}\n\nSteps:\n{steps}\n\n{violation.detail}"

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Where the factory is defined (when Python can tell; lines count from 0, as
        pytest's do), and a headline that is not the node id (pytest would rewrite the
        dots of a spec that ends the node id)."""
        try:
            source = inspect.getsourcefile(self.contract.factory)
            line = inspect.getsourcelines(self.contract.factory)[1] - 1 if source else None
        except (TypeError, OSError):
            source, line = None, None
        return Path(source) if source else self.path, line, f"ownership contract on {self.spec}"
