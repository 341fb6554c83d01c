"""Input checks shared by every store and API: what a valid name, context and state type are.

Each check raises before anything is changed, with a message that names the
plugin and the fault, so a refused call leaves the store exactly as it was. The
name check lives in `refimpl._names` and is re-exported here.
"""

from __future__ import annotations

from typing import Any

from refimpl._context import PluginContextBase, runtime_type_of, type_label
from refimpl._names import MAX_NAME_LENGTH, REFUSED_CATEGORIES, check_name

__all__ = [
    "MAX_NAME_LENGTH",
    "REFUSED_CATEGORIES",
    "build_default",
    "check_context",
    "check_name",
    "check_state_type",
]


def check_context(name: str, data: object) -> PluginContextBase:
    """Return `data` if it is a `PluginContextBase`, else raise `TypeError` naming the plugin."""
    if not isinstance(data, PluginContextBase):
        raise TypeError(
            f"plugin {name!r}: data must be a PluginContextBase, "
            f"got {type(data).__name__}: {data!r:.80}"
        )
    return data


def check_state_type(name: str, state_type: object) -> None:
    """Raise `TypeError` naming the plugin unless `state_type` can be a context's `T`.

    `T` must be a class or a generic alias over one (`list[str]`), as
    `PluginContext[T]` requires (see `runtime_type_of`). Whether `T()` can be
    built is only known by trying: see `build_default`.
    """
    if runtime_type_of(state_type) is None:
        raise TypeError(
            f"plugin {name!r}: state type must be a class or a generic alias over one, "
            f"got {type(state_type).__name__}: {state_type!r:.80}"
        )


def build_default(name: str, state_type: Any) -> Any:
    """Return `state_type()`, or raise `TypeError` naming the plugin and why it failed."""
    try:
        return state_type()
    except Exception as err:
        raise TypeError(
            f"plugin {name!r}: cannot build a default {type_label(state_type)} with no "
            f"arguments: {type(err).__name__}: {err}"
        ) from err
