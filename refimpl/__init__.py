"""The fixed plugin host: counted references to contexts and checked downcasts.

Public names are re-exported here; the modules behind them are private, but for
`refimpl.validate` (the checks every store's boundary makes) and the sub-packages
`refimpl.contract` (the ownership contract), `refimpl.plugins` and `refimpl.support`.
"""

from refimpl._api import PluginAPI, get_context, set_context
from refimpl._context import ContextTypeError, PluginContext, PluginContextBase, context_class
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
    "context_class",
    "get_context",
    "set_context",
]
