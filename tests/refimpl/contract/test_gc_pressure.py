"""The contract holds on the fixed store whatever the garbage collector does: a
collection before every store operation, the collector disabled, a collection at every
allocation. The contract runs in this process, so the collector settings are the store's."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import settings

from refimpl import ContextStore, PluginContextBase
from refimpl.contract import run_contract
from refimpl.support.collector import gc_disabled

GC_BUDGET = settings(max_examples=100, derandomize=True, database=None, deadline=None)


class CollectingStore(ContextStore):
    """The fixed store, collecting garbage before every operation."""

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        gc.collect()
        super().set_plugin_data(name, data)

    def get_plugin_data(self, name: str) -> PluginContextBase | None:
        gc.collect()
        return super().get_plugin_data(name)

    def remove_plugin_data(self, name: str) -> None:
        gc.collect()
        super().remove_plugin_data(name)


@contextmanager
def gc_threshold(*thresholds: int) -> Iterator[None]:
    """Set the collector's thresholds for the block, and restore them afterwards."""
    previous = gc.get_threshold()
    gc.set_threshold(*thresholds)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def in_process(factory: Callable[[], Any]) -> None:
    """The contract run in this process, so that the collector settings of the test are
    the store's (an isolated worker starts with its own)."""
    run = run_contract(factory, settings=GC_BUDGET, isolate=False)
    assert run.violation is None, run.violation


@pytest.mark.slow
def test_contract_holds_with_a_collection_at_every_step() -> None:
    in_process(CollectingStore)


@pytest.mark.slow
def test_contract_holds_with_the_collector_disabled() -> None:
    with gc_disabled():
        in_process(ContextStore)
    assert gc.isenabled()


@pytest.mark.slow
def test_contract_holds_with_a_collection_at_every_allocation() -> None:
    with gc_threshold(1):
        in_process(ContextStore)
    assert gc.get_threshold()[0] != 1
