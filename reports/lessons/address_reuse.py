"""Lesson 2: a stale address reaches whatever CPython put there next."""

from __future__ import annotations

from broken_variant import UntrackedStore, UseAfterFree
from refimpl import ContextStore, PluginContext, PluginStore, context_class
from refimpl.plugins.frame_log import FrameLog
from refimpl.plugins.simple_counter import CounterState
from refimpl.support.reuse import reuse_address
from reports.lessons._lesson import ContractCheck, Lesson, Outcome

TRIES = 5


def counter_then_log(store: PluginStore) -> tuple[object, object]:
    """Store the counter's context without keeping it, then give the log plugin a context,
    placed where CPython would place it: on the counter's old address if that is free.
    Return what the counter's name now answers, and the log's context."""
    log_state = FrameLog()
    counter = PluginContext[CounterState]("simple_counter", CounterState(7))
    counter_address = id(counter)
    store.set_plugin_data("simple_counter", counter)
    del counter  # from here on, only the store can keep it alive

    def make_log() -> PluginContext[FrameLog]:
        return PluginContext[FrameLog]("frame_log", log_state)

    try:
        log_context = reuse_address(counter_address, make_log, attempts=2000)
    except RuntimeError:  # the address is still in use: nothing can take it
        log_context = make_log()
    store.set_plugin_data("frame_log", log_context)
    return store.get_plugin_data("simple_counter"), log_context


def broken() -> Outcome:
    # Something else may grab the freed block first (CPython allocates all the time), so
    # try a few times; a try where the block was taken reads freed memory instead.
    crash = None
    for _ in range(TRIES):
        try:
            answer, log_context = counter_then_log(UntrackedStore())
        except UseAfterFree as error:
            crash = error
            continue
        if answer is log_context:
            return Outcome(
                True,
                "the counter's name now answers another plugin's context (a "
                f"{type(answer).__name__} of {getattr(answer, 'plugin_name', '?')!r})",
                "the counter's address was reused by the log's context",
            )
    if crash is not None:
        return Outcome(
            True,
            "the freed block went to something else this time, so the stale "
            "pointer read freed memory: heap-use-after-free",
            crash.report.format(),
        )
    return Outcome(False, "the stale pointer was neither reused nor dangling")


def fixed() -> Outcome:
    answer, log_context = counter_then_log(ContextStore())
    return Outcome(
        answer is log_context or not isinstance(answer, context_class(CounterState)),
        f"'simple_counter' still answers {type(answer).__name__} with count "
        f"{getattr(getattr(answer, 'data', None), 'count', '?')}: its address was "
        "never free to reuse",
    )


LESSON = Lesson(
    name="address-reuse",
    title="Address reuse: the stale pointer now reaches another plugin's context",
    pitfall=(
        "Freed memory is handed to the next allocation of the same size, and CPython does "
        "this all the time. A dangling address then points at a live object of some other "
        "plugin: the lookup succeeds and returns the wrong thing (a type confusion)."
    ),
    run_broken=broken,
    run_fixed=fixed,
    broken_code=(UntrackedStore.get_plugin_data,),
    fixed_code=(ContextStore.set_plugin_data,),
    nim="let ctx = cast[PluginContext[CounterState]](api.pluginData[name])  # whatever is there",
    python="found = self.heap.deref(address)  # the live object at that address, whoever it is",
    contract=ContractCheck(UntrackedStore, "survival"),
    notes=(
        "The contract names `survival`, as in lesson 1: the counter's context is dead "
        "before anything takes its address, and a dead context comes first. Its `recycle` "
        "step lands a new context on an address just freed, so a store that takes `id()` "
        "for identity is caught too (`IdDedupStore` in `make bench-contract`).",
    ),
)
