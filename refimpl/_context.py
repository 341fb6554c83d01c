"""Typed plugin contexts: the counted references the store holds.

`PluginContext[T]` is a real runtime class per `T`, built once and cached, so a
checked downcast is a plain `isinstance` test, as Nim's object conversion
`PluginContext[T](base)` is a runtime type check.
"""

from __future__ import annotations

import collections.abc
import threading
import types
import typing
from collections.abc import Hashable
from typing import Any, ClassVar, Generic, TypeVar

from refimpl._names import check_name

T = TypeVar("T")

__all__ = [
    "ContextTypeError",
    "PluginContext",
    "PluginContextBase",
    "context_class",
    "runtime_type_of",
    "type_label",
]


def type_label(t: object) -> str:
    """Return a short readable name for a type or a generic alias (`list[str]`)."""
    if isinstance(t, type) and typing.get_origin(t) is None:
        return t.__qualname__
    return repr(t).replace("typing.", "")


def runtime_type_of(state_type: object) -> type | None:
    """Return the class a `PluginContext[state_type]` checks its data against, or `None`
    when `state_type` cannot be a context's `T`.

    A `T` is a class (`int`, `CounterState`) or a generic alias over one (`list[str]`,
    whose data must be a `list`); `typing.Any` is accepted and holds anything. Anything
    else is refused: a value (`5`, `None`: write `type(None)`), a string (`"int"`: a
    forward reference is never resolved), a union, a `Literal`, a `TypeVar`.
    """
    if state_type is Any:
        return object
    origin = typing.get_origin(state_type) or state_type
    if origin is types.UnionType:  # `int | str` is an alias over two types, not one
        return None
    return origin if isinstance(origin, type) else None


class _Same:
    """A cache key part that is equal only to a part holding the very same object.

    It keeps its object alive, so an id it hashes by is never another object's.
    """

    __slots__ = ("obj",)

    def __init__(self, obj: object) -> None:
        self.obj = obj

    def __eq__(self, other: object) -> bool:
        return type(other) is _Same and other.obj is self.obj

    def __hash__(self) -> int:
        return id(self.obj)


_ALIAS_TYPES: frozenset[int] = frozenset(
    id(type(alias))
    for alias in (
        list[int],
        typing.List[int],  # noqa: UP006  # each spelling of an alias has a class of its own
        typing.List,  # noqa: UP006
        typing.Tuple,  # noqa: UP006
        typing.Callable,
        typing.Callable[[int], int],
        collections.abc.Callable[[int], int],
    )
)
"""The standard library's generic alias classes, by id: only these are read for their
origin and arguments, so a look-alike class never has its attributes trusted."""

_VALUES: tuple[type, ...] = (str, int, bool, bytes, type(None), type(Ellipsis))
"""Exact classes of alias arguments compared by value (`list["Name"]`, `Callable[..., T]`):
their `==` and `hash` are the built-ins'."""


def _cache_key(state_type: object) -> Hashable:
    """Return the key `PluginContext[state_type]` is cached under.

    Two state types share a key only when they are the same object, or aliases of one
    standard class over the same origin and arguments, compared the same way (or by
    value, for a `str`, `int`, `bool`, `bytes`, `None` or `...` argument). A class
    whose metaclass is exactly `type` is its own key, as its `==` and `hash` are
    identity; any other object is wrapped in `_Same`. So no `__eq__` or `__hash__` of a
    state type, its metaclass or its arguments ever runs in a look-up: a `T` cannot
    claim another's cached class.
    """
    if type(state_type) is type:
        return state_type
    return _part(state_type)


def _part(obj: object) -> Hashable:
    kind = type(obj)
    if id(kind) in _ALIAS_TYPES:
        origin = obj.__origin__  # type: ignore[attr-defined]  # every standard alias has one
        arguments = getattr(obj, "__args__", ())  # an unsubscripted `typing.List` has none
        return (_Same(kind), _part(origin), tuple(_part(argument) for argument in arguments))
    if any(kind is value for value in _VALUES):
        return (_Same(kind), obj)
    return _Same(obj)


class PluginContextBase:
    """Base of every context: what the store holds, by counted reference.

    The seed's `PluginContextBase = ref object of RootObj`. It carries only the
    name of the plugin that owns it; the typed state lives in `PluginContext[T]`.
    """

    __slots__ = ("__weakref__", "plugin_name")

    def __init__(self, plugin_name: str) -> None:
        self.plugin_name = check_name(plugin_name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(plugin_name={self.plugin_name!r})"


class PluginContext(PluginContextBase, Generic[T]):
    """The typed context of one plugin: `PluginContext[T](plugin_name, data)`.

    `PluginContext[T]` is a distinct runtime class for each `T`, cached, so
    `PluginContext[int] is PluginContext[int]` and `isinstance(x,
    PluginContext[int])` works. Like Nim's generics it is invariant:
    `PluginContext[Child]` is not a `PluginContext[Parent]`.

    Example:
        >>> ctx = PluginContext[int]("counter", 3)
        >>> isinstance(ctx, PluginContext[int]), isinstance(ctx, PluginContext[bool])
        (True, False)

    `T` must be a class or a generic alias over one (see `runtime_type_of`):
    `PluginContext[5]` or `PluginContext["int"]` raises `TypeError`. A `TypeVar`
    (`PluginContext[T]` in a generic function, or in `cast`) gives a typing alias
    only, never a runtime class. `plugin_name` is checked like any name
    (`check_name`) and kept as a plain `str`.

    The cache is keyed by identity (`_cache_key`): a class is the same `T` only as
    itself, and a generic alias only as an alias over the very same classes, so a class
    whose metaclass claims to equal (and hash as) another's never gets, nor takes, that
    other's `PluginContext[T]`.

    Limits: the class cache is the project's one shared table (a class per state
    type, kept for the life of the process). A subclass of the generic class
    (`class Audited(PluginContext)`) keeps its own cache, so `Audited[int]` is a
    class of its own and never becomes `PluginContext[int]`. The bare
    `PluginContext` cannot be instantiated, and `data` must be an instance of
    `T`'s class (its origin, for a generic alias).
    """

    __slots__ = ("data",)

    state_type: ClassVar[Any] = None
    runtime_type: ClassVar[type | None] = None
    _classes: ClassVar[dict[Any, type[PluginContext[Any]]]] = {}
    _classes_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, plugin_name: str, data: T) -> None:
        plugin_name = check_name(plugin_name)
        runtime_type = type(self).runtime_type
        if runtime_type is None:
            raise TypeError(
                f"plugin {plugin_name!r}: PluginContext needs a state type, "
                "build it as PluginContext[T](plugin_name, data)"
            )
        if not isinstance(data, runtime_type):
            raise TypeError(
                f"plugin {plugin_name!r}: {type(self).__name__} needs data of type "
                f"{type_label(type(self).state_type)}, got {type_label(type(data))}"
            )
        self.plugin_name = plugin_name
        self.data = data

    def __class_getitem__(cls, state_type: Any) -> Any:
        if cls.state_type is not None:
            raise TypeError(f"{cls.__name__} is already specialised")
        if isinstance(state_type, TypeVar):  # `PluginContext[T]` in annotations or `cast`
            return super().__class_getitem__(state_type)  # type: ignore[misc]  # Generic's own alias
        classes = cls.__dict__.get("_classes")
        if classes is None:  # a subclass of the generic class: a cache of its own
            with cls._classes_lock:
                classes = cls.__dict__.get("_classes")
                if classes is None:
                    classes = {}
                    cls._classes = classes
        key = _cache_key(state_type)
        found = classes.get(key)
        if found is not None:
            return found
        runtime_type = runtime_type_of(state_type)
        if runtime_type is None:
            raise TypeError(
                f"{cls.__name__}[{state_type!r:.80}]: the state type must be a class or a "
                f"generic alias over one, got {type(state_type).__name__}"
            )
        with cls._classes_lock:
            if key not in classes:
                name = f"{cls.__name__}[{type_label(state_type)}]"
                attributes = {
                    "__slots__": (),
                    "__qualname__": name,
                    "state_type": state_type,
                    "runtime_type": runtime_type,
                }
                classes[key] = type(name, (cls,), attributes)
            return classes[key]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(plugin_name={self.plugin_name!r}, data={self.data!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as "`PluginContext[T]` around this data", so that a context whose `T` is
        importable survives a store that serializes its values (`shelve`, a disk cache),
        as an equal copy: the class is rebuilt from its family and `T` on the other side.
        A subclass defined at module level pickles by reference, as any class does."""
        cls = type(self)
        family = next(
            (base for base in cls.__mro__ if base.__dict__.get("_classes") is not None), None
        )
        if (
            family is not None
            and family.__dict__["_classes"].get(_cache_key(cls.state_type)) is cls
        ):
            return (_rebuild, (family, cls.state_type, self.plugin_name, self.data))
        return (cls, (self.plugin_name, self.data))


def _rebuild(family: Any, state_type: Any, plugin_name: str, data: Any) -> Any:
    """Unpickle a context: `family[state_type](plugin_name, data)`."""
    return family[state_type](plugin_name, data)


def context_class(state_type: type[T]) -> type[PluginContext[T]]:
    """Return `PluginContext[state_type]`, typed for mypy (the same cached class)."""
    specialised: type[PluginContext[T]] = PluginContext.__class_getitem__(state_type)
    return specialised


class ContextTypeError(TypeError):
    """A checked downcast that does not fit (Nim's `ObjectConversionDefect`).

    Carries the culprit as data: `plugin_name`, `stored_type` (the class of the
    stored context) and `requested_type` (the `PluginContext[T]` asked for).
    """

    def __init__(self, plugin_name: str, stored_type: type, requested_type: type) -> None:
        self.plugin_name = plugin_name
        self.stored_type = stored_type
        self.requested_type = requested_type
        super().__init__(
            f"plugin {plugin_name!r} stores {stored_type.__name__}, "
            f"asked for {requested_type.__name__}"
        )
