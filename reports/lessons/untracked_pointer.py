"""Lesson 1: an untracked pointer lets the context die as soon as it is stored."""

from __future__ import annotations

import weakref

from broken_variant import UntrackedStore, UseAfterFree
from refimpl import ContextStore, Host, PluginAPI
from refimpl.plugins import simple_counter
from refimpl.plugins.simple_counter import CounterState
from refimpl.support.collector import gc_collect
from reports.lessons._lesson import ContractCheck, Lesson, Outcome


def store_then_fetch(api: PluginAPI) -> str:
    """Store a counter through `api`, drop every outside reference, fetch it back."""
    context = api.set_context("simple_counter", CounterState(count=41))
    alive = weakref.ref(context)
    del context
    gc_collect()
    fetched = api.get_context("simple_counter", CounterState)
    state = "alive" if alive() else "freed"
    return f"after the drop the context is {state}, and its fetch says count={fetched.data.count}"


def counter_after(host: Host, frames: int) -> str:
    """Run the counter for `frames` frames; say what it drew, or why the host stopped it."""
    host.register_plugin(simple_counter.make_plugin())
    host.run(frames=frames)
    if host.failures:
        failure = host.failures[0]
        return f"stopped the counter in its {failure.phase} ({type(failure.error).__name__})"
    return f"drew {host.screen_text()!r} after {frames} frames"


def broken() -> Outcome:
    try:
        said = store_then_fetch(PluginAPI(UntrackedStore()))
    except UseAfterFree as crash:
        said, report = "the next fetch read freed memory", crash.report.format()
    else:
        report = ""
    host = counter_after(Host(UntrackedStore()), 10)
    return Outcome(
        bool(report) or "freed" in said or "stopped" in host,
        f"freed as soon as stored: {said}, and a host on it {host}",
        report,
    )


def fixed() -> Outcome:
    said = store_then_fetch(PluginAPI(ContextStore()))
    host = counter_after(Host(), 10)
    return Outcome("freed" in said or "'Frame: 10'" not in host, f"{said}; a host on it {host}")


LESSON = Lesson(
    name="untracked-pointer",
    title="Untracked pointer: the context dies as soon as it is stored",
    pitfall=(
        "A registry that keeps only an address does not keep the object alive. Reference "
        "counting frees the context the moment `set_context` returns, so the next access "
        "reads freed memory: the seed's crash."
    ),
    run_broken=broken,
    run_fixed=fixed,
    broken_code=(UntrackedStore.set_plugin_data, UntrackedStore.get_plugin_data),
    fixed_code=(ContextStore.set_plugin_data,),
    nim=(
        "var pluginData: Table[string, pointer]\n"
        "proc setPluginData(api: PluginAPI, name: string, data: pointer) =\n"
        "  api.pluginData[name] = data   # a raw pointer: ARC does not count it"
    ),
    python="self._addresses[name] = self.heap.alloc(data)  # id(data): nothing counts it",
    contract=ContractCheck(UntrackedStore, "survival"),
    notes=(
        "A weak reference instead of an address fails without a crash: with the seed's lazy "
        "default, the counter silently starts over every frame (`make report` shows that "
        "host, frame by frame).",
    ),
)
