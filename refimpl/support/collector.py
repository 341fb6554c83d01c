"""Garbage-collection helpers shared by the contract, the tests and the reports."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["frozen_gc", "gc_collect", "gc_disabled"]


def gc_collect() -> None:
    """Collect garbage until nothing more is found (at most three passes).

    Reference counting frees acyclic objects at once; a context caught in a
    reference cycle is freed only by the collector, and one collection can
    free objects whose finalizers release more. Call this before asserting
    that something was (or was not) freed.
    """
    for _ in range(3):
        if not gc.collect():
            break


@contextmanager
def frozen_gc() -> Iterator[None]:
    """Move every object alive now out of the collector's view for the block.

    With tens of thousands of long-lived objects loaded (pytest, Hypothesis),
    one `gc.collect()` costs milliseconds; frozen, it only walks what the
    block itself created. `gc.unfreeze()` on exit puts them back (so nested
    or concurrent freezes are not supported: the outer one ends them all).
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextmanager
def gc_disabled() -> Iterator[None]:
    """Turn the cycle collector off for the block (plain reference counting, like Nim's
    ARC), and back on afterwards if it was on."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
