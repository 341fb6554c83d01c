"""Hostile input to the store, the API and the host: wrong types, `None`, blank and
1000-character names, unhashable objects, a typed fetch of the wrong type on either path.
Each is answered or refused with an error naming the fault, and changes nothing."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refimpl import (
    ContextStore,
    ContextTypeError,
    Host,
    KeyEvent,
    PluginAPI,
    PluginContext,
    PluginModule,
)
from refimpl._context import context_class
from refimpl.plugins import bundled_plugins
from refimpl.plugins.simple_counter import CounterState


def snapshot(store: ContextStore) -> dict[str, int]:
    """Which object each name holds, by identity."""
    return {name: id(store.get_plugin_data(name)) for name in store.names()}


# -- 1. bad input, tried systematically ----------------------------------------------------

hostile_objects = st.one_of(
    st.none(), st.integers(), st.floats(), st.binary(), st.booleans(),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(), st.integers(), max_size=1),
    st.text(max_size=300), st.sampled_from(["", " ", "\t\n", "a\x00b", "x" * 1000, "\x1b[31m"]),
)  # fmt: skip


@given(name=hostile_objects)
def test_any_name_is_stored_or_refused_cleanly(name: object) -> None:
    store = ContextStore()
    kept = PluginContext[int]("kept", 1)
    store.set_plugin_data("kept", kept)
    before = snapshot(store)
    try:
        store.set_plugin_data(name, PluginContext[int]("x", 2))  # type: ignore[arg-type]
    except (TypeError, ValueError) as error:  # either outcome is allowed: check which
        assert "plugin name" in str(error)  # noqa: PT017  # the refusal names the fault
        assert snapshot(store) == before
    else:
        assert isinstance(name, str)
        assert name.strip()
        assert store.get_plugin_data(name) is not None


@given(data=hostile_objects)
def test_any_data_that_is_not_a_context_is_refused(data: object) -> None:
    store = ContextStore()
    kept = PluginContext[int]("counter", 1)
    store.set_plugin_data("counter", kept)
    with pytest.raises(TypeError, match="plugin 'counter': data must be a PluginContextBase"):
        store.set_plugin_data("counter", data)  # type: ignore[arg-type]
    assert store.get_plugin_data("counter") is kept


@given(name=hostile_objects, state_type=st.sampled_from([int, str, CounterState, 3, None]))
def test_any_typed_fetch_answers_or_refuses_cleanly(name: object, state_type: Any) -> None:
    store = ContextStore()
    api = PluginAPI(store)
    api.set_context("counter", CounterState(3))
    before = snapshot(store)
    try:
        api.get_context(name, state_type)  # type: ignore[arg-type]
    except ContextTypeError:
        assert snapshot(store) == before
    except (TypeError, ValueError) as error:  # either outcome is allowed: check which
        assert "plugin" in str(error)  # noqa: PT017  # the refusal names the plugin
        assert snapshot(store) == before


def _not_a_plugin() -> object:
    return "simple_counter"


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda host: host.register_plugin(_not_a_plugin()), TypeError, "needs a PluginModule"),
        (lambda host: host.register_plugin(PluginModule(name="")), ValueError, "empty or blank"),
        (lambda host: host.register_plugin(PluginModule(name="\x07")), ValueError, "control"),
        (lambda host: host.register_plugin(PluginModule(name="p", update=42)),  # type: ignore[arg-type]
         TypeError, "plugin 'p': update must be callable"),
        (lambda host: host.register_plugin(PluginModule(name="p"), may_read="frame_log"),
         TypeError, "plugin 'p': may_read and may_write take a list"),
        (lambda host: host.register_plugin(PluginModule(name="p"), may_write=[None]),
         TypeError, "must be a str"),
        (lambda host: host.dispatch_event("r"), TypeError, "needs a KeyEvent"),
        (lambda host: host.dispatch_event(KeyEvent(3)), TypeError, "key must be a str"),  # type: ignore[arg-type]
        (lambda host: host.run(frames=-1), ValueError, "frames must be"),
    ],
    ids=["not-a-module", "empty-name", "control-name", "callback-not-callable",
         "grant-as-str", "grant-not-a-name", "event-not-an-event", "event-key", "frames"],
)  # fmt: skip
def test_host_refuses_bad_input_and_changes_nothing(
    call: Callable[[Host], object], error: type[Exception], message: str
) -> None:
    store = ContextStore()
    host = Host(store)
    for module in bundled_plugins():
        host.register_plugin(module)
    before = (snapshot(store), host.plugin_names, host.frame_count)
    with pytest.raises(error, match=message):
        call(host)
    assert (snapshot(store), host.plugin_names, host.frame_count) == before


# -- 2. the typed fetch's fast path --------------------------------------------------------


class Wanted:
    """The state type asked for."""


class Other:
    """A state type stored instead."""


class WantedChild(Wanted):
    """A subclass: `PluginContext[WantedChild]` is still no `PluginContext[Wanted]`."""


class SubclassedStore(ContextStore):
    """The fixed store under another class: the API looks through `get_plugin_data`
    instead of reading the store's dict."""


@pytest.mark.parametrize("make_store", [ContextStore, SubclassedStore], ids=["dict", "store"])
def test_a_wrong_type_fetch_on_the_fast_path_raises_and_changes_nothing(
    make_store: Callable[[], ContextStore],
) -> None:
    # Built first, whatever ran before: the class cache now knows `Wanted`, which is what
    # sends get_context down its fast path (one look-up, then the isinstance check).
    wanted = context_class(Wanted)
    for owner, stored_type in itertools.product([None, "p"], [Other, WantedChild]):
        case = f"owner={owner!r}, stored PluginContext[{stored_type.__name__}]"
        store = make_store()
        stored = context_class(stored_type)("p", stored_type())
        store.set_plugin_data("p", stored)
        api = PluginAPI(store, owner=owner)
        with pytest.raises(ContextTypeError) as caught:
            api.get_context("p", Wanted)
        assert caught.value.stored_type is type(stored), case
        assert caught.value.requested_type is wanted, case
        assert store.names() == ["p"], f"checked-downcast: the store changed ({case})"
        assert store.get_plugin_data("p") is stored, f"checked-downcast: not the same ({case})"
