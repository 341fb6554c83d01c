"""Side-by-side timings for `python -m reports.bench` (pytest-benchmark), one process.

Each group puts the fixed store, the broken store and the floor (a bare dict look-up
with the type check inline) next to each other; the frame group runs the host with
1 to 1000 plugins. In `make test` these run once each as a smoke test.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from broken_variant import UncheckedPluginAPI, UntrackedStore
from refimpl import ContextStore, Host, PluginAPI, PluginContext, PluginContextBase
from refimpl.plugins import simple_counter
from refimpl.plugins.simple_counter import CounterState

NAME = "simple_counter"
COUNTER: type[PluginContext[CounterState]] = PluginContext[CounterState]
_COUNTER_CLASS: type = COUNTER  # typed `type`: a runtime class, for isinstance


class Floor:
    """The floor: a plain dict, the type check done inline, no validation."""

    def __init__(self) -> None:
        self.contexts: dict[str, PluginContextBase] = {}

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        if isinstance(data, PluginContextBase):
            self.contexts[name] = data

    def get_plugin_data(self, name: str) -> PluginContextBase | None:
        return self.contexts.get(name)

    def get_context(self, name: str, state_type: type[Any]) -> PluginContextBase:
        found = self.contexts[name]
        if isinstance(found, _COUNTER_CLASS):
            return found
        raise TypeError(name)


def _targets(context: PluginContextBase) -> dict[str, tuple[Any, Any]]:
    fixed, broken, floor = ContextStore(), UntrackedStore(), Floor()
    for store in (fixed, broken, floor):
        store.set_plugin_data(NAME, context)
    return {
        "fixed": (fixed, PluginAPI(fixed)),
        "broken": (broken, UncheckedPluginAPI(broken)),
        "floor": (floor, floor),
    }


IMPLEMENTATIONS = ("fixed", "broken", "floor")


@pytest.fixture
def context() -> PluginContextBase:
    """A context kept alive by the test, so that even the broken store can answer."""
    return COUNTER(NAME, CounterState())


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def bench_get_plugin_data(
    benchmark: BenchmarkFixture, context: PluginContextBase, impl: str
) -> None:
    store, _ = _targets(context)[impl]
    benchmark.group = "get_plugin_data"
    assert benchmark(store.get_plugin_data, NAME) is context


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def bench_set_plugin_data(
    benchmark: BenchmarkFixture, context: PluginContextBase, impl: str
) -> None:
    store, _ = _targets(context)[impl]
    benchmark.group = "set_plugin_data"
    benchmark(store.set_plugin_data, NAME, context)
    assert store.get_plugin_data(NAME) is context


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def bench_get_context(benchmark: BenchmarkFixture, context: PluginContextBase, impl: str) -> None:
    _, api = _targets(context)[impl]
    benchmark.group = "get_context"
    assert benchmark(api.get_context, NAME, CounterState) is context


def _host(plugins: int) -> Host:
    host = Host()
    for number in range(plugins):
        host.register_plugin(simple_counter.make_plugin(f"counter_{number}"))
    return host


@pytest.mark.parametrize("plugins", [1, 10, 100, 1000])
def bench_frame(benchmark: BenchmarkFixture, plugins: int) -> None:
    host = _host(plugins)
    benchmark.group = "frame"
    benchmark.extra_info["plugins"] = plugins
    run: Callable[..., object] = host.run
    benchmark(run, frames=1)
    assert host.frame_count >= 1
    assert host.failures == []
