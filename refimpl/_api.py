"""What a plugin is handed: typed, checked access to the store, and the screen."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NoReturn, TypeVar, cast

from refimpl._context import ContextTypeError, PluginContext, PluginContextBase, context_class
from refimpl._protocol import PluginStore
from refimpl._screen import Screen
from refimpl._store import ContextStore
from refimpl.validate import build_default, check_name, check_state_type

T = TypeVar("T")

# The shared class cache. A class whose metaclass is `type` is its own key there, so a
# look-up by `T` finds `PluginContext[T]` directly; any other `T` misses, or (a metaclass
# whose `==` lies) hits another's class, which the `state_type is` test turns away.
_SPECIALISED = PluginContext._classes

__all__ = ["PluginAPI", "get_context", "set_context"]


class PluginAPI:
    """Wraps a store; the seed's `PluginAPI`, with a checked downcast.

    `PluginAPI(store)` reaches every plugin's context (the seed's behaviour).
    Given an `owner`, the API is scoped to that plugin: reading another
    plugin's context raises `PermissionError` unless its name is in `may_read`
    or `may_write`, and writing one unless it is in `may_write`.

    The room has no back door: no public attribute reaches the store, the
    screen, another plugin's API or the host (`owner`, `may_read` and
    `may_write` are read-only names); a plugin draws through `draw`. Every name
    is made a plain `str` first (`check_name`), so a `str` subclass cannot pass
    the scope check as a name it is not. Once `close()`d (the host does so at
    shutdown), every call raises `RuntimeError`: an API kept past its host's
    shutdown never stores anything again. Python has no private memory: the
    underscore attributes are out of bounds by convention, not by force.

    Given a `written` set, the API adds each name to it before it stores a context
    under that name (the host's record of what to release at shutdown).

    Example:
        >>> from refimpl import ContextStore
        >>> api = PluginAPI(ContextStore())
        >>> api.get_context("counter", int).data
        0
    """

    __slots__ = (
        "_closed",
        "_may_read",
        "_may_write",
        "_owner",
        "_peek",
        "_screen",
        "_store",
        "_written",
    )

    def __init__(
        self,
        store: PluginStore,
        *,
        owner: str | None = None,
        may_read: Iterable[str] = (),
        may_write: Iterable[str] = (),
        screen: Screen | None = None,
        written: set[str] | None = None,
    ) -> None:
        if isinstance(may_read, str) or isinstance(may_write, str):
            raise TypeError("may_read and may_write take a list of plugin names, not one str")
        self._store = store
        self._owner = None if owner is None else check_name(owner)
        self._may_write = frozenset(check_name(name) for name in may_write)
        self._may_read = frozenset(check_name(name) for name in may_read) | self._may_write
        self._screen = screen if screen is not None else Screen()
        self._written = written
        self._closed = False
        # The fixed store's own dict (set once, in a slot) answers a valid name directly;
        # anything it does not answer (a missing or bad name) goes through the checked
        # path. Any other store is asked through its getter as it is at each call: a store
        # may install another getter on itself later (a warm-up), and the one it replaced
        # may still hold an old table.
        contexts = getattr(store, "_contexts", None) if type(store) is ContextStore else None
        self._peek: Callable[[str], object] = (
            contexts.get if isinstance(contexts, dict) else self._ask_store
        )

    def _ask_store(self, name: str) -> object:
        return self._store.get_plugin_data(name)

    @property
    def owner(self) -> str | None:
        """The plugin this API is scoped to, or `None` when it reaches every name."""
        return self._owner

    @property
    def may_read(self) -> frozenset[str]:
        """Other plugins whose contexts this API may read (`may_write` included)."""
        return self._may_read

    @property
    def may_write(self) -> frozenset[str]:
        """Other plugins whose contexts this API may read and write."""
        return self._may_write

    # -- lifetime --------------------------------------------------------------

    def close(self) -> None:
        """Refuse every later call with `RuntimeError` (the host calls this at shutdown).

        A call already under way when the API is closed removes what it stored
        before it raises, so a closed API leaves nothing behind. Idempotent.
        """
        self._closed = True
        self._peek = self._refuse

    def _refuse(self, name: object = None) -> NoReturn:
        whose = "the API" if self._owner is None else f"the API of plugin {self._owner!r}"
        raise RuntimeError(f"{whose} is closed: its host is shut down")

    def _check_open(self) -> None:
        if self._closed:
            self._refuse()

    def _writing(self, name: str) -> None:
        """Before a write: note `name` in the `written` set, if there is one."""
        if self._written is not None:
            self._written.add(name)

    def _stored(self, name: str, context: PluginContextBase) -> None:
        """After a write: if the API was closed meanwhile, take `context` back out and refuse."""
        if self._closed:
            if self._store.get_plugin_data(name) is context:
                self._store.remove_plugin_data(name)
            self._refuse()

    # -- scope ---------------------------------------------------------------

    def _check_access(self, name: str, *, write: bool) -> None:
        if self._owner is None or name == self._owner:
            return
        allowed = self._may_write if write else self._may_read
        if name not in allowed:
            verb = "write" if write else "read"
            raise PermissionError(
                f"plugin {self._owner!r} may not {verb} the context of plugin {name!r}"
            )

    # -- the store protocol, scoped --------------------------------------------

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        """Store `data` under `name` (see `ContextStore.set_plugin_data`)."""
        self._check_open()
        name = check_name(name)
        self._check_access(name, write=True)
        self._writing(name)
        self._store.set_plugin_data(name, data)
        self._stored(name, data)

    def get_plugin_data(self, name: str) -> PluginContextBase | None:
        """Return the context stored under `name`, or `None`."""
        self._check_open()
        name = check_name(name)
        self._check_access(name, write=False)
        return self._store.get_plugin_data(name)

    def remove_plugin_data(self, name: str) -> None:
        """Forget the context stored under `name`, if any."""
        self._check_open()
        name = check_name(name)
        self._check_access(name, write=True)
        self._store.remove_plugin_data(name)

    # -- typed access ----------------------------------------------------------

    def get_context(self, name: str, state_type: type[T]) -> PluginContext[T]:
        """Return the `PluginContext[T]` stored under `name`, creating and storing
        one around `T()` if there is none.

        Raises `ContextTypeError` if the stored context is not a
        `PluginContext[T]`; the store is then unchanged. Raises `TypeError` if
        `T` is not a class or cannot be built with no arguments.
        """
        try:  # the fast path: a stored context of the right class, reached in one look-up
            wanted = _SPECIALISED[state_type]
        except (KeyError, TypeError):  # not specialised yet, or unhashable
            return self._get_context_checked(name, state_type)
        # A plain str only: no subclass's __eq__ or __hash__ takes part in scope or look-up.
        if (
            type(name) is str
            and wanted.state_type is state_type
            and (self._owner is None or name == self._owner)
        ):
            found = self._peek(name)  # refuses once closed
            if isinstance(found, wanted):
                return found
        return self._get_context_checked(name, state_type)

    def _get_context_checked(self, name: str, state_type: type[T]) -> PluginContext[T]:
        self._check_open()
        name = check_name(name)
        self._check_access(name, write=False)
        stored = self._store.get_plugin_data(name)
        check_state_type(name, state_type)
        wanted = context_class(state_type)
        if stored is None:
            self._check_access(name, write=True)
            created = wanted(name, build_default(name, state_type))
            self._writing(name)
            stored = self._store_default(name, created)
            self._stored(name, stored)
        if not isinstance(stored, wanted):
            raise ContextTypeError(name, type(stored), wanted)
        return stored

    def _store_default(self, name: str, created: PluginContextBase) -> PluginContextBase:
        setdefault = getattr(self._store, "setdefault_plugin_data", None)
        if setdefault is not None:  # atomic: two threads agree on one default
            return cast(PluginContextBase, setdefault(name, created))
        self._store.set_plugin_data(name, created)
        return created

    def set_context(self, name: str, data: T) -> PluginContext[T]:
        """Wrap `data` in a new `PluginContext[type(data)]`, store it under `name`
        and return it (the seed's `setContext[T]`)."""
        self._check_open()
        name = check_name(name)
        self._check_access(name, write=True)
        context = context_class(type(data))(name, data)
        self._writing(name)
        self._store.set_plugin_data(name, context)
        self._stored(name, context)
        return context

    # -- drawing ---------------------------------------------------------------

    def draw(self, x: int, y: int, text: str, *, layer: str = "main", z: int = 0) -> None:
        """Draw `text` on the host's screen (see `Screen.draw`)."""
        self._check_open()
        self._screen.draw(x, y, text, layer=layer, z=z)

    def __repr__(self) -> str:
        scope = "unscoped" if self._owner is None else f"owner={self._owner!r}"
        closed = ", closed" if self._closed else ""
        return f"{type(self).__name__}({type(self._store).__name__}, {scope}{closed})"


def get_context(api: PluginAPI, name: str, state_type: type[T]) -> PluginContext[T]:
    """The seed's `getContext[T](api, name)`: see `PluginAPI.get_context`."""
    return api.get_context(name, state_type)


def set_context(api: PluginAPI, name: str, data: T) -> PluginContext[T]:
    """The seed's `setContext[T](api, name, data)`: see `PluginAPI.set_context`."""
    return api.set_context(name, data)
