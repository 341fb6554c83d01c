"""PluginContext[T]: a distinct, cached, invariant runtime class per state type."""

from __future__ import annotations

import pytest

from refimpl import ContextTypeError, PluginContext, PluginContextBase


class Parent:
    pass


class Child(Parent):
    pass


def test_specialised_class_is_cached_per_state_type() -> None:
    assert PluginContext[int] is PluginContext[int]
    assert PluginContext[int] is not PluginContext[str]  # type: ignore[comparison-overlap]  # distinct at runtime
    assert PluginContext[list[str]] is PluginContext[list[str]]


def test_specialised_class_is_a_real_runtime_class() -> None:
    int_context: type = PluginContext[int]  # typed `type`: mypy sees these as generic aliases
    str_context: type = PluginContext[str]
    context = PluginContext[int]("counter", 3)
    assert isinstance(context, int_context)
    assert isinstance(context, PluginContextBase)
    assert not isinstance(context, str_context)
    assert type(context).__name__ == "PluginContext[int]"


def test_specialisation_is_invariant_like_nim_generics() -> None:
    parent_context: type = PluginContext[Parent]
    context = PluginContext[Child]("child", Child())
    assert not isinstance(context, parent_context)
    assert not issubclass(PluginContext[Child], parent_context)


def test_context_takes_name_and_data_by_keyword_or_position() -> None:
    by_keyword = PluginContext[int](plugin_name="a", data=1)
    by_position = PluginContext[int]("a", 1)
    assert (by_keyword.plugin_name, by_keyword.data) == (by_position.plugin_name, by_position.data)


def test_bare_context_cannot_be_built() -> None:
    with pytest.raises(TypeError, match=r"plugin 'a'.*PluginContext\[T\]"):
        PluginContext("a", 1)


def test_context_refuses_data_of_another_type() -> None:
    with pytest.raises(TypeError, match=r"plugin 'a'.*needs data of type int, got str"):
        PluginContext[int]("a", "one")  # type: ignore[arg-type]  # the mistake under test


def test_specialised_class_cannot_be_specialised_again() -> None:
    with pytest.raises(TypeError, match="already specialised"):
        PluginContext[int][str]  # the mistake under test


def test_context_type_error_carries_its_culprits() -> None:
    error = ContextTypeError("counter", PluginContext[int], PluginContext[str])
    assert isinstance(error, TypeError)
    assert (error.plugin_name, error.stored_type, error.requested_type) == (
        "counter",
        PluginContext[int],
        PluginContext[str],
    )
    assert str(error) == (
        "plugin 'counter' stores PluginContext[int], asked for PluginContext[str]"
    )
