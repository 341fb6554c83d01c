"""A store module a caller configures before the contract runs: by a module attribute, an
environment variable or an object's attribute (see
`tests/refimpl/contract/test_caller_state.py`). It stays at tests/: fresh processes import
it as `tests.configurable_store`."""

from __future__ import annotations

import os
import weakref
from typing import Any

BACKEND: type[Any] = dict
"""What `make_store` builds: the caller may swap it (a monkeypatch, a configuration)."""


def make_store() -> Any:
    """A `BACKEND`, or a `WeakValueDictionary` when `$CONFIGURABLE_BACKEND` says `weak`."""
    if os.environ.get("CONFIGURABLE_BACKEND") == "weak":
        return weakref.WeakValueDictionary()
    return BACKEND()


def make_kind(kind: str) -> Any:
    """A `dict` or (`kind == "weak"`) a `WeakValueDictionary`."""
    return weakref.WeakValueDictionary() if kind == "weak" else {}


class Configured:
    """A factory held by an object: its `kind` is set after it is built."""

    def __init__(self) -> None:
        self.kind = "strong"

    def make(self) -> Any:
        return make_kind(self.kind)
