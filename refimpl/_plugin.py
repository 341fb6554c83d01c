"""What a plugin is to the host: a name, a version and lifecycle callbacks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from refimpl._api import PluginAPI

__all__ = ["KeyEvent", "PluginModule"]


@dataclass(frozen=True, slots=True)
class KeyEvent:
    """A key press for `Host.dispatch_event`; `KeyEvent("r")` resets the counter.

    `key` must be a non-empty `str` (`TypeError` / `ValueError` otherwise).
    """

    key: str

    def __post_init__(self) -> None:
        if not isinstance(self.key, str):
            raise TypeError(f"KeyEvent key must be a str, got {type(self.key).__name__}")
        if not self.key:
            raise ValueError("KeyEvent key must not be empty")


@dataclass(frozen=True, slots=True)
class PluginModule:
    """A plugin: the seed's `PluginModule`, each callback optional.

    `init(api)` once at registration, `update(api, dt)` then `render(api)` every
    frame, `handle_event(api, event) -> bool` (True when handled, which stops
    the event there), `shutdown(api)` once when the host shuts down.
    """

    name: str
    version: str = "0.1.0"
    init: Callable[[PluginAPI], None] | None = None
    update: Callable[[PluginAPI, float], None] | None = None
    render: Callable[[PluginAPI], None] | None = None
    handle_event: Callable[[PluginAPI, KeyEvent], bool] | None = None
    shutdown: Callable[[PluginAPI], None] | None = None
