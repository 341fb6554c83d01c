"""The state types the contract stores: distinct classes, each built with no arguments."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

__all__ = ["STATE_TYPES", "Counter", "Journal", "Settings", "make_state"]


@dataclass
class Counter:
    """A counter, like `simple_counter`'s state."""

    count: int = 0


@dataclass
class Journal:
    """A growing log, like `frame_log`'s state."""

    lines: list[str] = field(default_factory=list)


@dataclass
class Settings:
    """A small mapping."""

    values: dict[str, str] = field(default_factory=dict)


STATE_TYPES: Final[dict[str, type[object]]] = {
    "counter": Counter,
    "journal": Journal,
    "settings": Settings,
}
"""State types by the key that steps use to name them."""


def make_state(key: str, seed: int) -> object:
    """Return a state of type `STATE_TYPES[key]` whose value depends on `seed`."""
    if key == "counter":
        return Counter(count=seed)
    if key == "journal":
        return Journal(lines=[f"line {seed}"])
    return Settings(values={"seed": str(seed)})
