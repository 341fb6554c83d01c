"""A store whose bug needs a long program: every `PERIOD`th removal clears the whole table,
so it loses the contexts of the other plugins (`survival`) only after that many removals.
A fresh search takes thousands of examples to find it (see
`tests/refimpl/contract/test_database.py`). It is not in the catalogue, whose mutants each
show within a few steps."""

from __future__ import annotations

from typing import Any

PERIOD = 6
"""The removal that clears the table: every sixth."""


class EveryNthRemovalClears(dict[str, Any]):
    """A `dict` whose every `period`th `del` empties it."""

    def __init__(self, period: int = PERIOD) -> None:
        super().__init__()
        self.period = period
        self.removals = 0

    def __delitem__(self, name: str) -> None:
        self.removals += 1
        if self.removals % self.period == 0:
            self.clear()
        else:
            super().__delitem__(name)


def make_store() -> EveryNthRemovalClears:
    """The store with the sixth removal's bug."""
    return EveryNthRemovalClears()


def make_third() -> EveryNthRemovalClears:
    """The same bug at every third removal: found in far fewer examples."""
    return EveryNthRemovalClears(3)


def make_eager() -> EveryNthRemovalClears:
    """The same bug at every removal: found within a few examples."""
    return EveryNthRemovalClears(1)
