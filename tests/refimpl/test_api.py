"""PluginAPI: typed access with a checked downcast, lazy defaults and per-plugin scope."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import settings

from broken_variant.mutants import WarmingUpStore
from refimpl import (
    ContextStore,
    ContextTypeError,
    Host,
    PluginAPI,
    PluginContext,
    PluginModule,
    Screen,
    get_context,
    set_context,
)
from refimpl.contract import check_store
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


# -- the room has no back door -------------------------------------------------------------


def public_reach(root: object, depth: int = 3) -> list[tuple[str, object]]:
    """Every object reachable from `root` through public attributes (no leading `_`),
    `depth` steps deep, with the path that reaches it."""
    found: list[tuple[str, object]] = []
    frontier: list[tuple[str, object]] = [("api", root)]
    seen = {id(root)}
    for _ in range(depth):
        next_frontier: list[tuple[str, object]] = []
        for path, obj in frontier:
            for attribute in dir(obj):
                if attribute.startswith("_"):
                    continue
                try:
                    value = getattr(obj, attribute)
                except Exception:  # a property that refuses is no way in
                    continue
                if id(value) not in seen:
                    seen.add(id(value))
                    found.append((f"{path}.{attribute}", value))
                    next_frontier.append((f"{path}.{attribute}", value))
        frontier = next_frontier
    return found


def test_an_api_handed_to_a_plugin_reaches_no_store_screen_host_or_other_api() -> None:
    apis: dict[str, PluginAPI] = {}

    def keep(name: str) -> PluginModule:
        def init(api: PluginAPI) -> None:
            apis[name] = api

        return PluginModule(name=name, init=init)

    store = ContextStore()
    host = Host(store)
    host.register_plugin(keep("mine"))
    host.register_plugin(keep("other"), may_write=["mine"])
    forbidden = {id(store): "the store", id(host): "the host", id(host.screen): "the screen"}
    forbidden[id(apis["other"])] = "another plugin's API"
    for path, value in public_reach(apis["mine"]):
        assert id(value) not in forbidden, f"{path} reaches {forbidden[id(value)]}"
        assert not isinstance(value, ContextStore | Host | PluginAPI | Screen), path


def test_a_plugin_still_draws_through_its_api() -> None:
    host = Host()
    host.register_plugin(PluginModule(name="p", render=lambda api: api.draw(0, 0, "hello")))
    host.run(frames=1)
    assert host.screen_text() == "hello"


def test_an_apis_scope_cannot_be_widened_from_inside() -> None:
    store = ContextStore()
    other = PluginAPI(store).set_context("other", 1)
    scoped = PluginAPI(store, owner="mine")
    for attribute, value in [("owner", "other"), ("may_write", frozenset({"other"}))]:
        with pytest.raises(AttributeError):
            setattr(scoped, attribute, value)
    with pytest.raises(PermissionError):
        scoped.set_context("other", 2)
    assert store.get_plugin_data("other") is other


# -- a closed API refuses every call ------------------------------------------------------------


class NeverFetched:
    """A state type no open API ever fetches: its fetch takes the checked path."""


CALLS: dict[str, Callable[[PluginAPI], object]] = {
    "get_context": lambda api: api.get_context("mine", int),
    "get_context, checked path": lambda api: api.get_context("mine", NeverFetched),
    "set_context": lambda api: api.set_context("mine", 2),
    "get_plugin_data": lambda api: api.get_plugin_data("mine"),
    "set_plugin_data": lambda api: api.set_plugin_data("mine", PluginContext[int]("mine", 3)),
    "remove_plugin_data": lambda api: api.remove_plugin_data("mine"),
    "draw": lambda api: api.draw(0, 0, "x"),
    "get_context()": lambda api: get_context(api, "mine", int),
    "set_context()": lambda api: set_context(api, "mine", 4),
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
@pytest.mark.parametrize("stored", [True, False], ids=["stored", "empty"])
def test_a_closed_api_refuses_every_call_and_changes_nothing(
    call: Callable[[PluginAPI], object], stored: bool
) -> None:
    store = ContextStore()
    api = PluginAPI(store, owner="mine")
    kept = api.set_context("mine", 1)  # a context of the right type: the fast path would answer
    api.close()
    if not stored:
        store.remove_plugin_data("mine")
    with pytest.raises(RuntimeError, match="plugin 'mine' is closed: its host is shut down"):
        call(api)
    assert store.names() == (["mine"] if stored else [])
    assert store.get_plugin_data("mine") is (kept if stored else None)


def test_the_api_asks_a_store_through_its_getter_as_it_is_at_each_call() -> None:
    store = WarmingUpStore()
    api = PluginAPI(store)
    api.set_context("simple_counter", CounterState(count=1))
    api.set_context("log", FrameLog())  # the store's warm-up: a new getter over a new table
    api.remove_plugin_data("simple_counter")
    fresh = api.get_context("simple_counter", CounterState)
    assert fresh.data.count == 0, "a new default, not the removed context the old table holds"
    assert store.get_plugin_data("simple_counter") is fresh


@pytest.mark.slow
def test_the_contract_holds_on_a_store_that_rebinds_its_getter() -> None:
    """Before `PluginAPI` asked the getter as it is at each call, the contract's typed
    fetches read the old table and named this correct store `released`."""
    check_store(WarmingUpStore, settings=settings(max_examples=200, derandomize=True))
