"""The fixed plugin host: counted references to contexts and checked downcasts.

Public names are re-exported here; the modules behind them are private.
"""

from refimpl._api import PluginAPI, get_context, set_context
from refimpl._context import ContextTypeError, PluginContext, PluginContextBase
from refimpl._host import Host, PluginFailure, RunSummary
from refimpl._plugin import KeyEvent, PluginModule
from refimpl._protocol import PluginStore
from refimpl._screen import Screen
from refimpl._store import ContextStore

__all__ = [
    "ContextStore",
    "ContextTypeError",
    "Host",
    "KeyEvent",
    "PluginAPI",
    "PluginContext",
    "PluginContextBase",
    "PluginFailure",
    "PluginModule",
    "PluginStore",
    "RunSummary",
    "Screen",
    "get_context",
    "set_context",
]
