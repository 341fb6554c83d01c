"""The plugin names a contract run stores under, down to the one each step picks.

A step's choice of name depends only on which names the model holds, so the machine
that runs the steps and the one that draws them for a worker share it here
(`StepChoices`) and cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

__all__ = [
    "LOOKALIKES",
    "MAX_NAMES",
    "NAMES",
    "NAMES_DEFAULT",
    "PICKED",
    "StepChoices",
    "fresh",
    "name_list",
]

NAMES_DEFAULT = 8
"""How many plugin names the contract stores under unless told (`names=`): enough to
overflow a bounded cache that a registry might be mistaken for."""
PICKED = ("a", "b", "c")
"""The names most steps pick from, so that names are stored again, replaced and removed;
`store_all` reaches the others."""
MAX_NAMES = 1000


def name_list(count: object) -> tuple[str, ...]:
    """The first `count` plugin names: `a` ... `z`, then `n26`, `n27`, ..."""
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_NAMES:
        raise ValueError(f"names must be a whole number from 1 to {MAX_NAMES}, got {count!r}")
    letters = "abcdefghijklmnopqrstuvwxyz"
    return tuple(letters[i] if i < len(letters) else f"n{i}" for i in range(count))


NAMES = name_list(NAMES_DEFAULT)
"""The plugin names the contract stores under by default."""

LOOKALIKES: tuple[tuple[str, str], ...] = (
    ("Tally", "tally"),  # case
    ("tally ", "tally"),  # surrounding whitespace
    ("tally  log", "tally log"),  # inner whitespace
    ("\u00e9", "e\u0301"),  # Unicode normal form: NFC and NFD
    ("tally2", "tally"),  # a trailing number, as a version suffix
)
"""Pairs of plugin names, each a valid name (`check_name`), that differ only as a registry
might normalise them away: a store that folds them into one key gives two plugins one
context."""


def fresh(name: str) -> str:
    """An equal copy of `name` that is another object wherever CPython allows (a name of
    two characters or more), made anew at every call into the code under test: a store
    that compares names by identity (`is`) fails the same way in the worker, whose names
    were unpickled, and in a replay, whose names are literals."""
    return str(name.encode("utf-8", "surrogatepass"), "utf-8", "surrogatepass")


class StepChoices:
    """How a rule's drawn arguments become the step it runs. The choices depend only on
    which names the model holds, so the machine that runs the steps and the one that
    draws them for a worker (`IsolatedMachine`) share them here and cannot drift apart."""

    names: ClassVar[tuple[str, ...]] = NAMES
    model: Mapping[str, object]

    @property
    def picked(self) -> tuple[str, ...]:
        """The names most rules pick from: `PICKED`, as far as `names` reaches."""
        return tuple(n for n in PICKED if n in self.names) or self.names[:1]

    def _pick(self, name: str) -> str:
        return name if name in self.picked else self.picked[ord(name[0]) % len(self.picked)]

    def _pick_stored(self, name: str) -> str:
        return name if name in self.model else sorted(self.model)[0]

    def _pick_empty(self, name: str) -> str:
        """`name` if it holds nothing, else the first picked name that holds nothing."""
        name = self._pick(name)
        empty = (n for n in self.picked if n not in self.model)
        return name if name not in self.model else next(empty)

    def _free(self) -> tuple[str, ...]:
        """The names that hold nothing, as many as `names` leaves room for (a look-alike
        name stored counts against it: a bounded cache is given `names` of room)."""
        free = tuple(n for n in self.names if n not in self.model)
        return free[: len(self.names) - len(self.model)]

    def _has_room(self, count: int) -> bool:
        """Whether `count` names outside `names` can be stored and still, with every name
        stored and every picked one, no more than `names` are held: a bounded cache given
        `names` of room is never overfilled by the look-alikes."""
        return len(set(self.model) | set(self.picked)) + count <= len(self.names)

    def _has_empty_pick(self) -> bool:
        return any(n not in self.model for n in self.picked)
