"""Input checks shared by every store and API: what a valid name, context and state type are.

Each check raises before anything is changed, with a message that names the
plugin and the fault, so a refused call leaves the store exactly as it was.
"""

from __future__ import annotations

import typing
import unicodedata
from typing import Any

from refimpl._context import PluginContextBase, type_label

__all__ = ["MAX_NAME_LENGTH", "build_default", "check_context", "check_name", "check_state_type"]

MAX_NAME_LENGTH = 256
"""The longest plugin name accepted, in characters."""


def check_name(name: object) -> str:
    """Return `name` if it is a usable plugin name, else raise.

    A plugin name is a `str` (`TypeError` otherwise) that is not empty, not only
    whitespace, has no control characters and is at most `MAX_NAME_LENGTH`
    characters long (`ValueError` otherwise).
    """
    if not isinstance(name, str):
        raise TypeError(f"plugin name must be a str, got {type(name).__name__}: {name!r:.80}")
    if not name.strip():
        raise ValueError(f"plugin name must not be empty or blank, got {name!r}")
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(
            f"plugin name {name[:40]!r}... is {len(name)} characters, "
            f"at most {MAX_NAME_LENGTH} are allowed"
        )
    if not name.isprintable() and any(unicodedata.category(c) == "Cc" for c in name):
        raise ValueError(f"plugin name {name!r} contains control characters")
    return name


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

    `T` must be a class or a generic alias of one (`list[str]`), and hashable.
    Whether `T()` can be built is only known by trying: see `build_default`.
    """
    runtime_type = typing.get_origin(state_type) or state_type
    if not isinstance(runtime_type, type):
        raise TypeError(
            f"plugin {name!r}: state type must be a class, got {type(state_type).__name__}: "
            f"{state_type!r:.80}"
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
