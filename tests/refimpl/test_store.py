"""ContextStore: counted references that keep contexts alive exactly as long as stored."""

from __future__ import annotations

import weakref
from collections.abc import Callable

import pytest

from refimpl import ContextStore, PluginContext
from refimpl.plugins.simple_counter import CounterState
from refimpl.support.collector import gc_collect


def test_stored_context_survives_gc() -> None:
    store = ContextStore()
    context = PluginContext[CounterState]("simple_counter", CounterState(count=7))
    alive = weakref.ref(context)
    store.set_plugin_data("simple_counter", context)
    del context
    gc_collect()
    fetched = store.get_plugin_data("simple_counter")
    assert alive() is not None, "survival: the stored context was freed"
    assert fetched is alive(), "no-stale: the store answered another object"
    assert isinstance(fetched, PluginContext[CounterState])  # type: ignore[misc]  # a runtime class per T is the promise under test
    assert fetched.data.count == 7


@pytest.mark.parametrize("how", ["remove", "replace"])
def test_context_is_released_once_removed_or_replaced(how: str) -> None:
    store = ContextStore()
    store.set_plugin_data("a", PluginContext[int]("a", 1))
    first = weakref.ref(store.get_plugin_data("a"))
    if how == "remove":
        store.remove_plugin_data("a")
        assert store.get_plugin_data("a") is None
    else:
        store.set_plugin_data("a", PluginContext[int]("a", 2))
    assert first() is None, f"released: the store kept a {how}d context alive"


def test_removing_an_absent_name_changes_nothing() -> None:
    store = ContextStore()
    store.set_plugin_data("a", PluginContext[int]("a", 1))
    store.remove_plugin_data("b")
    assert store.names() == ["a"]


BAD_NAMES: list[tuple[object, type[Exception], str]] = [
    (None, TypeError, "must be a str"),
    (42, TypeError, "must be a str"),
    (b"bytes", TypeError, "must be a str"),
    ("", ValueError, "empty or blank"),
    ("   ", ValueError, "empty or blank"),
    ("bell\x07", ValueError, "control character"),
    ("x" * 257, ValueError, "at most 256"),
    (["unhashable"], TypeError, "must be a str"),
]


@pytest.mark.parametrize(
    ("name", "error", "message"), BAD_NAMES, ids=[repr(name)[:20] for name, _, _ in BAD_NAMES]
)
@pytest.mark.parametrize("operation", ["set", "get", "remove"])
def test_bad_name_raises_and_changes_nothing(
    operation: str, name: object, error: type[Exception], message: str
) -> None:
    store = ContextStore()
    kept = PluginContext[int]("kept", 1)
    store.set_plugin_data("kept", kept)
    bad_name: str = name  # type: ignore[assignment]  # the bad input under test
    calls: dict[str, Callable[[], object]] = {
        "set": lambda: store.set_plugin_data(bad_name, PluginContext[int]("x", 1)),
        "get": lambda: store.get_plugin_data(bad_name),
        "remove": lambda: store.remove_plugin_data(bad_name),
    }
    with pytest.raises(error, match=message):
        calls[operation]()
    assert store.names() == ["kept"]
    assert store.get_plugin_data("kept") is kept


@pytest.mark.parametrize(
    "data",
    [None, 1, "text", CounterState(), object()],
    ids=["None", "int", "str", "bare-state", "object"],
)
def test_data_that_is_not_a_context_raises_naming_the_plugin(data: object) -> None:
    store = ContextStore()
    kept = PluginContext[int]("counter", 1)
    store.set_plugin_data("counter", kept)
    with pytest.raises(TypeError, match=r"plugin 'counter': data must be a PluginContextBase"):
        store.set_plugin_data("counter", data)  # type: ignore[arg-type]
    assert store.get_plugin_data("counter") is kept
