"""Plugin names: a plain `str`, made once at the boundary, that a `str` subclass cannot fake.

The rule, stated here on its own so that the tests do not borrow the code's: a name is
a `str` that is not empty, not only whitespace, at most `MAX_NAME_LENGTH` characters,
and has no character of Unicode category Cc, Cf, Cs, Zl or Zp.
"""

from __future__ import annotations

import itertools
import unicodedata
import weakref
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from broken_variant import UntrackedStore
from refimpl import ContextStore, Host, PluginAPI, PluginContext, PluginModule
from refimpl.plugins import simple_counter
from refimpl.plugins.simple_counter import CounterState
from refimpl.support.collector import gc_collect
from refimpl.validate import MAX_NAME_LENGTH, check_name

REFUSED = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def follows_the_rule(text: str) -> bool:
    """The documented rule, written independently of `check_name`."""
    return (
        text.strip() != ""
        and len(text) <= MAX_NAME_LENGTH
        and all(unicodedata.category(char) not in REFUSED for char in text)
    )


# -- str subclasses that lie ------------------------------------------------------------------


class EqualsEverything(str):
    """Compares equal to any name: passes a naive scope check as the owner."""

    def __eq__(self, other: object) -> bool:
        return True

    def __ne__(self, other: object) -> bool:
        return False

    __hash__ = str.__hash__


class Impostor(str):
    """Hashes as `other` and compares equal to anything: a dict takes it for `other`."""

    def __eq__(self, other: object) -> bool:
        return True

    def __ne__(self, other: object) -> bool:
        return False

    def __hash__(self) -> int:
        return hash("other")


class HashOfItsOwn(str):
    """Equal to its characters, but hashed apart: a dict takes it for a new key."""

    def __hash__(self) -> int:
        return 42


_ticks = itertools.count()


class UnstableHash(str):
    """A new hash at every call: stored under it, a key can never be found again."""

    def __hash__(self) -> int:
        return next(_ticks)


class LiesAboutItself(str):
    """Every method a check might call lies: blank, short, printable, someone else."""

    def strip(self, chars: str | None = None) -> str:
        return "looks-fine"

    def __len__(self) -> int:
        return 1

    def isprintable(self) -> bool:
        return True

    def __str__(self) -> str:
        return "simple_counter"

    def __repr__(self) -> str:
        return "'simple_counter'"

    def __iter__(self):  # type: ignore[no-untyped-def]  # the lie under test
        return iter("ok")


class ClaimsToBeAStr:
    """Not a `str`, but its `__class__` says so: `isinstance` would believe it."""

    @property  # type: ignore[misc]  # the lie under test
    def __class__(self) -> type:
        return str


class HashRaises(str):
    """Raises as soon as anything hashes it: only a name made plain first gets through."""

    def __hash__(self) -> int:
        raise RuntimeError("the subclass's __hash__ ran")


class EqRaises(str):
    """Raises as soon as anything compares it: only a name made plain first gets through."""

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("the subclass's __eq__ ran")

    def __ne__(self, other: object) -> bool:
        raise RuntimeError("the subclass's __ne__ ran")

    __hash__ = str.__hash__


RAISING_KINDS: list[type[str]] = [HashRaises, EqRaises]

HOSTILE_KINDS: list[type[str]] = [
    EqualsEverything,
    Impostor,
    HashOfItsOwn,
    UnstableHash,
    LiesAboutItself,
]

# Characters the rule singles out, and their neighbours, so that every refused category
# and the length limit are reached often, not by luck.
EDGE_CHARACTERS = [
    "\x00", "\x07", "\x1b", "\x7f", "\x85",  # Cc
    "\u00ad", "\u200b", "\u200d", "\u202e", "\u2066", "\ufeff", "\U000e0001",  # Cf
    "\ud800", "\udfff",  # Cs
    "\u2028", "\u2029",  # Zl, Zp
    " ", "\t", "\u00a0", "\u3000",  # whitespace, allowed inside a name
    "\ue000", "\U0010fffd", "\u0378",  # private use, unassigned: allowed
    "a", "\u00e9", "\u4e2d",
]  # fmt: skip
characters = st.one_of(st.characters(exclude_categories=()), st.sampled_from(EDGE_CHARACTERS))
texts = st.one_of(
    st.lists(characters, max_size=8).map("".join),
    st.builds(  # around the length limit
        lambda head, size: (head + "x" * size)[: max(size, 1)],
        st.lists(characters, max_size=3).map("".join),
        st.integers(MAX_NAME_LENGTH - 2, MAX_NAME_LENGTH + 2),
    ),
)


@given(text=texts, kind=st.sampled_from([str, *HOSTILE_KINDS]))
def test_check_name_accepts_exactly_the_names_the_rule_allows(text: str, kind: type[str]) -> None:
    name = kind(text)
    if not follows_the_rule(text):
        with pytest.raises(ValueError, match="plugin name"):
            check_name(name)
        return
    checked = check_name(name)
    assert type(checked) is str, f"check_name returned a {type(checked).__name__}"
    assert str.__eq__(checked, text), "check_name returned other characters"


def test_a_value_claiming_to_be_a_str_is_refused_as_not_a_str() -> None:
    with pytest.raises(TypeError, match="plugin name must be a str, got ClaimsToBeAStr"):
        check_name(ClaimsToBeAStr())


@pytest.mark.parametrize(
    ("char", "fault"),
    [
        ("\x07", "a control character (U+0007, category Cc)"),
        ("\u200b", "an invisible character (U+200B, category Cf)"),  # zero-width space
        ("\u202e", "an invisible character (U+202E, category Cf)"),  # right-to-left override
        ("\ufeff", "an invisible character (U+FEFF, category Cf)"),  # byte order mark
        ("\u00ad", "an invisible character (U+00AD, category Cf)"),  # soft hyphen
        ("\ud800", "a lone surrogate (U+D800, category Cs)"),
        ("\u2028", "a line separator (U+2028, category Zl)"),
        ("\u2029", "a paragraph separator (U+2029, category Zp)"),
    ],
    ids=["bell", "zero-width", "bidi-override", "bom", "soft-hyphen", "surrogate", "Zl", "Zp"],
)
def test_each_refused_character_is_a_value_error_naming_the_fault(char: str, fault: str) -> None:
    name = f"simple{char}counter"
    refusals: dict[str, Callable[[], object]] = {
        "store": lambda: ContextStore().set_plugin_data(name, PluginContext[int]("a", 1)),
        "api": lambda: PluginAPI(ContextStore()).get_context(name, int),
        "context": lambda: PluginContext[int](name, 1),
        "host": lambda: Host().register_plugin(PluginModule(name=name)),
    }
    for where, refuse in refusals.items():
        with pytest.raises(ValueError, match="plugin name") as caught:
            refuse()
        assert str(caught.value).endswith(f"contains {fault}"), f"{where}: {caught.value}"


# -- the plain name is what every check, key and message uses ----------------------------------


def stored_with(name: str) -> tuple[ContextStore, PluginContext[int]]:
    store = ContextStore()
    context = PluginContext[int](name, 1)
    store.set_plugin_data(name, context)
    return store, context


@pytest.mark.parametrize("kind", HOSTILE_KINDS, ids=lambda kind: kind.__name__)
def test_a_str_subclass_reaches_exactly_the_context_its_characters_name(kind: type[str]) -> None:
    store, other = stored_with("other")
    assert store.get_plugin_data(kind("mine")) is None, "reached a context it does not name"
    assert kind("mine") not in store
    assert store.get_plugin_data(kind("other")) is other


@pytest.mark.slow
@given(text=texts.filter(follows_the_rule), kind=st.sampled_from(RAISING_KINDS))
def test_a_name_is_made_plain_before_its_hash_or_eq_could_run(text: str, kind: type[str]) -> None:
    store, context = stored_with(text)
    assert store.get_plugin_data(kind(text)) is context
    other = text[:-1] + ("y" if text.endswith("x") else "x")  # another valid name
    assert store.get_plugin_data(kind(other)) is None
    assert kind(text) in store
    api = PluginAPI(store, owner=text)
    assert api.get_plugin_data(kind(text)) is context
    assert api.get_context(kind(text), int) is context
    replaced = api.set_context(kind(text), 2)
    assert store.setdefault_plugin_data(kind(text), context) is replaced
    api.remove_plugin_data(kind(text))
    assert store.names() == []
    host = Host(store)

    def init(api: PluginAPI) -> None:
        api.set_context(kind(text), 3)

    host.register_plugin(PluginModule(name=kind(text), init=init))
    assert host.failures == []
    host.shutdown()
    assert store.names() == []


@pytest.mark.parametrize("kind", HOSTILE_KINDS, ids=lambda kind: kind.__name__)
def test_every_key_stored_is_a_plain_str(kind: type[str]) -> None:
    store = ContextStore()
    api = PluginAPI(store)
    store.set_plugin_data(kind("a"), PluginContext[int]("a", 1))
    api.set_context(kind("b"), 2)
    api.get_context(kind("c"), int)
    store.setdefault_plugin_data(kind("d"), PluginContext[int]("d", 4))
    assert [type(name) for name in store.names()] == [str] * 4
    assert store.names() == ["a", "b", "c", "d"]
    contexts = [store.get_plugin_data(name) for name in store.names()]
    assert [type(getattr(context, "plugin_name", None)) for context in contexts] == [str] * 4


@pytest.mark.parametrize("kind", HOSTILE_KINDS, ids=lambda kind: kind.__name__)
def test_the_untracked_store_keys_plain_names_too(kind: type[str]) -> None:
    store = UntrackedStore()
    held = PluginContext[int]("a", 1)  # held here: the untracked store would not keep it
    store.set_plugin_data(kind("a"), held)
    assert [type(name) for name in store.names()] == [str]
    assert store.get_plugin_data("a") is held


@pytest.mark.parametrize("fetch", ["get_context", "get_plugin_data", "set_context", "remove"])
def test_a_name_equal_to_everything_cannot_pass_the_scope_check(fetch: str) -> None:
    store, other = stored_with("other")
    scoped = PluginAPI(store, owner="mine")
    sneaky = EqualsEverything("other")  # == "mine", as the scope check would ask
    calls: dict[str, Callable[[], object]] = {
        "get_context": lambda: scoped.get_context(sneaky, int),
        "get_plugin_data": lambda: scoped.get_plugin_data(sneaky),
        "set_context": lambda: scoped.set_context(sneaky, 2),
        "remove": lambda: scoped.remove_plugin_data(sneaky),
    }
    with pytest.raises(PermissionError, match=r"plugin 'mine' may not .* plugin 'other'"):
        calls[fetch]()
    assert store.names() == ["other"]
    assert store.get_plugin_data("other") is other


def test_an_owner_equal_to_everything_does_not_widen_the_scope() -> None:
    store, _ = stored_with("other")
    scoped = PluginAPI(store, owner=EqualsEverything("mine"))
    assert scoped.owner == "mine"
    assert type(scoped.owner) is str
    with pytest.raises(PermissionError, match="plugin 'mine' may not read"):
        scoped.get_plugin_data("other")


def test_a_plugin_cannot_reach_another_context_through_a_lying_name() -> None:
    seen: list[object] = []

    def peek(api: PluginAPI) -> None:
        seen.append(api.get_context(EqualsEverything(simple_counter.DEFAULT_NAME), CounterState))

    host = Host()
    host.register_plugin(simple_counter.make_plugin())
    host.register_plugin(PluginModule(name="peeker", init=peek))
    assert seen == []
    [failure] = host.failures
    assert isinstance(failure.error, PermissionError)


@pytest.mark.parametrize("subclass_first", [False, True], ids=["plain-first", "subclass-first"])
@pytest.mark.parametrize("kind", [HashOfItsOwn, UnstableHash, EqualsEverything])
def test_a_taken_name_cannot_be_registered_again_by_a_subclass(
    kind: type[str], subclass_first: bool
) -> None:
    first, second = simple_counter.DEFAULT_NAME, kind(simple_counter.DEFAULT_NAME)
    if subclass_first:
        first, second = second, first
    host = Host()
    host.register_plugin(simple_counter.make_plugin(name=first))
    with pytest.raises(ValueError, match="plugin 'simple_counter' is already registered"):
        host.register_plugin(simple_counter.make_plugin(name=second))
    assert host.plugin_names == ["simple_counter"]
    assert [type(name) for name in host.plugin_names] == [str]


@pytest.mark.parametrize("kind", HOSTILE_KINDS, ids=lambda kind: kind.__name__)
def test_shutdown_releases_a_context_stored_under_a_subclass_name(kind: type[str]) -> None:
    store = ContextStore()
    host = Host(store)
    host.register_plugin(simple_counter.make_plugin(name=kind("counter")))
    host.run(frames=2)
    [stored] = [store.get_plugin_data(name) for name in store.names()]
    alive = weakref.ref(stored)
    del stored
    host.shutdown()
    gc_collect()
    assert store.names() == [], "a context outlived shutdown"
    assert alive() is None, "released: the context is still alive after shutdown"


def test_messages_show_the_name_as_it_is_not_as_it_says() -> None:
    store, _ = stored_with("other")
    scoped = PluginAPI(store, owner="mine")
    with pytest.raises(PermissionError) as caught:
        scoped.get_plugin_data(LiesAboutItself("other"))
    assert str(caught.value) == "plugin 'mine' may not read the context of plugin 'other'"
