"""PluginContext[T]: a distinct, cached, invariant runtime class per state type."""

from __future__ import annotations

import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Optional, TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refimpl import (
    ContextStore,
    ContextTypeError,
    Host,
    PluginAPI,
    PluginContext,
    PluginContextBase,
    PluginModule,
)

T = TypeVar("T")


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


def test_a_wrong_type_fetch_raises_an_error_carrying_the_real_culprits() -> None:
    api = PluginAPI(ContextStore())
    api.set_context("counter", 3)
    with pytest.raises(ContextTypeError) as caught:
        api.get_context(Shouting("counter"), str)
    error = caught.value
    assert type(error.plugin_name) is str, "the culprit is the plain name, not the caller's object"
    assert (error.plugin_name, error.stored_type, error.requested_type) == (
        "counter",
        PluginContext[int],
        PluginContext[str],
    )


class Shouting(str):
    """A name that claims to be every other name."""

    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = str.__hash__


@pytest.mark.parametrize(
    "state_type",
    [5, "int", None, b"int", Optional[int], int | str, Literal["a"], (int, str)],  # noqa: UP045  # both spellings of a union are under test
    ids=["int-value", "str", "None", "bytes", "Optional", "union", "Literal", "tuple"],
)
def test_a_state_type_that_is_not_a_type_is_refused(state_type: object) -> None:
    with pytest.raises(TypeError, match="state type must be a class or a generic alias over one"):
        PluginContext[state_type]  # type: ignore[valid-type]  # the mistake under test
    assert state_type not in PluginContext._classes, "a refused T was cached"


@pytest.mark.parametrize(
    ("state_type", "data"),
    [(list[str], ["a"]), (dict[str, int], {}), (type(None), None), (Any, object())],
    ids=["list[str]", "dict[str, int]", "NoneType", "Any"],
)
def test_a_type_or_a_generic_alias_over_one_is_accepted(state_type: Any, data: object) -> None:
    context = PluginContext[state_type]("a", data)
    assert context.data is data
    assert PluginContext[state_type] is type(context)


def alias_inside_a_generic_function(value: T) -> object:
    return PluginContext[T]  # as `cast(PluginContext[T], ...)` evaluates it


def test_a_typevar_gives_a_typing_alias_never_a_runtime_class() -> None:
    alias = alias_inside_a_generic_function(1)
    assert not isinstance(alias, type)
    assert T not in PluginContext._classes


def test_a_subclass_cannot_pollute_the_class_cache() -> None:
    real = PluginContext[Parent]

    class Audited(PluginContext[T]):  # a generic subclass, as a user might write one
        __slots__ = ()

    audited: type = Audited[Parent]
    assert audited is not real
    assert issubclass(audited, Audited)
    assert PluginContext[Parent] is real

    class Fresh:  # never specialised before: the subclass is first to ask for it
        pass

    audited_fresh: type = Audited[Fresh]
    assert PluginContext[Fresh] is not audited_fresh
    assert not issubclass(PluginContext[Fresh], Audited), "PluginContext[Fresh] is Audited's"
    assert PluginContext[Fresh].__bases__ == (PluginContext,)


@pytest.mark.parametrize(
    ("plugin_name", "error"),
    [("", ValueError), ("a\u202eb", ValueError), (None, TypeError), (3, TypeError)],
    ids=["empty", "bidi-override", "None", "int"],
)
@pytest.mark.parametrize("build", ["base", "typed"])
def test_a_context_checks_its_own_plugin_name(
    build: str, plugin_name: object, error: type[Exception]
) -> None:
    builds: dict[str, Callable[[], object]] = {
        "base": lambda: PluginContextBase(plugin_name),  # type: ignore[arg-type]  # bad input
        "typed": lambda: PluginContext[int](plugin_name, 1),  # type: ignore[arg-type]  # bad input
    }
    with pytest.raises(error, match="plugin name"):
        builds[build]()


def test_a_context_keeps_its_plugin_name_as_a_plain_str() -> None:
    assert type(PluginContext[int](Shouting("a"), 1).plugin_name) is str
    assert type(PluginContextBase(Shouting("a")).plugin_name) is str


# -- a state type that claims to be another ------------------------------------------------------


def impostor_of(victim: object, calls: list[str]) -> type:
    """A class whose metaclass says it equals everything and hashes as `victim`: a cache
    keyed by `==` takes it for `victim`. Each call of either is noted in `calls`."""

    class ClaimsToBeAnother(type):
        def __eq__(cls, other: object) -> bool:
            calls.append("__eq__")
            return True

        def __hash__(cls) -> int:
            calls.append("__hash__")
            return hash(victim)

    return ClaimsToBeAnother("Impostor", (), {})


class HonestMeta(type):
    pass


class WithItsOwnMeta(metaclass=HonestMeta):  # its metaclass is not `type`, but honest
    pass


def specialised(state_type: Any) -> Any:
    """`PluginContext[state_type]`, for a `state_type` known only at run time."""
    return PluginContext.__class_getitem__(state_type)


VICTIMS: list[object] = [
    int,
    Parent,
    WithItsOwnMeta,
    list[str],
    dict[str, list[int]],
    typing.List[int],  # noqa: UP006  # both spellings of an alias are under test
    typing.Callable[..., int],
    Any,
]


@given(victim=st.sampled_from(VICTIMS), impostor_first=st.booleans())
def test_a_state_type_claiming_to_be_another_neither_gets_nor_takes_its_class(
    victim: Any, impostor_first: bool
) -> None:
    calls: list[str] = []
    impostor = impostor_of(victim, calls)
    for state_type in [impostor, victim] if impostor_first else [victim, impostor]:
        specialised(state_type)  # cached on first use, in this order
    calls.clear()
    victims_class = specialised(victim)
    assert victims_class.state_type is not impostor, "the victim got the impostor's class"
    assert victims_class is specialised(victim)
    assert calls == [], f"the impostor's metaclass ran in the victim's look-up: {calls}"
    assert specialised(impostor).state_type is impostor, "the impostor took the victim's class"
    assert specialised(impostor) is not victims_class


def test_an_equal_alias_built_again_finds_the_same_class() -> None:
    assert PluginContext[dict[str, list[int]]] is PluginContext[dict[str, list[int]]]
    assert PluginContext[list["Parent"]] is PluginContext[list["Parent"]]  # a str, by value
    assert PluginContext[typing.List[int]] is not PluginContext[list[int]]  # noqa: UP006  # unequal in typing too


@dataclass
class VictimState:
    count: int = 0


@pytest.mark.parametrize("attacker_first", [True, False], ids=["attacker-first", "victim-first"])
def test_a_plugin_cannot_poison_another_plugins_context_class(attacker_first: bool) -> None:
    impostor = impostor_of(VictimState, [])

    def fetching(name: str, state_type: Any) -> PluginModule:
        def init(api: PluginAPI) -> None:
            api.get_context(name, state_type)

        return PluginModule(name=name, init=init, update=lambda api, dt: init(api))

    attacker, victim = fetching("attacker", impostor), fetching("victim", VictimState)
    host = Host()
    for module in [attacker, victim] if attacker_first else [victim, attacker]:
        host.register_plugin(module)
        host.run(frames=1)  # every fetch again: get_context's fast path
    assert host.failures == []
    assert type(host.store.get_plugin_data("victim")) is PluginContext[VictimState]
    assert specialised(impostor) is type(host.store.get_plugin_data("attacker"))


def test_get_context_never_answers_with_the_class_an_impostor_claims() -> None:
    impostor = impostor_of(VictimState, [])
    store = ContextStore()
    api = PluginAPI(store, owner="attacker")
    stored = api.set_context("attacker", VictimState())
    with pytest.raises(ContextTypeError, match=r"stores PluginContext\[VictimState\]"):
        api.get_context("attacker", impostor)  # its fast path: a look-up the impostor answers
    assert store.get_plugin_data("attacker") is stored
