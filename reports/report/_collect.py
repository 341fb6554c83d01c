"""Run the contract on every implementation, and both hosts for a short session."""

from __future__ import annotations

import io
import multiprocessing
import os
import platform
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import redirect_stdout
from importlib import metadata
from typing import Any

import objgraph
from hypothesis import settings as Settings

from broken_variant import BrokenHost, MemorySafetyViolation
from broken_variant.mutants import MUTANTS, WeakrefStore
from refimpl import ContextStore, Host, PluginAPI
from refimpl.contract import (
    PROPERTIES,
    ContractRun,
    factory_spec,
    isolated_passes,
    load_profile,
    run_contract,
)
from refimpl.plugins import bundled_plugins
from refimpl.support.collector import frozen_gc
from reports.lessons import LESSONS, Lesson
from reports.report._model import Environment, Implementation, LessonResult, Session, Violation

__all__ = [
    "collect_implementations",
    "collect_lessons",
    "collect_sessions",
    "environment",
    "make_fixed_api",
]

Progress = Callable[[str], None]

PACKAGES = (
    "plugin-context-ownership",
    "hypothesis",
    "objgraph",
    "jinja2",
    "matplotlib",
    "graphviz-pure",
)
_ADDRESS = re.compile(r"0x[0-9a-f]{6,}")
_REPORT = re.compile(r"^=+\n==ERROR: .*?^SUMMARY: [^\n]*", re.MULTILINE | re.DOTALL)
_PROBE = re.compile(r"^Asked for it now, (.*)", re.MULTILINE | re.DOTALL)


def make_fixed_api() -> PluginAPI:
    """The fixed API on the fixed store."""
    return PluginAPI(ContextStore())


def mask_addresses(text: str) -> str:
    """Replace each distinct address with `0xADDR1`, `0xADDR2`... in order of appearance,
    so that two runs of the same code give the same text."""
    seen: dict[str, str] = {}

    def token(match: re.Match[str]) -> str:
        return seen.setdefault(match.group(0), f"0xADDR{len(seen) + 1}")

    return _ADDRESS.sub(token, text)


def _violation(run: ContractRun) -> Violation | None:
    if run.violation is None:
        return None
    detail = mask_addresses(run.violation.detail)
    probe = _PROBE.search(detail)
    stable = detail[: probe.start()].rstrip() if probe else detail
    report = _REPORT.search(detail)
    return Violation(
        run.violation.property,
        tuple(mask_addresses(line) for line in run.violation.steps),
        stable,
        report.group(0) if report else None,
        probe.group(1).strip() if probe else None,
    )


def _cells(violation: Violation | None, target: str) -> dict[str, str]:
    """Each property's cell: `held`, `violated`, `not-judged` (after the one violated),
    or `not-applicable` (`checked-downcast` for a bare store, which has no typed fetch)."""
    broken = len(PROPERTIES) if violation is None else PROPERTIES.index(violation.property)
    cells = {
        prop: "held" if index < broken else "violated" if index == broken else "not-judged"
        for index, prop in enumerate(PROPERTIES)
    }
    if target == "store":
        cells["checked-downcast"] = "not-applicable"
    return cells


def collect_implementations(
    settings: Settings, progress: Progress, only: frozenset[str] | None = None
) -> list[Implementation]:
    """Run the contract on the fixed store and API and on every mutant (or on the mutants
    named in `only`)."""
    targets: list[tuple[str, str, str, Callable[[], Any], str, str | None]] = [
        (
            "ContextStore",
            "fixed",
            "store",
            ContextStore,
            "the fix: counted references to contexts",
            None,
        ),
        (
            "PluginAPI",
            "fixed",
            "api",
            make_fixed_api,
            "the fix: a checked downcast on the fixed store",
            None,
        ),
    ]
    targets += [
        (m.name, "mutant", m.kind, m.factory, m.bug, m.catches)
        for m in MUTANTS
        if only is None or m.name in only
    ]
    rows: list[Implementation | None] = [None] * len(targets)
    # Side by side, one process per core: a contract run mostly waits on its worker (and
    # a hung one on the clock), so two at a time nearly halve the report; the crash
    # mutants, whose shrinking restarts the worker again and again, go first. Spawned, not
    # forked: a fork of this process would leave behind the pool's own thread, and any
    # lock it held.
    slowest_first = sorted(range(len(targets)), key=lambda i: targets[i][5] != "crash")
    jobs = min(len(targets), os.cpu_count() or 1)
    # Not a multiprocessing.Pool: its processes are daemons, which may not start the
    # contract's own worker processes.
    pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"))
    try:
        budget = {"max_examples": settings.max_examples, "derandomize": settings.derandomize}
        running = [pool.submit(_judge, i, targets[i], budget) for i in slowest_first]
        for done, future in enumerate(as_completed(running), 1):
            index, row = future.result()
            rows[index] = row
            verdict = row.violation.property if row.violation else "holds"
            progress(
                f"[{done}/{len(targets)}] contract on {row.name} ({row.kind} {row.target}): "
                f"{verdict} ({row.seconds:.1f} s)"
            )
    except BaseException:  # Ctrl-C, or a run that failed: no other run goes on without us
        pool.shutdown(wait=False, cancel_futures=True)
        for child in multiprocessing.active_children():
            child.kill()  # at once: a run being cut short has nothing to save
        raise
    pool.shutdown()
    return [row for row in rows if row is not None]


def _judge(
    index: int,
    judged: tuple[str, str, str, Callable[[], Any], str, str | None],
    budget: dict[str, Any],
) -> tuple[int, Implementation]:
    """Run the contract on one target (in a process of the pool), on the active profile
    with `budget` (a settings object itself does not survive pickling); `index` comes back."""
    load_profile()
    settings = Settings(Settings(), deadline=None, database=None, **budget)
    name, kind, target, factory, bug, expected = judged
    timeouts = {m.name: m.timeout for m in MUTANTS}
    with redirect_stdout(io.StringIO()):  # Hypothesis's own notes; the verdict says it all
        run = run_contract(
            factory, api=target == "api", settings=settings, timeout=timeouts.get(name, 5.0)
        )
    violation = _violation(run)
    return index, Implementation(
        name, kind, target, factory_spec(factory) or repr(factory), bug, expected,
        _cells(violation, target), violation, run.examples, run.first_failure_examples,
        run.seconds, run.first_failure_seconds,
    )  # fmt: skip


def _live_contexts() -> int:
    return sum(
        objgraph.count(name) for name in ("PluginContext[CounterState]", "PluginContext[FrameLog]")
    )


def _counter(host: Host) -> int | None:
    first = host.screen_text().splitlines()[:1]
    if first and first[0].startswith("Frame: "):
        return int(first[0].removeprefix("Frame: "))
    return None


def _session(host: Host, name: str, description: str, frames: int) -> Session:
    with frozen_gc():  # objgraph counts only what is not frozen: this session's objects
        return _frames(host, name, description, frames)


def _frames(host: Host, name: str, description: str, frames: int) -> Session:
    for module in bundled_plugins():
        host.register_plugin(module)
    numbers, live, counter = [0], [_live_contexts()], [_counter(host)]
    outcome = f"ran {frames} frames"
    for frame in range(1, frames + 1):
        try:
            host.run(frames=1)
        except MemorySafetyViolation as crash:
            numbers.append(frame)
            live.append(_live_contexts())
            counter.append(None)
            outcome = f"crashed at frame {frame}: {crash.kind}"
            return Session(name, description, numbers, live, counter, outcome, frame, _cause(crash))
        numbers.append(frame)
        live.append(_live_contexts())
        counter.append(_counter(host))
    outcome += f"; the screen reads {host.screen_text().splitlines()[0]!r}"
    return Session(name, description, numbers, live, counter, outcome)


_SIZE = re.compile(r" \(\d+ bytes\)$")


def _cause(crash: MemorySafetyViolation) -> str:
    """A crash in a few words, from its sanitizer report: what happened to what, and
    where that was freed: "heap-use-after-free on a PluginContext[CounterState] of plugin
    'simple_counter', freed in init"."""
    report = crash.report
    freed = f", freed in {report.freed[0].function}" if report.freed else ""
    return f"{report.kind} on {_SIZE.sub('', report.accessed)}{freed}"


def collect_sessions(frames: int, progress: Progress) -> list[Session]:
    """Run the fixed host, the broken host and a host on a weakref store, frame by frame."""
    progress(f"host sessions: {frames} frames each")
    return [
        _session(Host(), "fixed", "refimpl.Host on ContextStore", frames),
        _session(BrokenHost(), "broken", "BrokenHost on UntrackedStore (the seed)", frames),
        _session(
            Host(WeakrefStore()),
            "weakref",
            "refimpl.Host on a weakref store (the lazy default hides the bug)",
            frames,
        ),
    ]


def collect_lessons(
    progress: Progress, lessons: Sequence[Lesson] | None = None
) -> list[LessonResult]:
    """Run every lesson (or those given) live, as `python -m reports.lessons` does, each
    timed. A lesson that cannot run here comes back with `not_run` saying why."""
    chosen = LESSONS if lessons is None else tuple(lessons)
    results = []
    for number, lesson in enumerate(chosen, 1):
        progress(f"[{number}/{len(chosen)}] lesson {lesson.name}")
        started = time.perf_counter()
        run = lesson.run()
        seconds = time.perf_counter() - started
        if run.not_run is not None:
            progress(f"lesson {lesson.name} not run: {run.not_run}")
        results.append(LessonResult(
            lesson.name, lesson.title, lesson.pitfall, run.holds,
            mask_addresses(run.broken.summary), mask_addresses(run.fixed.summary),
            run.contract_property, lesson.source("broken"), lesson.source("fixed"),
            run.not_run, lesson.nim, lesson.python, tuple(lesson.notes), seconds,
            run.contract_steps, lesson.reproduction_source, mask_addresses(run.reproduced),
            lesson.library.installed() if lesson.library else None,
        ))  # fmt: skip
    return results


def environment(settings: Settings, command: str, profile: str = "") -> Environment:
    """Python, platform, package versions, the Hypothesis settings (with the `profile`
    they came from, when given) and the command."""
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return Environment(
        python=f"{platform.python_implementation()} {platform.python_version()}",
        platform=f"{platform.system()} {platform.machine()}",
        packages=versions,
        hypothesis={
            "max_examples": settings.max_examples,
            "derandomize": settings.derandomize,
            "programs": ", then ".join(
                f"{chosen.max_examples} of at most {chosen.stateful_step_count} steps"
                for chosen in isolated_passes(settings)
            ),
            "seed": "derived from the state machine's source (derandomize=True)"
            if settings.derandomize
            else "random",
            **({"profile": profile} if profile else {}),
        },
        command=command,
    )
