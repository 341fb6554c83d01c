"""What a violation shows: objects described without keeping them, stacks, reference chains."""

from __future__ import annotations

import gc
import os
import sys
from types import FrameType

import objgraph

__all__ = ["describe", "describe_error", "held_by", "where"]

MAX_FRAMES = 6


def describe(obj: object) -> str:
    """Say what `obj` is (type, owning plugin, address), without keeping a reference."""
    if obj is None:
        return "None"
    owner = getattr(obj, "plugin_name", None)
    plugin = f" of plugin {owner!r}" if isinstance(owner, str) else ""
    return f"a {type(obj).__name__}{plugin} at {id(obj):#x}"


def describe_error(error: BaseException) -> str:
    """`Type: message`, followed by the sanitizer report when the error carries one."""
    text = f"{type(error).__name__}: {error}"
    report = getattr(error, "report", None)
    formatted = getattr(report, "format", None)
    if callable(formatted):
        return f"{type(error).__name__}:\n{formatted()}"
    return text


def where(frame: FrameType | None) -> str:
    """The stack from `frame` outwards, innermost first, as report lines."""
    lines: list[str] = []
    while frame is not None and len(lines) < MAX_FRAMES:
        code = frame.f_code
        lines.append(
            f"    #{len(lines)} in {code.co_name} {_short(code.co_filename)}:{frame.f_lineno}"
        )
        frame = frame.f_back
    return "\n".join(lines)


def _short(filename: str) -> str:
    """A path relative to the working directory when it is inside it."""
    relative = os.path.relpath(filename) if os.path.isabs(filename) else filename
    return filename if relative.startswith("..") else relative


def held_by(obj: object, owner: object) -> str:
    """Say who keeps `obj` alive: the reference chain from `owner` if there is one
    (found with `objgraph.find_backref_chain`), else the direct referrers.

    Example: `held by: LeakyStore -> dict -> PluginContext[Counter]`.
    """
    chain = objgraph.find_backref_chain(
        obj,
        lambda candidate: candidate is owner,
        max_depth=8,
        extra_ignore=(id(sys._getframe()),),
    )
    if len(chain) > 1:
        return "held by: " + " -> ".join(type(link).__name__ for link in chain)
    referrers = [type(ref).__name__ for ref in gc.get_referrers(obj) if ref is not sys._getframe()]
    return "no chain from the store was found; it is referenced by: " + (
        ", ".join(sorted(referrers)) or "nothing the collector tracks"
    )
