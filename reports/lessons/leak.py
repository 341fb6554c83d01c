"""Lesson 5: the opposite failure, a registry that never lets go."""

from __future__ import annotations

import objgraph

from broken_variant.mutants import LeakyStore
from refimpl import ContextStore, PluginAPI, PluginStore
from refimpl.plugins.simple_counter import CounterState
from refimpl.support.collector import frozen_gc, gc_collect
from reports.lessons._lesson import ContractCheck, Lesson, Outcome

FRAMES = 50


def live_contexts_over_frames(store: PluginStore) -> list[int]:
    """Replace the counter's context every frame; count live contexts with objgraph."""
    api = PluginAPI(store)
    counts = []
    with frozen_gc():  # objgraph then walks only what this run made
        for frame in range(FRAMES):
            api.set_context("simple_counter", CounterState(count=frame))
            gc_collect()
            counts.append(objgraph.count("PluginContext[CounterState]"))
    return counts


def _outcome(counts: list[int]) -> Outcome:
    grew = counts[-1] > counts[0]
    shown = ", ".join(str(n) for n in counts[:: FRAMES // 10])
    return Outcome(
        grew,
        f"{FRAMES} replacements left {counts[-1]} context{'s' if counts[-1] != 1 else ''} alive",
        f"every {FRAMES // 10} frames: {shown}",
    )


def broken() -> Outcome:
    return _outcome(live_contexts_over_frames(LeakyStore()))


def fixed() -> Outcome:
    return _outcome(live_contexts_over_frames(ContextStore()))


LESSON = Lesson(
    name="leak",
    title="The opposite failure: a registry that never lets go",
    pitfall=(
        "Holding too much is as wrong as holding too little. A registry that keeps every "
        "context it ever saw (an undo history, a cache, a list of 'all instances') keeps "
        "them alive forever: memory grows with every replacement."
    ),
    run_broken=broken,
    run_fixed=fixed,
    broken_code=(LeakyStore,),
    fixed_code=(ContextStore.set_plugin_data,),
    contract=ContractCheck(LeakyStore, "released"),
)
