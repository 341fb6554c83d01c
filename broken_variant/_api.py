"""The broken API: the seed's `getContext[T]`, which casts without checking."""

from __future__ import annotations

from typing import TypeVar, cast

from refimpl import PluginAPI, PluginContext, context_class
from refimpl.validate import build_default, check_name, check_state_type

__all__ = ["UncheckedPluginAPI"]

T = TypeVar("T")


class UncheckedPluginAPI(PluginAPI):
    """A `PluginAPI` whose `get_context` returns whatever is stored, unchecked.

    The seed's `cast[PluginContext[T]](p)`: the stored object is handed back as
    a `PluginContext[T]` whatever it really is, so a mixed-up context surfaces
    later as a wrong answer or an `AttributeError` in plugin code (a type
    confusion), never as `ContextTypeError` at the point of the mistake.
    """

    def get_context(self, name: str, state_type: type[T]) -> PluginContext[T]:
        """Return what is stored under `name` as if it were a `PluginContext[T]`,
        creating and storing one around `T()` if there is none."""
        stored = self.get_plugin_data(name)
        if stored is None:
            name = check_name(name)
            check_state_type(name, state_type)
            wanted = context_class(state_type)
            created = wanted(name, build_default(name, state_type))
            self.set_plugin_data(name, created)
            return created
        return cast(PluginContext[T], stored)  # the bug: no isinstance check
