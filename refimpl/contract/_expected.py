"""What the contract knows of a context it stored: a weakref and descriptions, never the context."""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from refimpl._context import PluginContextBase

__all__ = ["Expected"]


@dataclass(slots=True)
class Expected:
    """What the model knows of the context stored under one name (never the context)."""

    ref: weakref.ref[PluginContextBase]
    address: int
    state: str
    data: str
    what: str
    step: int
    cls: str
    stored: str
    """The data's `repr` when it was stored (`data` follows changes made in place)."""
    plugin: str

    def is_equal_copy(self, got: object) -> bool:
        """Whether `got` is equal (`==`) to the stored context: of its class, for its
        plugin, holding equal data. A copy of it, or the context itself: callers ask of
        an object that is not."""
        return self._is_copy(got) and repr(getattr(got, "data", None)) == self.data

    def is_snapshot(self, got: object) -> bool:
        """Whether `got` is of the stored context's class, for its plugin, holding the data
        it was stored with, since changed in place: a copy taken when it was stored."""
        return self._is_copy(got) and repr(getattr(got, "data", None)) == self.stored

    def _is_copy(self, got: object) -> bool:
        return (
            type(got).__qualname__ == self.cls and getattr(got, "plugin_name", None) == self.plugin
        )
