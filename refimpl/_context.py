"""Typed plugin contexts: the counted references the store holds.

`PluginContext[T]` is a real runtime class per `T`, built once and cached, so a
checked downcast is a plain `isinstance` test, as Nim's object conversion
`PluginContext[T](base)` is a runtime type check.
"""

from __future__ import annotations

import threading
import typing
from typing import Any, ClassVar, Generic, TypeVar

T = TypeVar("T")

__all__ = [
    "ContextTypeError",
    "PluginContext",
    "PluginContextBase",
    "context_class",
    "type_label",
]


def type_label(t: object) -> str:
    """Return a short readable name for a type or a generic alias (`list[str]`)."""
    if isinstance(t, type) and typing.get_origin(t) is None:
        return t.__qualname__
    return repr(t).replace("typing.", "")


class PluginContextBase:
    """Base of every context: what the store holds, by counted reference.

    The seed's `PluginContextBase = ref object of RootObj`. It carries only the
    name of the plugin that owns it; the typed state lives in `PluginContext[T]`.
    """

    __slots__ = ("__weakref__", "plugin_name")

    def __init__(self, plugin_name: str) -> None:
        self.plugin_name = plugin_name

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

    Limits: the class cache is the project's one shared table (a class per state
    type, kept for the life of the process). The bare `PluginContext` cannot be
    instantiated, and `data` must be an instance of `T` when `T` is a class.
    """

    __slots__ = ("data",)

    state_type: ClassVar[Any] = None
    runtime_type: ClassVar[type | None] = None
    _classes: ClassVar[dict[Any, type[PluginContext[Any]]]] = {}
    _classes_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, plugin_name: str, data: T) -> None:
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
        try:
            return cls._classes[state_type]
        except KeyError:
            pass
        except TypeError as err:
            raise TypeError(f"PluginContext[{state_type!r}]: state type is not hashable") from err
        with cls._classes_lock:
            if state_type not in cls._classes:
                name = f"PluginContext[{type_label(state_type)}]"
                origin = typing.get_origin(state_type) or state_type
                attributes = {
                    "__slots__": (),
                    "__qualname__": name,
                    "state_type": state_type,
                    "runtime_type": origin if isinstance(origin, type) else object,
                }
                specialised = type(name, (cls,), attributes)
                cls._classes[state_type] = specialised
            return cls._classes[state_type]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(plugin_name={self.plugin_name!r}, data={self.data!r})"


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
