"""Lesson 1: an untracked pointer lets the context die as soon as it is stored."""

from __future__ import annotations

import weakref

from broken_variant import UntrackedStore, UseAfterFree
from broken_variant.mutants import WeakrefStore
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
    return f"after the drop the context is {state}; fetched count={fetched.data.count}"


def counter_after(host: Host, frames: int) -> str:
    """Run the counter for `frames` frames and return its screen line."""
    host.register_plugin(simple_counter.make_plugin())
    host.run(frames=frames)
    return host.screen_text()


def broken() -> Outcome:
    try:
        said = store_then_fetch(PluginAPI(UntrackedStore()))
    except UseAfterFree as crash:
        said = "the next access is a use-after-free:\n" + crash.report.format()
    screen = counter_after(Host(WeakrefStore()), 10)
    return Outcome(
        screen != "Frame: 10",
        f"weakref store after 10 frames: {screen!r} (the lazy "
        "default recreated the counter every frame)",
        said,
    )


def fixed() -> Outcome:
    said = store_then_fetch(PluginAPI(ContextStore()))
    screen = counter_after(Host(), 10)
    return Outcome(
        screen != "Frame: 10" or "freed" in said, f"ContextStore after 10 frames: {screen!r}", said
    )


LESSON = Lesson(
    name="untracked-pointer",
    title="Untracked pointer: the context dies as soon as it is stored",
    pitfall=(
        "A registry that keeps only an address (or a weak reference) does not keep the "
        "object alive. Reference counting frees the context the moment `set_context` "
        "returns, so the next access reads freed memory, or, with a lazy default, the "
        "plugin silently starts over every frame: no crash, just a wrong answer."
    ),
    run_broken=broken,
    run_fixed=fixed,
    broken_code=(UntrackedStore.set_plugin_data, UntrackedStore.get_plugin_data),
    fixed_code=(ContextStore.set_plugin_data, ContextStore.get_plugin_data),
    nim=(
        "var pluginData: Table[string, pointer]\n"
        "proc setPluginData(api: PluginAPI, name: string, data: pointer) =\n"
        "  api.pluginData[name] = data   # a raw pointer: ARC does not count it"
    ),
    python="self._addresses[name] = self.heap.alloc(data)  # id(data): nothing counts it",
    contract=ContractCheck(UntrackedStore),
)
