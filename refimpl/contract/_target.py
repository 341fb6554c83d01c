"""What the contract drives, as it is: a store, a mutable mapping, or an API.

`open_target(factory, mode)` calls the factory once and returns what to drive with
the three store methods (a mapping is driven through its own `__setitem__`, `get` (else
`__getitem__`) and `__delitem__` (else `pop`)), the terms its stories are told in, and
how to close it. A factory may build a context manager: it is entered, and exited
when the example ends; anything with a `close()` is closed then.

The terms also carry what else the target can do (`abilities`): be closed, and the
optional methods the contract drives where they exist (a store's `setdefault_plugin_data`,
a mapping's other mutators). The worker finds them and tells its supervisor in the
terms, so that both draw the same steps.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from refimpl.contract._evidence import describe_error

__all__ = [
    "API_METHODS",
    "MAPPING_MUTATORS",
    "STORE_METHODS",
    "MappingStore",
    "Opened",
    "Refused",
    "abilities",
    "open_target",
]

STORE_METHODS = ("set_plugin_data", "get_plugin_data", "remove_plugin_data")
API_METHODS = ("get_context", "set_context")
MAPPING_METHODS = (("__setitem__",), ("__getitem__", "get"), ("__delitem__", "pop"))
"""What a mapping needs: each tuple is one duty, met by any of its methods."""
MAPPING_MUTATORS = ("pop", "popitem", "setdefault", "update", "clear")
"""A `MutableMapping`'s other mutators: each one a mapping has is driven."""
OPTIONAL_STORE_METHODS = {"setdefault_plugin_data": "setdefault"}
"""A store's optional methods that the fixed API uses, by the ability each gives."""

Terms = str
"""How stories spell calls: "store", "api", or a mapping's `MappingStore.terms`; then, after
a `/` each, the target's abilities (`mapping/close/pop/popitem`)."""


def abilities(terms: Terms) -> frozenset[str]:
    """What a target spoken of in `terms` can do beyond the store protocol: `close` (it
    has a `close()`, or was entered as a context manager), `setdefault` (a store's
    `setdefault_plugin_data`, a mapping's `setdefault`) and a mapping's other mutators."""
    return frozenset(terms.split("/")[1:])


def _with_abilities(terms: Terms, found: list[str]) -> Terms:
    return "/".join([terms, *sorted(set(found))])


class Refused(TypeError):
    """The factory cannot be used: it raised, or built something the contract cannot drive."""


@dataclass(frozen=True, slots=True)
class Opened:
    """A target ready to drive: `target` has the store methods (and the API's, in API
    mode); `terms` says how stories spell calls to it; `close()` ends it."""

    target: Any
    terms: Terms
    close: Callable[[], None]


class MappingStore:
    """The store protocol over a mutable mapping, calling the mapping's own methods and
    nothing else: a missing key is `None`, removing a missing key is no error.

    It reads with `get` (else `[]`) and removes with `del` (else `pop`): `del` is the form
    a dict subclass overrides (`dict.pop` does not call an overridden `__delitem__`).
    `terms` names the forms used, so that a story spells the very calls that were made.
    """

    __slots__ = ("by_index", "by_pop", "mapping")

    def __init__(self, mapping: Any) -> None:
        self.mapping = mapping
        self.by_index = not callable(getattr(mapping, "get", None))
        self.by_pop = not callable(getattr(mapping, "__delitem__", None))

    @property
    def terms(self) -> Terms:
        """`mapping`, with `+index` when it reads by `[]`, `+pop` when it removes by `pop`."""
        return "mapping" + "+index" * self.by_index + "+pop" * self.by_pop

    def set_plugin_data(self, name: str, data: object) -> None:
        self.mapping[name] = data

    def get_plugin_data(self, name: str) -> Any:
        if not self.by_index:  # with the default said: some mappings require one
            return self.mapping.get(name, None)
        try:
            return self.mapping[name]
        except KeyError:
            return None

    def remove_plugin_data(self, name: str) -> None:
        if self.by_pop:
            self.mapping.pop(name, None)
            return
        with suppress(KeyError):
            del self.mapping[name]


def open_target(factory: Callable[[], Any], mode: str) -> Opened:
    """Build one target with `factory()`; raise `Refused` saying why it cannot be driven."""
    try:
        built = factory()
    except Exception as error:
        raise Refused(f"the factory raised {describe_error(error)}") from None
    entered = _enter(built)
    if entered is not None:
        inner, exit_ = entered
        try:
            opened = _classify(inner, mode, _closer(inner), closable=True)
        except Refused:
            exit_()
            raise
        return Opened(opened.target, opened.terms, _first_then(opened.close, exit_))
    closer = _closer(built)
    return _classify(built, mode, closer or _nothing, closable=closer is not None)


def _enter(built: Any) -> tuple[Any, Callable[[], None]] | None:
    """A context manager that is not itself drivable is entered: `(value, exit)`."""
    if _missing_store(built) == [] or _missing_mapping(built) == []:
        return None
    enter, exit_ = getattr(built, "__enter__", None), getattr(built, "__exit__", None)
    if not callable(enter) or not callable(exit_):
        return None
    try:
        value = enter()
    except Exception as error:
        raise Refused(f"entering what the factory built raised {describe_error(error)}") from None
    return value, lambda: exit_(None, None, None)


def _classify(built: Any, mode: str, close: Callable[[], None] | None, *, closable: bool) -> Opened:
    close = close or _nothing
    found = ["close"] if closable else []
    kind = type(built).__name__
    what = "None" if built is None else f"{'an' if kind[0] in 'aeiouAEIOU' else 'a'} {kind}"
    missing_store = _missing_store(built)
    if mode == "api":
        missing = missing_store + [m for m in API_METHODS if not callable(getattr(built, m, None))]
        if missing:
            raise Refused(f"the factory returned {what}, which has no {', '.join(missing)}")
        return Opened(built, "api", close)  # an API is reopened as its store is: not here
    if not missing_store:
        found += [
            ability for method, ability in OPTIONAL_STORE_METHODS.items() if _has(built, method)
        ]
        return Opened(built, _with_abilities("store", found), close)
    missing_mapping = _missing_mapping(built)
    if not missing_mapping:
        store = MappingStore(built)
        found += [method for method in MAPPING_MUTATORS if _has(built, method)]
        return Opened(store, _with_abilities(store.terms, found), close)
    raise Refused(
        f"the factory returned {what}, which is neither a store (it has no "
        f"{', '.join(missing_store)}) nor a mutable mapping (it has no "
        f"{', '.join(missing_mapping)})"
    )


def _missing_store(built: Any) -> list[str]:
    return [m for m in STORE_METHODS if not callable(getattr(built, m, None))]


def _missing_mapping(built: Any) -> list[str]:
    return [
        " or ".join(duty)
        for duty in MAPPING_METHODS
        if not any(callable(getattr(type(built), m, None)) for m in duty)
    ]


def _has(built: Any, method: str) -> bool:
    """Whether `built` has `method`, by its class (as the mapping duties are found)."""
    return callable(getattr(type(built), method, None))


def _closer(built: Any) -> Callable[[], None] | None:
    close = getattr(built, "close", None)
    return close if callable(close) else None


def _nothing() -> None:
    """What closes a target that has no `close()`."""


def _first_then(first: Callable[[], None], then: Callable[[], None]) -> Callable[[], None]:
    def both() -> None:
        try:
            first()
        finally:
            then()

    return both
