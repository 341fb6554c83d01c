"""The broken store: the seed's `Table[string, pointer]`, keeping only addresses."""

from __future__ import annotations

from typing import cast

from broken_variant._heap import SimulatedHeap
from refimpl import PluginContextBase
from refimpl.validate import check_context, check_name

__all__ = ["UntrackedStore"]


class UntrackedStore:
    """The store protocol on untracked storage: `name -> address`, nothing counted.

    Storing a context registers it with `heap` (a new `SimulatedHeap` when none
    is given, kept as `.heap`) and keeps only its address, so nothing keeps the
    context alive: once its last outside reference goes, CPython frees it and
    `get_plugin_data` follows a dangling pointer. That raises `UseAfterFree`, or
    returns whatever newer object now lives at the address (type confusion),
    unless the heap's sanitize mode catches the reuse. Replacing or removing an
    entry frees nothing, as overwriting a raw pointer in the seed freed nothing.

    Bad input is refused exactly as `ContextStore` refuses it.
    """

    def __init__(self, heap: SimulatedHeap | None = None) -> None:
        self.heap = heap if heap is not None else SimulatedHeap()
        self._addresses: dict[str, int] = {}

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        """Keep `data`'s address under `name` (and not `data` itself: the bug)."""
        name = check_name(name)
        check_context(name, data)
        self._addresses[name] = self.heap.alloc(data)

    def get_plugin_data(self, name: str) -> PluginContextBase | None:
        """Follow the address stored under `name` (the seed's `cast[...](p)`), or `None`."""
        name = check_name(name)
        address = self._addresses.get(name)
        if address is None:
            return None
        found = self.heap.deref(address, via=f"the pointer stored for plugin {name!r}")
        return cast(PluginContextBase, found)  # unchecked, as the seed's cast was

    def remove_plugin_data(self, name: str) -> None:
        """Forget the address stored under `name`; the memory is not freed."""
        self._addresses.pop(check_name(name), None)

    def address_of(self, name: str) -> int | None:
        """The address (pointer) stored under `name`, or `None`."""
        return self._addresses.get(name)

    def names(self) -> list[str]:
        """Names that have an address stored, in insertion order."""
        return list(self._addresses)

    def __repr__(self) -> str:
        return f"UntrackedStore({self.names()!r}, {self.heap!r})"
