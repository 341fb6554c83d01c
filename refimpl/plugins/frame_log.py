"""A second plugin with a different state type: a log that grows every frame.

It exists so that a mixed-up context is a type confusion (a `FrameLog` where a
`CounterState` was expected), not a coincidence of two look-alike states.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from refimpl._api import PluginAPI, get_context
from refimpl._plugin import KeyEvent, PluginModule

__all__ = ["DEFAULT_NAME", "FrameLog", "make_plugin"]

DEFAULT_NAME = "frame_log"
KEEP_LINES = 64


@dataclass
class FrameLog:
    """The log's state: its newest lines (at most `KEEP_LINES`) and how many it has seen."""

    lines: list[str] = field(default_factory=list)
    seen: int = 0

    def append(self, line: str) -> None:
        """Add `line`, dropping the oldest once `KEEP_LINES` are kept."""
        self.lines.append(line)
        self.seen += 1
        del self.lines[:-KEEP_LINES]


def make_plugin(name: str = DEFAULT_NAME) -> PluginModule:
    """Return the log plugin, keeping its state under `name`.

    It logs every frame and every key (without handling it) and draws its line
    count and newest line on row 1.
    """

    def init(api: PluginAPI) -> None:
        get_context(api, name, FrameLog)

    def update(api: PluginAPI, dt: float) -> None:
        log = get_context(api, name, FrameLog).data
        log.append(f"frame {log.seen + 1}: dt={dt * 1000:.1f} ms")

    def render(api: PluginAPI) -> None:
        log = get_context(api, name, FrameLog).data
        newest = log.lines[-1] if log.lines else "(empty)"
        api.draw(0, 1, f"Log: {log.seen} lines, last: {newest}")

    def handle_event(api: PluginAPI, event: KeyEvent) -> bool:
        get_context(api, name, FrameLog).data.append(f"key {event.key!r}")
        return False

    return PluginModule(
        name=name,
        version="1.0.0",
        init=init,
        update=update,
        render=render,
        handle_event=handle_event,
    )
