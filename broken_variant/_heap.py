"""A simulated heap over CPython's own: addresses are `id()`, frees are observed by weakrefs."""

from __future__ import annotations

import itertools
import sys
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass

from broken_variant._errors import DoubleFree, UseAfterFree, WildPointer
from broken_variant._report import SanitizerReport, StackFrame, capture_stack, thread_name

__all__ = ["SimulatedHeap"]

TAG_SHIFT = 64
"""Sanitize mode keeps a pointer's tag above bit 64, clear of any real address."""
QUARANTINE = 1 << 16
"""How many freed, reused allocations sanitize mode remembers (for precise reports)."""


def describe(obj: object) -> str:
    """Say what an object is, the way a report names the memory it occupied."""
    owner = getattr(obj, "plugin_name", None)
    plugin = f" of plugin {owner!r}" if isinstance(owner, str) else ""
    return f"a {type(obj).__name__}{plugin} ({sys.getsizeof(obj)} bytes)"


@dataclass(slots=True)
class _Allocation:
    address: int
    tag: int
    what: str
    ref: weakref.ref[object]
    allocated: tuple[StackFrame, ...]
    freed: tuple[StackFrame, ...] | None = None


class SimulatedHeap:
    """Registers objects as allocations and checks every use of their address.

    `alloc(obj)` returns `obj`'s address (its `id()`) and records where it was
    allocated; it holds `obj` only by a weakref, whose callback records where
    CPython freed it (the frame that dropped the last reference). `deref(addr)`
    returns the live object at that address, which may be a *newer* object,
    since CPython reuses addresses, or raises `UseAfterFree`; `free(addr)` of
    an address already freed raises `DoubleFree`.

    With `sanitize=True`, each pointer also carries a tag (as memory tagging
    does), so a pointer to an address that was reused is caught at the point of
    use with `UseAfterFree` instead of silently reaching the newer object.

    Example:
        >>> from refimpl import PluginContext
        >>> heap = SimulatedHeap()
        >>> addr = heap.alloc(PluginContext[int]("counter", 1))  # nobody keeps it
        >>> heap.deref(addr)
        Traceback (most recent call last):
        ...
        broken_variant._errors.UseAfterFree: ...

    Limits: it knows only the objects given to `alloc`; an address it never
    allocated raises `WildPointer`.
    """

    def __init__(self, sanitize: bool = False) -> None:
        self.sanitize = sanitize
        self._lock = threading.RLock()
        self._current: dict[int, _Allocation] = {}
        self._by_ref: dict[int, _Allocation] = {}
        self._reused: OrderedDict[tuple[int, int], _Allocation] = OrderedDict()
        self._tags = itertools.count(1)

    def alloc(self, obj: object) -> int:
        """Register `obj` and return its address (tagged in sanitize mode)."""
        address = id(obj)
        with self._lock:
            current = self._current.get(address)
            if current is not None and current.freed is None and current.ref() is obj:
                return self._pointer(current)
            tag = next(self._tags) if self.sanitize else 0
            record = _Allocation(address, tag, describe(obj), self._watch(obj), capture_stack())
            if current is not None:
                del self._by_ref[id(current.ref)]
                if self.sanitize:
                    self._reused[(address, current.tag)] = current
                    while len(self._reused) > QUARANTINE:
                        self._reused.popitem(last=False)
            self._current[address] = record
            self._by_ref[id(record.ref)] = record
            return self._pointer(record)

    def _watch(self, obj: object) -> weakref.ref[object]:
        try:
            return weakref.ref(obj, self._on_free)
        except TypeError:
            raise TypeError(
                f"SimulatedHeap can only track objects that support weakrefs, "
                f"got {type(obj).__name__}"
            ) from None

    def _on_free(self, ref: weakref.ref[object]) -> None:
        # Runs inside CPython's deallocation, in the frame that dropped the last reference.
        with self._lock:
            record = self._by_ref.get(id(ref))
            if record is not None and record.ref is ref and record.freed is None:
                record.freed = capture_stack()

    def deref(self, addr: int, *, via: str = "") -> object:
        """Return the live object at `addr`, or raise `UseAfterFree` / `WildPointer`.

        `via` names the pointer for the report (e.g. "the pointer stored for plugin 'a'").
        """
        with self._lock:
            record, stale = self._lookup(addr, via)
            if stale is not None:
                raise UseAfterFree(self._report("heap-use-after-free", stale, via, reused=record))
            obj = record.ref() if record.freed is None else None
            if obj is None:
                raise UseAfterFree(self._report("heap-use-after-free", record, via))
            return obj

    def free(self, addr: int, *, via: str = "") -> None:
        """Free `addr` explicitly; `DoubleFree` if it was already freed.

        CPython keeps the object itself alive while anyone references it; the
        heap treats it as freed from now on.
        """
        with self._lock:
            record, stale = self._lookup(addr, via)
            if stale is not None:
                raise DoubleFree(self._report("double-free", stale, via, reused=record))
            if record.freed is not None or record.ref() is None:
                raise DoubleFree(self._report("double-free", record, via))
            record.freed = capture_stack()

    def is_live(self, addr: int) -> bool:
        """True if `deref(addr)` would return an object (the one this pointer meant)."""
        address, tag = self._split(addr)
        with self._lock:
            record = self._current.get(address)
            return (
                record is not None
                and record.tag == tag
                and record.freed is None
                and record.ref() is not None
            )

    def _split(self, addr: int) -> tuple[int, int]:
        return addr & ((1 << TAG_SHIFT) - 1), addr >> TAG_SHIFT

    def _pointer(self, record: _Allocation) -> int:
        return record.address | (record.tag << TAG_SHIFT)

    def _lookup(self, addr: int, via: str) -> tuple[_Allocation, _Allocation | None]:
        """Return the allocation now at `addr`, and the older one the pointer meant if
        sanitize mode sees that the address was reused since."""
        address, tag = self._split(addr)
        record = self._current.get(address)
        if record is None:
            raise WildPointer(
                SanitizerReport(
                    "SEGV on unknown address",
                    address,
                    "memory this heap never allocated",
                    via,
                    capture_stack(),
                    (),
                    (),
                    thread_name(),
                )
            )
        if record.tag == tag:
            return record, None
        stale = self._reused.get((address, tag))
        if stale is None:  # forgotten: older than the quarantine
            stale = _Allocation(address, tag, "an allocation since forgotten", record.ref, ())
        return record, stale

    def _report(
        self, kind: str, record: _Allocation, via: str, reused: _Allocation | None = None
    ) -> SanitizerReport:
        note = ""
        if reused is not None:
            where = f" {reused.allocated[0]}" if reused.allocated else ""
            note = (
                f"sanitize: pointer tag {record.tag} does not match memory tag {reused.tag}: "
                f"the address now holds {reused.what}, allocated{where}"
            )
        return SanitizerReport(
            kind,
            record.address,
            record.what,
            via,
            capture_stack(),
            record.freed or (),
            record.allocated,
            thread_name(),
            note,
        )

    def __repr__(self) -> str:
        mode = "sanitize" if self.sanitize else "plain"
        return f"SimulatedHeap({mode}, {len(self._current)} addresses)"
