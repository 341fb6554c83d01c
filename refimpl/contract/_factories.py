"""How a factory is named in a story (`module:qualname`, `setup_line`) and found again
from that name (`resolve_factory`), in a fresh process too."""

from __future__ import annotations

import importlib
import importlib.machinery
import os
import sys
from collections.abc import Callable
from typing import Any

from refimpl.contract._names import NAMES_DEFAULT

__all__ = ["factory_spec", "resolve_factory", "setup_line"]


def factory_spec(factory: Callable[[], Any]) -> str | None:
    """Return `package.module:name` that imports `factory` back (the shortest such path,
    so a public re-export wins over a private module), or `None` if none does."""
    module = getattr(factory, "__module__", None)
    qualname = getattr(factory, "__qualname__", None)
    if not module or module == "__main__" or not qualname or "<" in qualname:
        return None
    if not _imports_afresh(module):
        return None
    parts = module.split(".")
    for depth in range(1, len(parts) + 1):
        spec = f"{'.'.join(parts[:depth])}:{qualname}"
        try:
            if resolve_factory(spec) is factory:
                return spec
        except (ImportError, AttributeError, TypeError, ValueError):
            continue
    return None


def _imports_afresh(name: str) -> bool:
    """Whether a fresh process that imports the loaded module `name` by that name finds the
    file it came from: not so for one a plugin loader executed from a file path
    (`importlib.util.spec_from_file_location`), which a story could not import."""
    module = sys.modules.get(name)
    file = getattr(module, "__file__", None)
    if module is None or file is None:
        return module is not None  # built in, or a namespace: nothing else to find
    parent = name.rpartition(".")[0]
    path = getattr(sys.modules.get(parent), "__path__", None) if parent else None
    try:
        found = importlib.machinery.PathFinder.find_spec(name, path)
    except (ImportError, ValueError):
        return False
    origin = getattr(found, "origin", None)
    return origin is not None and os.path.realpath(origin) == os.path.realpath(file)


def resolve_factory(spec: str) -> Callable[[], Any]:
    """Import `package.module:factory` and return the factory.

    Raises `ValueError` (no `:`), `ImportError` (module), `AttributeError`
    (name) or `TypeError` (not callable), each naming the spec and the fault.
    """
    module_name, colon, attribute = spec.partition(":")
    if not colon or not module_name or not attribute:
        raise ValueError(f"{spec!r} is not of the form package.module:factory")
    try:
        found: Any = importlib.import_module(module_name)
    except ImportError as error:
        raise ImportError(f"cannot import {module_name!r}: {error}") from error
    for part in attribute.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise AttributeError(f"module {module_name!r} has no {attribute!r}") from None
    if not callable(found):
        raise TypeError(f"{attribute!r} is a {type(found).__name__}, not callable")
    return found  # type: ignore[no-any-return]


def setup_line(factory: Callable[[], Any], mode: str, names: int) -> str:
    """A story's first line: `replay` of `factory` (by import spec, else `factory`)."""
    spec = factory_spec(factory)
    target = repr(spec) if spec else "factory"
    flag = ", api=True" if mode == "api" else ""
    if names != NAMES_DEFAULT:
        flag += f", names={names}"
    return f"from refimpl.contract import replay; state = replay({target}{flag})"
