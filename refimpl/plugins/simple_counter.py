"""The seed's plugin: counts frames, draws `Frame: N`, resets on `r`."""

from __future__ import annotations

from dataclasses import dataclass

from refimpl._api import PluginAPI, get_context
from refimpl._plugin import KeyEvent, PluginModule

__all__ = ["DEFAULT_NAME", "CounterState", "make_plugin"]

DEFAULT_NAME = "simple_counter"


@dataclass
class CounterState:
    """The counter's state: frames counted since start or the last reset."""

    count: int = 0


def make_plugin(name: str = DEFAULT_NAME) -> PluginModule:
    """Return the counter plugin, keeping its state under `name`.

    After N frames its screen line reads exactly `Frame: N`; `KeyEvent("r")`
    sets it back to 0 and is reported as handled.
    """

    def init(api: PluginAPI) -> None:
        get_context(api, name, CounterState)

    def update(api: PluginAPI, dt: float) -> None:
        get_context(api, name, CounterState).data.count += 1

    def render(api: PluginAPI) -> None:
        api.draw(0, 0, f"Frame: {get_context(api, name, CounterState).data.count}")

    def handle_event(api: PluginAPI, event: KeyEvent) -> bool:
        if event.key != "r":
            return False
        get_context(api, name, CounterState).data.count = 0
        return True

    return PluginModule(
        name=name,
        version="1.0.0",
        init=init,
        update=update,
        render=render,
        handle_event=handle_event,
    )
