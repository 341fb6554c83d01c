"""Heap grooming: allocate until CPython hands out a freed address again."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TypeVar

__all__ = ["reuse_address"]

T = TypeVar("T")

ADDRESS_MASK = (1 << 64) - 1
"""Clears a sanitize-mode tag, leaving the raw address."""


def reuse_address(address: int, make: Callable[[], T], *, attempts: int = 100_000) -> T:
    """Call `make()` until the object it returns lives at `address`; return that object.

    CPython's allocator hands a freed block to a later object of the same size,
    usually the very next one, but which block comes next depends on what else
    the process allocated, so this keeps allocating (holding the misses, so no
    block is offered twice, and dropping them at the end) until one lands.

    Example:
        >>> from refimpl import PluginContext
        >>> address = id(PluginContext[int]("gone", 0))  # freed at once
        >>> id(reuse_address(address, lambda: PluginContext[str]("new", ""))) == address
        True

    Raises `RuntimeError` if no object landed there within `attempts`: the block
    may hold a live object, or `make()` may build other objects of that size
    first (build shared parts once, outside `make`).
    """
    address &= ADDRESS_MASK
    # A deque grows in blocks too big for the small-object allocator, so keeping the
    # misses never takes the very block being waited for (a list could).
    misses: deque[T] = deque()
    for _ in range(attempts):
        candidate = make()
        if id(candidate) == address:
            return candidate
        misses.append(candidate)
    raise RuntimeError(f"no object landed on {address:#x} within {attempts} allocations")
