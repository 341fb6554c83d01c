"""The bundled plugins; each module exposes `make_plugin(name=<its default name>)`."""

from __future__ import annotations

from refimpl._plugin import PluginModule
from refimpl.plugins import frame_log, simple_counter

__all__ = ["bundled_plugins", "frame_log", "simple_counter"]


def bundled_plugins() -> list[PluginModule]:
    """Return a fresh instance of every bundled plugin, in drawing order."""
    return [simple_counter.make_plugin(), frame_log.make_plugin()]
