"""PluginAPI: typed access with a checked downcast, lazy defaults and per-plugin scope."""

from __future__ import annotations

import pytest

from refimpl import (
    ContextStore,
    ContextTypeError,
    PluginAPI,
    PluginContext,
    get_context,
    set_context,
)
from refimpl.plugins.frame_log import FrameLog
from refimpl.plugins.simple_counter import CounterState


def test_get_context_creates_and_stores_a_default_once() -> None:
    store = ContextStore()
    api = PluginAPI(store)
    first = api.get_context("simple_counter", CounterState)
    assert isinstance(first, PluginContext[CounterState])  # type: ignore[misc]  # a runtime class per T is the promise under test
    assert first.data == CounterState(count=0)
    assert store.get_plugin_data("simple_counter") is first
    assert api.get_context("simple_counter", CounterState) is first


def test_wrong_type_fetch_raises_and_changes_nothing() -> None:
    store = ContextStore()
    api = PluginAPI(store)
    stored = api.set_context("simple_counter", CounterState(count=3))
    with pytest.raises(ContextTypeError) as caught:
        api.get_context("simple_counter", FrameLog)
    assert str(caught.value) == (
        "plugin 'simple_counter' stores PluginContext[CounterState], "
        "asked for PluginContext[FrameLog]"
    )
    assert store.get_plugin_data("simple_counter") is stored
    assert stored.data.count == 3


def test_right_type_fetch_returns_the_same_object() -> None:
    api = PluginAPI(ContextStore())
    stored = api.set_context("log", FrameLog())
    assert api.get_context("log", FrameLog) is stored


def test_set_context_wraps_data_in_a_context_of_its_own_type() -> None:
    store = ContextStore()
    state = CounterState(count=5)
    context = set_context(PluginAPI(store), "simple_counter", state)
    assert type(context) is PluginContext[CounterState]
    assert context.plugin_name == "simple_counter"
    assert context.data is state
    assert store.get_plugin_data("simple_counter") is context


def test_module_level_helpers_reach_the_same_context() -> None:
    api = PluginAPI(ContextStore())
    stored = set_context(api, "a", 1)
    assert get_context(api, "a", int) is stored


class NeedsArguments:
    def __init__(self, size: int) -> None:
        self.size = size


class RaisesOnBuild:
    def __init__(self) -> None:
        raise RuntimeError("no database")


@pytest.mark.parametrize(
    ("state_type", "message"),
    [
        (NeedsArguments, r"plugin 'p': cannot build a default NeedsArguments with no arguments"),
        (RaisesOnBuild, r"plugin 'p': cannot build a default RaisesOnBuild.*no database"),
        (42, r"plugin 'p': state type must be a class"),
    ],
    ids=["needs-arguments", "constructor-raises", "not-a-class"],
)
def test_state_type_that_cannot_be_built_raises_and_stores_nothing(
    state_type: object, message: str
) -> None:
    store = ContextStore()
    with pytest.raises(TypeError, match=message):
        PluginAPI(store).get_context("p", state_type)  # type: ignore[arg-type]
    assert store.names() == []


def test_scoped_api_refuses_another_plugins_context() -> None:
    store = ContextStore()
    PluginAPI(store).set_context("other", 1)
    scoped = PluginAPI(store, owner="mine")
    with pytest.raises(PermissionError, match=r"plugin 'mine' may not read .* plugin 'other'"):
        scoped.get_context("other", int)
    with pytest.raises(PermissionError, match=r"plugin 'mine' may not write .* plugin 'other'"):
        scoped.remove_plugin_data("other")
    assert store.names() == ["other"]


def test_granted_read_allows_reading_but_not_writing() -> None:
    store = ContextStore()
    other = PluginAPI(store).set_context("other", 1)
    scoped = PluginAPI(store, owner="mine", may_read=["other"])
    assert scoped.get_context("other", int) is other
    with pytest.raises(PermissionError, match="may not write"):
        scoped.set_context("other", 2)
    assert store.get_plugin_data("other") is other


def test_a_grant_given_as_one_str_is_refused() -> None:
    with pytest.raises(TypeError, match="take a list of plugin names, not one str"):
        PluginAPI(ContextStore(), owner="mine", may_read="other")
