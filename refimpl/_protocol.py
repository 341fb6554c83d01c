"""The store protocol that every store in this project implements."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from refimpl._context import PluginContextBase

__all__ = ["PluginStore"]


@runtime_checkable
class PluginStore(Protocol):
    """What a store promises: three operations on contexts keyed by plugin name.

    `get_plugin_data` answers the object last stored under `name`, or `None`
    after removal; the fixed `ContextStore` also keeps it alive meanwhile, which
    is exactly what the broken stores fail to do.
    """

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None: ...

    def get_plugin_data(self, name: str) -> PluginContextBase | None: ...

    def remove_plugin_data(self, name: str) -> None: ...
