"""Garbage-collection helpers shared by the contract, the tests and the reports."""

from __future__ import annotations

import gc

__all__ = ["gc_collect"]


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
