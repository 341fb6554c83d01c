"""The fixed store: counted references to contexts, keyed by plugin name."""

from __future__ import annotations

from collections.abc import Iterator

from refimpl._context import PluginContextBase
from refimpl.validate import check_context, check_name

__all__ = ["ContextStore"]


class ContextStore:
    """Holds each plugin's context by an ordinary (counted) reference.

    The seed's fix, `Table[string, PluginContextBase]`: a stored context stays
    alive as long as it is stored, whoever else lets go of it, and is released
    the moment it is removed or replaced.

    Thread safety: every operation is one dict operation, atomic under the GIL
    and under free-threaded CPython's per-object locks, so one store may be
    shared between threads; a name's value is always the last one stored.

    Bad input (a name `check_name` refuses, data that is not a
    `PluginContextBase`) raises `TypeError` / `ValueError` and changes nothing.
    Every name is made a plain `str` before it is used as a key, so a `str`
    subclass with its own `__eq__` or `__hash__` reaches exactly the context its
    characters name, and every stored key is a plain `str`.

    Example:
        >>> from refimpl import PluginContext
        >>> store = ContextStore()
        >>> store.set_plugin_data("counter", PluginContext[int]("counter", 0))
        >>> store.get_plugin_data("counter")
        PluginContext[int](plugin_name='counter', data=0)
        >>> store.remove_plugin_data("counter"); store.get_plugin_data("counter") is None
        True
    """

    __slots__ = ("_contexts",)

    def __init__(self) -> None:
        self._contexts: dict[str, PluginContextBase] = {}

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        """Store `data` under `name`, replacing (and releasing) any earlier context."""
        name = check_name(name)
        self._contexts[name] = check_context(name, data)

    def get_plugin_data(self, name: str) -> PluginContextBase | None:
        """Return the context stored under `name` (the same object), or `None`."""
        if type(name) is str:
            try:  # the fast path: one look-up, and a plain str found is a valid name
                return self._contexts[name]
            except KeyError:  # absent: the checked path says whether the name is valid
                pass
        # Anything else is made plain first: a subclass's __hash__ and __eq__ never run.
        return self._contexts.get(check_name(name))

    def setdefault_plugin_data(self, name: str, data: PluginContextBase) -> PluginContextBase:
        """Store `data` unless `name` already has a context; return the one stored.

        Atomic, so two threads creating a default context for one name agree on it.
        """
        name = check_name(name)
        return self._contexts.setdefault(name, check_context(name, data))

    def remove_plugin_data(self, name: str) -> None:
        """Forget the context stored under `name`, if any, releasing the store's reference."""
        self._contexts.pop(check_name(name), None)

    def names(self) -> list[str]:
        """Return the names that have a context, in insertion order."""
        return list(self._contexts)

    def __len__(self) -> int:
        return len(self._contexts)

    def __contains__(self, name: object) -> bool:
        if type(name) is not str:  # compare characters, never a subclass's __eq__
            if not issubclass(type(name), str):
                return False
            name = str.__str__(name)  # a str subclass, copied plain
        return name in self._contexts

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __repr__(self) -> str:
        return f"ContextStore({self.names()!r})"
