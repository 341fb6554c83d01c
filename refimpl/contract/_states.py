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
    "CONTEXT_CLASSES",
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


def make_state(key: str, seed: int) -> Any:
    """Return a state of type `STATE_TYPES[key]` whose value depends on `seed`."""
    if key in ("counter", "tally"):
        return STATE_TYPES[key](count=seed)
    if key == "journal":
        return Journal(lines=[f"line {seed}"])
    return Settings(values={"seed": str(seed)})


def change_state(data: Any) -> None:
    """Change `data` in place (a plugin at work), so that its `repr` changes."""
    if isinstance(data, Counter):
        data.count += 1
    elif isinstance(data, Journal):
        data.lines.append("changed")
    elif isinstance(data, Settings):
        data.values[f"changed {len(data.values)}"] = "yes"


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


CONTEXT_CLASSES: Final[dict[str, type[PluginContext[Any]]]] = {
    "counter": CounterContext,
    "tally": TallyContext,
    "journal": JournalContext,
    "settings": SettingsContext,
}
"""The class of the contexts the contract stores, by state key: a subclass of
`PluginContext[T]` (so every checked downcast to `T` accepts it) with value equality."""
