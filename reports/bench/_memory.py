"""Memory per stored context, measured with tracemalloc: the floor (a bare dict), the
fixed store and the broken one, at each number of contexts asked for."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable, Sequence
from typing import Any

from broken_variant import UntrackedStore
from refimpl import ContextStore, PluginContext, PluginContextBase
from refimpl.plugins.simple_counter import CounterState

__all__ = ["Store", "memory_per_context"]

Store = Callable[[], Any]


class _FloorStore:
    """One dict entry per context and nothing else: the memory floor."""

    def __init__(self) -> None:
        self.contexts: dict[str, PluginContextBase] = {}

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        self.contexts[name] = data


def memory_per_context(make_store: Store, count: int) -> float:
    """Bytes allocated per stored context by `make_store()`'s store, beyond the contexts
    and their names (built before tracing starts)."""
    names = [f"plugin_{number}" for number in range(count)]
    contexts = [PluginContext[CounterState](name, CounterState()) for name in names]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        store = make_store()
        for name, context in zip(names, contexts, strict=True):
            store.set_plugin_data(name, context)
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    del store
    return used / count


def _memory(sizes: Sequence[int], progress: Callable[[str], None]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    stores: list[tuple[str, Store, int]] = [
        ("floor", _FloorStore, max(sizes)),
        ("fixed", ContextStore, max(sizes)),
        ("broken", UntrackedStore, 10_000),
    ]
    for impl, make, largest in stores:
        for count in (size for size in sizes if size <= largest):
            progress(f"memory: {impl} store, {count:,} contexts (tracemalloc)")
            rows.append(
                {
                    "implementation": impl,
                    "contexts": count,
                    "bytes_per_context": round(memory_per_context(make, count), 1),
                }
            )
    floors = {r["contexts"]: r["bytes_per_context"] for r in rows if r["implementation"] == "floor"}
    for row in rows:
        row["ratio_to_floor"] = round(row["bytes_per_context"] / floors[row["contexts"]], 2)
    return rows
