"""Lesson 4: freeing by hand on top of automatic freeing frees twice."""

from __future__ import annotations

import weakref

from broken_variant import BrokenHost, DoubleFree
from refimpl import Host
from refimpl.plugins import bundled_plugins
from refimpl.support.collector import gc_collect
from reports.lessons._lesson import Lesson, Outcome
from reports.lessons._source import Excerpt


def broken() -> Outcome:
    host = BrokenHost()
    for module in bundled_plugins():
        host.register_plugin(module)
    try:
        host.shutdown()
    except DoubleFree as crash:
        return Outcome(
            True,
            "shutdown freed a context CPython had already freed: double-free",
            crash.report.format(),
        )
    return Outcome(False, "shutdown completed")


def fixed() -> Outcome:
    host = Host()
    for module in bundled_plugins():
        host.register_plugin(module)
    contexts = [weakref.ref(host.store.get_plugin_data(n)) for n in host.plugin_names]
    host.shutdown()
    gc_collect()
    freed = sum(ref() is None for ref in contexts)
    return Outcome(
        freed != len(contexts),
        f"shutdown released {freed} of {len(contexts)} contexts, each exactly once",
    )


LESSON = Lesson(
    name="double-free",
    title="Double free in the destructor",
    pitfall=(
        "When a runtime already frees objects automatically, freeing them again by hand "
        "frees memory twice. The seed's host ran its own cleanup over the pointer table at "
        "shutdown, after ARC had freed the contexts: the crash in `eqdestroy`."
    ),
    run_broken=broken,
    run_fixed=fixed,
    broken_code=(BrokenHost._release_contexts,),
    fixed_code=(
        Excerpt(
            Host._release_contexts,
            (
                "for name in [*self._slots, *granted]:",
                "try:",
                "self.store.remove_plugin_data(name)",
            ),
        ),
    ),
    nim=(
        "for name, p in host.pluginData:\n"
        "  `=destroy`(cast[PluginContext[T]](p)[])   # ARC already freed it"
    ),
    python="self.store.heap.free(address)  # CPython already freed it",
    notes=("No store property covers this: the bug is in the host's shutdown, not the store.",),
)
