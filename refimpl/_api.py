"""What a plugin is handed: typed, checked access to the store, and the screen."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar, cast

from refimpl._context import ContextTypeError, PluginContext, PluginContextBase, context_class
from refimpl._protocol import PluginStore
from refimpl._screen import Screen
from refimpl._store import ContextStore
from refimpl._validate import build_default, check_name, check_state_type

T = TypeVar("T")

_SPECIALISED = PluginContext._classes  # the shared class cache: state type -> PluginContext[T]

__all__ = ["PluginAPI", "get_context", "set_context"]


class PluginAPI:
    """Wraps a store; the seed's `PluginAPI`, with a checked downcast.

    `PluginAPI(store)` reaches every plugin's context (the seed's behaviour).
    Given an `owner`, the API is scoped to that plugin: reading another
    plugin's context raises `PermissionError` unless its name is in `may_read`
    or `may_write`, and writing one unless it is in `may_write`.

    Example:
        >>> from refimpl import ContextStore
        >>> api = PluginAPI(ContextStore())
        >>> api.get_context("counter", int).data
        0
    """

    def __init__(
        self,
        store: PluginStore,
        *,
        owner: str | None = None,
        may_read: Iterable[str] = (),
        may_write: Iterable[str] = (),
        screen: Screen | None = None,
    ) -> None:
        if isinstance(may_read, str) or isinstance(may_write, str):
            raise TypeError("may_read and may_write take a list of plugin names, not one str")
        self.store = store
        self.owner = owner
        self.may_write = frozenset(may_write)
        self.may_read = frozenset(may_read) | self.may_write
        self.screen = screen if screen is not None else Screen()
        # The fixed store's own dict answers a valid name directly; anything it does not
        # answer (a missing or bad name) goes through the checked path.
        contexts = getattr(store, "_contexts", None) if type(store) is ContextStore else None
        self._peek: Callable[[str], object] = (
            contexts.get if isinstance(contexts, dict) else store.get_plugin_data
        )

    # -- scope ---------------------------------------------------------------

    def _check_access(self, name: str, *, write: bool) -> None:
        if self.owner is None or name == self.owner:
            return
        allowed = self.may_write if write else self.may_read
        if name not in allowed:
            verb = "write" if write else "read"
            raise PermissionError(
                f"plugin {self.owner!r} may not {verb} the context of plugin {name!r}"
            )

    # -- the store protocol, scoped --------------------------------------------

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        """Store `data` under `name` (see `ContextStore.set_plugin_data`)."""
        self._check_access(check_name(name), write=True)
        self.store.set_plugin_data(name, data)

    def get_plugin_data(self, name: str) -> PluginContextBase | None:
        """Return the context stored under `name`, or `None`."""
        self._check_access(check_name(name), write=False)
        return self.store.get_plugin_data(name)

    def remove_plugin_data(self, name: str) -> None:
        """Forget the context stored under `name`, if any."""
        self._check_access(check_name(name), write=True)
        self.store.remove_plugin_data(name)

    # -- typed access ----------------------------------------------------------

    def get_context(self, name: str, state_type: type[T]) -> PluginContext[T]:
        """Return the `PluginContext[T]` stored under `name`, creating and storing
        one around `T()` if there is none.

        Raises `ContextTypeError` if the stored context is not a
        `PluginContext[T]`; the store is then unchanged. Raises `TypeError` if
        `T` is not a class or cannot be built with no arguments.
        """
        try:  # the fast path: a stored context of the right class, reached in one look-up
            wanted = _SPECIALISED.get(state_type)
            if wanted is not None and (self.owner is None or name == self.owner):
                found = self._peek(name)
                if isinstance(found, wanted):
                    return found
        except TypeError:  # unhashable name or type: the checked path says which
            pass
        return self._get_context_checked(name, state_type)

    def _get_context_checked(self, name: str, state_type: type[T]) -> PluginContext[T]:
        stored = self.get_plugin_data(name)
        check_state_type(name, state_type)
        wanted = context_class(state_type)
        if stored is None:
            self._check_access(name, write=True)
            created = wanted(name, build_default(name, state_type))
            stored = self._store_default(name, created)
        if not isinstance(stored, wanted):
            raise ContextTypeError(name, type(stored), wanted)
        return stored

    def _store_default(self, name: str, created: PluginContextBase) -> PluginContextBase:
        setdefault = getattr(self.store, "setdefault_plugin_data", None)
        if setdefault is not None:  # atomic: two threads agree on one default
            return cast(PluginContextBase, setdefault(name, created))
        self.store.set_plugin_data(name, created)
        return created

    def set_context(self, name: str, data: T) -> PluginContext[T]:
        """Wrap `data` in a new `PluginContext[type(data)]`, store it under `name`
        and return it (the seed's `setContext[T]`)."""
        self._check_access(check_name(name), write=True)
        context = context_class(type(data))(name, data)
        self.store.set_plugin_data(name, context)
        return context

    # -- drawing ---------------------------------------------------------------

    def draw(self, x: int, y: int, text: str, *, layer: str = "main", z: int = 0) -> None:
        """Draw `text` on the host's screen (see `Screen.draw`)."""
        self.screen.draw(x, y, text, layer=layer, z=z)

    def __repr__(self) -> str:
        scope = "unscoped" if self.owner is None else f"owner={self.owner!r}"
        return f"{type(self).__name__}({type(self.store).__name__}, {scope})"


def get_context(api: PluginAPI, name: str, state_type: type[T]) -> PluginContext[T]:
    """The seed's `getContext[T](api, name)`: see `PluginAPI.get_context`."""
    return api.get_context(name, state_type)


def set_context(api: PluginAPI, name: str, data: T) -> PluginContext[T]:
    """The seed's `setContext[T](api, name, data)`: see `PluginAPI.set_context`."""
    return api.set_context(name, data)
