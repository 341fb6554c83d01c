"""Threads sharing one store and the same plugin names: one default, nothing lost or stale.

A race shows only if a thread switch lands inside the window it needs. Each test runs
its threads `interleaved()`: switches are requested every microsecond (CPython's
default is 5 ms), may happen at any line of the store and the API (not only at the
few points CPython checks by itself), and now and then a thread pauses at one of those
lines while the others run whole operations. A check-then-act sequence is then caught
in the act in a large share of the trials (measured: see each test), so a test that
runs a couple of hundred trials goes red on every run when one is introduced. The
operations each thread makes are seeded; the interleaving is the scheduler's.

`make stress` runs the last test longer (STRESS_OPERATIONS=20000 per thread).
"""

from __future__ import annotations

import bisect
import itertools
import math
import os
import random
import sys
import threading
import time
import types
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

import refimpl._api
import refimpl._store
from refimpl import ContextStore, PluginAPI, PluginContext, PluginContextBase
from refimpl.support.collector import gc_collect

SWITCH_INTERVAL = 1e-6
"""Seconds between requested thread switches while racing."""
JOIN_TIMEOUT = 60.0
_RACED_FILES = frozenset({refimpl._store.__file__, refimpl._api.__file__})
PAUSE_CHANCE = 0.02
"""How often a thread pauses at a line of the store or the API."""
PAUSE_SECONDS = 1e-5
"""How long it pauses for (the kernel makes it some 60 us): the others run meanwhile."""
_pauses = random.Random(0)  # seeded; one C call per draw, atomic under the GIL

Tracer = Callable[[types.FrameType, str, Any], Any]


def _switch_point(frame: types.FrameType, event: str, arg: object) -> Tracer:
    """Called at every line of a raced function: being a Python call, it is a point where
    the interpreter may hand over to another thread; and now and then the thread pauses
    there, so that the others run whole operations while it is stopped mid-way."""
    if _pauses.random() < PAUSE_CHANCE:
        time.sleep(PAUSE_SECONDS)
    return _switch_point


def _trace_raced(frame: types.FrameType, event: str, arg: object) -> Tracer | None:
    return _switch_point if frame.f_code.co_filename in _RACED_FILES else None


@contextmanager
def interleaved() -> Iterator[None]:
    """Within the block, threads started switch every microsecond, and may switch or pause
    at every line of `refimpl._store` and `refimpl._api`. Restores the switch interval
    and the thread trace function afterwards; threads already running are not traced."""
    interval, tracer = sys.getswitchinterval(), threading.gettrace()
    sys.setswitchinterval(SWITCH_INTERVAL)
    threading.settrace(_trace_raced)
    try:
        yield
    finally:
        threading.settrace(tracer)
        sys.setswitchinterval(interval)


def run_threads(targets: list[Callable[[], None]]) -> list[BaseException]:
    """Run one thread per target, released together by a barrier; join them all and
    return what they raised (a thread still running after the timeout counts as raised)."""
    barrier = threading.Barrier(len(targets))
    raised: list[BaseException] = []

    def run(target: Callable[[], None]) -> None:
        try:
            barrier.wait()
            target()
        except BaseException as error:  # reported by the test, not lost in the thread
            raised.append(error)

    threads = [threading.Thread(target=run, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    raised += [
        TimeoutError(f"{thread.name} still running") for thread in threads if thread.is_alive()
    ]
    return raised


CLOCK = itertools.count()
"""One clock for the whole file: operations read it before and after they run, and
tickets take their numbers from it. `next()` on it is one C call, atomic under the GIL."""


class Ticket:
    """A state type whose every instance carries a number of its own (taken from `CLOCK`)
    and the thread that built it, so each context built around one, by a test or as a
    lazy default, is known apart from every other, and so is who built it and when."""

    __slots__ = ("number", "thread")

    def __init__(self) -> None:
        self.number = next(CLOCK)
        self.thread = threading.get_ident()

    def __repr__(self) -> str:
        return f"Ticket({self.number})"


def ticket(context: PluginContextBase) -> int:
    """The number of the ticket a context of this file holds."""
    return cast(Ticket, getattr(context, "data", None)).number


# -- 1. the lazy default: created once, whoever asks first ---------------------------------

TRIALS = 200
RACERS = 4
SHARED = ("a", "b", "c", "d")
DEFAULT_NAMES = tuple(f"plugin_{number}" for number in range(25))


def _fetch_every_name(store: ContextStore, got: dict[str, PluginContextBase]) -> Callable[[], None]:
    def fetch() -> None:
        api = PluginAPI(store)  # each thread its own API, as each plugin has
        for name in SHARED:
            got[name] = api.get_context(name, Ticket)

    return fetch


def test_threads_asking_for_a_missing_context_are_all_handed_the_one_stored() -> None:
    """Threads calling `get_context(name, T)` at once on names with nothing stored: each
    name gets one default, every thread is handed that one, and the store keeps it.

    A check-then-set in the API (`set_plugin_data` after finding nothing, instead of
    the store's atomic `setdefault_plugin_data`) hands out defaults the store then
    replaces: measured, in about 78 % of trials; one in the store (below), in 8-17 %."""
    with interleaved():
        for trial in range(TRIALS):
            store = ContextStore()
            handed: list[dict[str, PluginContextBase]] = [{} for _ in range(RACERS)]
            raised = run_threads([_fetch_every_name(store, got) for got in handed])
            assert raised == [], f"trial {trial}: {raised!r}"
            for name in SHARED:
                stored = store.get_plugin_data(name)
                assert all(got[name] is stored for got in handed), (
                    f"trial {trial}: threads were handed tickets "
                    f"{sorted({ticket(got[name]) for got in handed})} for {name!r}, "
                    f"the store keeps {stored!r}"
                )


def _store_every_default(store: ContextStore, got: list[PluginContextBase]) -> Callable[[], None]:
    mine = [PluginContext[Ticket](name, Ticket()) for name in DEFAULT_NAMES]

    def store_defaults() -> None:
        for name, context in zip(DEFAULT_NAMES, mine, strict=True):
            got.append(store.setdefault_plugin_data(name, context))

    return store_defaults


def test_threads_storing_a_default_directly_all_get_the_one_stored() -> None:
    """Threads calling `ContextStore.setdefault_plugin_data` at once, each with a context
    of its own, on 25 fresh names: every thread gets back the context the store keeps.
    A check-then-set in the store goes wrong in 35-40 % of trials when it is two bare
    lines (`if name not in contexts:` / `contexts[name] = data`), 60-70 % when it looks
    through `get_plugin_data` first."""
    with interleaved():
        for trial in range(TRIALS):
            store = ContextStore()
            handed: list[list[PluginContextBase]] = [[] for _ in range(RACERS)]
            raised = run_threads([_store_every_default(store, got) for got in handed])
            assert raised == [], f"trial {trial}: {raised!r}"
            for index, name in enumerate(DEFAULT_NAMES):
                stored = store.get_plugin_data(name)
                assert all(got[index] is stored for got in handed), (
                    f"trial {trial}: threads got back tickets "
                    f"{sorted({ticket(got[index]) for got in handed})} for {name!r}, "
                    f"the store keeps {stored!r}"
                )


# -- 2. the same names, written, read and removed at once ----------------------------------

ROUNDS = 20
WRITERS = 3
OPERATIONS = 300
NAMES = ("a", "b", "c", "d")
REMOVE_SHARE = 0.75
"""How often the remover removes (it looks at what is left otherwise)."""


@dataclass(frozen=True, slots=True)
class Op:
    """One call into the store or the API, between two readings of `CLOCK`: it took
    effect at some instant in (`start`, `end`). `wrote` for a set, a remove (`value`
    None) or a `get_context` that created the default it returned; a read otherwise."""

    name: str
    start: int
    end: int
    value: PluginContextBase | None
    wrote: bool
    call: str


def _writer(store: ContextStore, rng: random.Random, log: list[Op]) -> Callable[[], None]:
    """Store, fetch and lazily create contexts under the shared names."""
    api = PluginAPI(store)

    def write() -> None:
        for _ in range(OPERATIONS):
            name, action = rng.choice(NAMES), rng.random()
            if action < 0.4:
                context = PluginContext[Ticket](name, Ticket())
                start = next(CLOCK)
                store.set_plugin_data(name, context)
                log.append(Op(name, start, next(CLOCK), context, True, "set_plugin_data"))
            elif action < 0.7:
                start = next(CLOCK)
                got = store.get_plugin_data(name)
                log.append(Op(name, start, next(CLOCK), got, False, "get_plugin_data"))
            else:
                start = next(CLOCK)
                made = api.get_context(name, Ticket)
                end = next(CLOCK)
                mine = made.data.thread == threading.get_ident() and made.data.number > start
                log.append(Op(name, start, end, made, mine, "get_context"))

    return write


def _remover(store: ContextStore, rng: random.Random, log: list[Op]) -> Callable[[], None]:
    """Remove contexts under the shared names, and look at what is left."""

    def remove() -> None:
        for _ in range(OPERATIONS):
            name = rng.choice(NAMES)
            start = next(CLOCK)
            if rng.random() < REMOVE_SHARE:
                store.remove_plugin_data(name)
                log.append(Op(name, start, next(CLOCK), None, True, "remove_plugin_data"))
            else:
                got = store.get_plugin_data(name)
                log.append(Op(name, start, next(CLOCK), got, False, "get_plugin_data"))

    return remove


def linearizability_problems(ops: list[Op]) -> list[str]:
    """What a register that takes each operation at one instant within its call could
    never have answered, for the operations `ops` on one name (its first, a write,
    stands for what the name held before).

    A write is *overtaken* once another write of a different value has run entirely
    after it: a read that starts after that may not answer it. A read answers a context
    only if some write stored that very object (not a copy), began before the read
    ended, and was not overtaken before the read began; it answers None (or creates a
    default) only if some remove (or the initial state) did the same.
    """
    writes = sorted((op for op in ops if op.wrote), key=lambda op: op.start)
    starts = [op.start for op in writes]
    # soonest[i]: the earliest end of writes[i:], of all of them and of those storing a context
    soonest, soonest_context = [math.inf] * (len(writes) + 1), [math.inf] * (len(writes) + 1)
    for i in range(len(writes) - 1, -1, -1):
        soonest[i] = min(soonest[i + 1], writes[i].end)
        stored = writes[i].value is not None
        soonest_context[i] = min(soonest_context[i + 1], writes[i].end if stored else math.inf)
    overtaken: dict[int, float] = {}  # id(write) -> when it was surely overtaken
    by_object: dict[int, Op] = {}
    removes: list[tuple[int, float]] = []  # (start, overtaken), in order of start
    for op in writes:
        after = bisect.bisect_right(starts, op.end)
        if op.value is None:
            removes.append((op.start, soonest_context[after]))
        else:
            overtaken[id(op)] = soonest[after]
            by_object[id(op.value)] = op
    latest = list(itertools.accumulate((when for _, when in removes), max))
    remove_starts = [start for start, _ in removes]

    def held_none(op: Op) -> bool:  # at some instant within op's call
        began = bisect.bisect_left(remove_starts, op.end)
        return began > 0 and latest[began - 1] > op.start

    problems = []
    for op in ops:
        if op.wrote:  # a remove; a set; or a default, created because nothing was stored
            if op.call == "get_context" and not held_none(op):
                problems.append(f"get_context({op.name!r}) created a default over a context")
            continue
        if op.value is None:
            if not held_none(op):
                problems.append(f"{op.call}({op.name!r}) answered None while a context was stored")
            continue
        write = by_object.get(id(op.value))
        if write is None or write.value is not op.value:
            problems.append(f"{op.call}({op.name!r}) answered {op.value!r}, which nobody stored")
        elif write.start > op.end:
            problems.append(f"{op.call}({op.name!r}) answered {op.value!r} before it was stored")
        elif overtaken[id(write)] < op.start:
            problems.append(f"{op.call}({op.name!r}) answered {op.value!r}, replaced before")
    return problems


def _round(store: ContextStore, number: int) -> list[weakref.ref[PluginContextBase]]:
    """Run one round of the threads on `store`, judge every answer, and return weakrefs
    to the contexts stored in it (the round's own references are gone on return)."""
    seeds = random.Random(number)  # seeded: every run does the same operations
    logs: list[list[Op]] = [[] for _ in range(WRITERS + 1)]
    threads = [_writer(store, random.Random(seeds.random()), log) for log in logs[1:]]
    threads.append(_remover(store, random.Random(seeds.random()), logs[0]))
    before = {name: store.get_plugin_data(name) for name in NAMES}
    raised = run_threads(threads)
    assert raised == [], f"round {number}: {raised!r}"
    after = next(CLOCK)
    for name in NAMES:
        initial = Op(name, -2, -1, before[name], True, "the initial state")
        final = Op(name, after, after, store.get_plugin_data(name), False, "finally,")
        ops = [initial, *(op for log in logs for op in log if op.name == name), final]
        problems = linearizability_problems(ops)
        assert problems == [], f"round {number}: {len(problems)} problems: {problems[:3]}"
    return [weakref.ref(op.value) for log in logs for op in log if op.wrote and op.value]


def test_threads_on_the_same_names_while_one_removes_lose_nothing_and_leak_nothing() -> None:
    """Three threads store, fetch and lazily create contexts under four shared names
    while a fourth removes them, for twenty rounds on one store. What must hold:

    - nothing raises, in any thread;
    - every answer is linearizable (see `linearizability_problems`): each operation
      takes effect at one instant within its call, so no fetch answers a context
      replaced or removed before it began (stale), None while a context is surely
      stored (lost), a copy, or another name's context; after each round a name
      holds what such an order leaves it with;
    - nothing leaks: every context ever stored and no longer stored is collected,
      and once the names are removed, all of them are.

    Measured, each of these goes red on every run, most in the first round: a store
    that copies its dict on write, one that takes an entry out before putting the new
    one in, one that removes by rebuilding its dict without the name, one that keeps
    every context it was given."""
    store = ContextStore()
    stored: list[weakref.ref[PluginContextBase]] = []
    with interleaved():
        for number in range(ROUNDS):
            stored += _round(store, number)
    kept = [store.get_plugin_data(name) for name in NAMES]
    gc_collect()  # a context in a reference cycle is freed only by the collector
    leaked = [ref for ref in stored if ref() is not None and not any(ref() is k for k in kept)]
    assert leaked == [], f"released: {len(leaked)} contexts removed or replaced yet alive"
    del kept
    for name in NAMES:
        store.remove_plugin_data(name)
    gc_collect()
    assert all(ref() is None for ref in stored), "released: a removed context is alive"


# -- many threads on names of their own, long (`make stress`) ------------------------------


STRESS_THREADS = 8
STRESS_OPERATIONS = int(os.environ.get("STRESS_OPERATIONS", "2000"))
"""Operations per thread in the long run: `make stress` sets 20 000."""


def _worker(
    store: ContextStore,
    number: int,
    barrier: threading.Barrier,
    results: dict[int, tuple[dict[str, object], list[weakref.ref[Any]]]],
) -> None:
    rng = random.Random(number)  # seeded: every run does the same operations
    names = [f"t{number}-{i}" for i in range(4)]
    model: dict[str, object] = {}
    retired: list[weakref.ref[Any]] = []
    barrier.wait()
    for _ in range(STRESS_OPERATIONS):
        name, action = rng.choice(names), rng.random()
        if action < 0.4:
            if name in model:
                retired.append(weakref.ref(model[name]))
            model[name] = PluginContext[int](name, rng.randrange(100))
            store.set_plugin_data(name, model[name])  # type: ignore[arg-type]
        elif action < 0.8:
            assert store.get_plugin_data(name) is model.get(name), "no-stale, under threads"
        elif name in model:
            retired.append(weakref.ref(model.pop(name)))
            store.remove_plugin_data(name)
    results[number] = (model, retired)


def test_threads_storing_replacing_fetching_and_removing_lose_nothing() -> None:
    store = ContextStore()
    barrier = threading.Barrier(STRESS_THREADS)
    results: dict[int, tuple[dict[str, object], list[weakref.ref[Any]]]] = {}
    threads = [
        threading.Thread(target=_worker, args=(store, n, barrier, results))
        for n in range(STRESS_THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(results) == STRESS_THREADS, "a worker failed or hung"
    expected = {name: context for model, _ in results.values() for name, context in model.items()}
    assert {n: store.get_plugin_data(n) for n in store.names()} == expected, "lost or stale"
    retired = [ref for _, refs in results.values() for ref in refs]
    del results, expected
    gc_collect()
    assert all(ref() is None for ref in retired), "a replaced or removed context leaked"
