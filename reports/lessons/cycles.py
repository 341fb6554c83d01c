"""Lesson 6: a context that points back to its host forms a cycle."""

from __future__ import annotations

import gc
import weakref
from dataclasses import dataclass, field

from refimpl import Host, PluginAPI, PluginModule
from refimpl.support.collector import gc_disabled
from reports.lessons._lesson import Lesson, Outcome


@dataclass
class HostAwareState:
    """A plugin state that keeps its host at hand, strongly: a reference cycle."""

    host: Host | None = None


@dataclass
class WeakHostState:
    """The same state with a weak back-reference: no cycle."""

    host: weakref.ref[Host] | None = field(default=None)


def _plugin(weak: bool) -> PluginModule:
    def init(api: PluginAPI) -> None:
        if weak:
            api.get_context("aware", WeakHostState).data.host = weakref.ref(_hosts[-1])
        else:
            api.get_context("aware", HostAwareState).data.host = _hosts[-1]

    return PluginModule(name="aware", init=init)


_hosts: list[Host] = []


def host_lifetime(weak: bool) -> tuple[bool, bool]:
    """Build a host whose plugin state points back to it, drop it with the collector off,
    and say whether it was freed then, and after one `gc.collect()`."""
    with gc_disabled():
        _hosts.append(Host())
        _hosts[-1].register_plugin(_plugin(weak))
        alive = weakref.ref(_hosts.pop())
        freed_by_counting = alive() is None
        gc.collect()
        freed_by_collector = alive() is None
    return freed_by_counting, freed_by_collector


def broken() -> Outcome:
    counted, collected = host_lifetime(weak=False)
    return Outcome(
        not counted,
        f"reference counting alone (ARC) {'freed' if counted else 'never freed'} the host; "
        f"the cycle collector (ORC) {'did' if collected else 'did not either'}",
    )


def fixed() -> Outcome:
    counted, _ = host_lifetime(weak=True)
    return Outcome(
        not counted,
        f"with a weak back-reference, reference counting alone freed the host: {counted}",
    )


LESSON = Lesson(
    name="cycles",
    title="Reference cycles: what plain reference counting never frees",
    pitfall=(
        "A host holds its plugins' contexts and a context holds its host: each keeps the "
        "other's count above zero, so plain reference counting (Nim's ARC) never frees "
        "them. A cycle collector (Nim's ORC, CPython's `gc`) does, later. A weak "
        "back-reference breaks the cycle, so counting alone frees it at once."
    ),
    run_broken=broken,
    run_fixed=fixed,
    broken_code=(HostAwareState,),
    fixed_code=(WeakHostState,),
    nim=(
        "type HostAware = ref object of PluginContextBase\n"
        "  host: Host           # --mm:arc leaks the cycle; --mm:orc collects it"
    ),
    python="state.host = host                # gc.disable(): leaks; gc.collect(): collects",
)
