"""Blanking the slots of a list that point at an object being freed, without touching the object."""

from __future__ import annotations

import ctypes

from refimpl._context import PluginContextBase

__all__ = ["scrub"]


def scrub(held: list[PluginContextBase], address: int) -> bool:
    """Replace every slot of `held` that points at the dying object at `address` with
    `None`, without touching the object (it is being freed: iterating the list would
    take a new reference to it and free it twice). After an over-release the list would
    otherwise point at freed memory, which the next pass over it, or the collector, would
    read. Returns whether any slot did. Reads CPython's list layout: the item array
    pointer follows the object header and size."""
    word = ctypes.sizeof(ctypes.c_void_p)
    items = ctypes.c_void_p.from_address(id(held) + _LIST_ITEMS).value
    found = False
    for index in range(len(held)):
        slot = ctypes.c_void_p.from_address((items or 0) + index * word)
        if slot.value == address:
            _incref(id(None))
            slot.value = id(None)
            found = True
    return found


_incref = ctypes.PyDLL(None).Py_IncRef  # its own function object: pythonapi's are shared
_incref.argtypes = [ctypes.c_void_p]
_incref.restype = None
_LIST_ITEMS = 3 * ctypes.sizeof(ctypes.c_void_p)
"""Offset of `ob_item` in a list object: after its reference count, type and size."""
