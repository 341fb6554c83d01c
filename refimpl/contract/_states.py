"""The state types the contract stores, and the contexts it wraps them in.

Distinct classes, each built with no arguments, one of them a subclass of another
(`Tally` of `Counter`), so that a downcast that accepts a subclass is tried. All live
at module level, so their contexts pickle and unpickle: a store that serializes
its values is judged by what it hands back, not refused by the harness.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from refimpl._context import PluginContext

__all__ = [
    "ALL_STATE_TYPES",
    "CONTEXT_CLASSES",
    "GENERIC_STATE_TYPES",
    "STATE_TYPES",
    "Counter",
    "Journal",
    "Settings",
    "Tally",
    "change_state",
    "make_state",
]


@dataclass
class Counter:
    """A counter, like `simple_counter`'s state."""

    count: int = 0


@dataclass
class Tally(Counter):
    """A counter of another kind: `PluginContext[Tally]` must not pass for a
    `PluginContext[Counter]`, though its data is a `Counter`."""


@dataclass
class Journal:
    """A growing log, like `frame_log`'s state."""

    lines: list[str] = field(default_factory=list)


@dataclass
class Settings:
    """A small mapping."""

    values: dict[str, str] = field(default_factory=dict)


STATE_TYPES: Final[dict[str, type[Any]]] = {
    "counter": Counter,
    "tally": Tally,
    "journal": Journal,
    "settings": Settings,
}
"""State types by the key that steps use to name them."""

GENERIC_STATE_TYPES: Final[dict[str, Any]] = {
    "ints": list[int],
    "strs": list[str],
    "counts": dict[str, int],
    "labels": dict[str, str],
}
"""Generic state types, in pairs over one class that differ only in their arguments: a typed
fetch that erases the arguments takes one for the other. Stored through an API only."""

ALL_STATE_TYPES: Final[dict[str, Any]] = {**STATE_TYPES, **GENERIC_STATE_TYPES}
"""Every state type a step can name, by its key."""

GENERIC_SIBLINGS: Final[dict[str, str]] = {
    "ints": "strs",
    "strs": "ints",
    "counts": "labels",
    "labels": "counts",
}
"""The generic state type over the same class, other arguments: what a wrong fetch asks."""


def make_state(key: str, seed: int) -> Any:
    """Return a state of type `ALL_STATE_TYPES[key]` whose value depends on `seed`."""
    if key in ("counter", "tally"):
        return STATE_TYPES[key](count=seed)
    if key == "journal":
        return Journal(lines=[f"line {seed}"])
    if key == "settings":
        return Settings(values={"seed": str(seed)})
    value: int | str = seed if key in ("ints", "counts") else str(seed)
    return [value] if key in ("ints", "strs") else {"seed": value}


def change_state(data: Any) -> None:
    """Change `data` in place (a plugin at work), so that its `repr` changes."""
    if isinstance(data, Counter):
        data.count += 1
    elif isinstance(data, Journal):
        data.lines.append("changed")
    elif isinstance(data, Settings):
        data.values[f"changed {len(data.values)}"] = "yes"
    elif isinstance(data, list):  # a generic state: grows by a copy of its own item
        data.append(data[-1] if data else 0)
    elif isinstance(data, dict):
        data[f"changed {len(data)}"] = next(iter(data.values()), 0)


class _ValueEquality:
    """Contexts equal when their class, plugin and data are (`==`), as a plugin author's
    dataclass-like context would be: a store that takes "equal" for "the same" shows."""

    __slots__ = ()
    plugin_name: str
    data: Any

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _ValueEquality) or type(other) is not type(self):
            return NotImplemented
        return bool((self.plugin_name, self.data) == (other.plugin_name, other.data))

    def __hash__(self) -> int:  # the plugin name never changes; the data may
        return hash((type(self), self.plugin_name))


class CounterContext(_ValueEquality, PluginContext[Counter]):
    """A `PluginContext[Counter]` with value equality."""

    __slots__ = ()


class TallyContext(_ValueEquality, PluginContext[Tally]):
    """A `PluginContext[Tally]` with value equality."""

    __slots__ = ()


class JournalContext(_ValueEquality, PluginContext[Journal]):
    """A `PluginContext[Journal]` with value equality."""

    __slots__ = ()


class SettingsContext(_ValueEquality, PluginContext[Settings]):
    """A `PluginContext[Settings]` with value equality."""

    __slots__ = ()


class IntsContext(_ValueEquality, PluginContext[list[int]]):
    """A `PluginContext[list[int]]` with value equality."""

    __slots__ = ()


class StrsContext(_ValueEquality, PluginContext[list[str]]):
    """A `PluginContext[list[str]]` with value equality."""

    __slots__ = ()


class CountsContext(_ValueEquality, PluginContext[dict[str, int]]):
    """A `PluginContext[dict[str, int]]` with value equality."""

    __slots__ = ()


class LabelsContext(_ValueEquality, PluginContext[dict[str, str]]):
    """A `PluginContext[dict[str, str]]` with value equality."""

    __slots__ = ()


CONTEXT_CLASSES: Final[dict[str, type[PluginContext[Any]]]] = {
    "counter": CounterContext,
    "tally": TallyContext,
    "journal": JournalContext,
    "settings": SettingsContext,
    "ints": IntsContext,
    "strs": StrsContext,
    "counts": CountsContext,
    "labels": LabelsContext,
}
"""The class of the contexts the contract stores, by state key: a subclass of
`PluginContext[T]` (so every checked downcast to `T` accepts it) with value equality."""
