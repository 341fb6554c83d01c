"""How a lesson shows code: an object's source as it is in this project, whole or only the
lines that matter, headed by what it is and where it is."""

from __future__ import annotations

import contextlib
import inspect
import textwrap
from dataclasses import dataclass
from pathlib import Path

from reports.output import ROOT

__all__ = ["Excerpt", "Shown", "location", "owner", "shown_object", "source_of"]


@dataclass(frozen=True, slots=True)
class Excerpt:
    """Only some lines of `obj`'s source: its `def` or `class` line, and each line that
    contains one of `lines` (each must be in exactly one line), with `...` where lines are
    left out. What a lesson's fixed half shows: the lines that fix the bug, not the
    hardening around them; `python -m reports.lessons --full` shows `obj` whole."""

    obj: object
    lines: tuple[str, ...]


Shown = object
"""What a lesson shows of one half: a function, method or class (shown whole), or an
`Excerpt` of one."""


def shown_object(item: Shown) -> object:
    """The function, method or class `item` shows."""
    return item.obj if isinstance(item, Excerpt) else item


def owner(item: Shown) -> str:
    """What `item` belongs to: the class of a method (`UntrackedStore` for
    `UntrackedStore.get_plugin_data`), else the object itself (a class, a function)."""
    qualname: str = shown_object(item).__qualname__  # type: ignore[attr-defined]
    return qualname.split(".")[0]


def location(item: Shown) -> str:
    """`path:line` of `item`'s source, the path relative to the checkout
    (`refimpl/_store.py:45`)."""
    obj = shown_object(item)
    path = Path(inspect.getsourcefile(obj) or "?")  # type: ignore[arg-type]
    line = inspect.getsourcelines(obj)[1]  # type: ignore[arg-type]
    with contextlib.suppress(ValueError):  # outside the checkout: shown as it is
        path = path.resolve().relative_to(ROOT)
    return f"{path}:{line}"


def source_of(item: Shown, *, full: bool = False) -> str:
    """`item`'s source, headed by a comment naming it and where it is (so that two blocks
    of methods of two classes never read as one); an `Excerpt` shows only its lines unless
    `full`. Raises `ValueError` when an excerpt's line is in no line of the source, or in
    more than one."""
    obj = shown_object(item)
    source = textwrap.dedent(inspect.getsource(obj))  # type: ignore[arg-type]
    name = obj.__qualname__  # type: ignore[attr-defined]
    if isinstance(item, Excerpt) and not full:
        return f"# {name} ({location(item)}), the lines that fix it\n{_excerpt(item, source)}"
    return f"# {name} ({location(item)})\n{source}"


def _excerpt(item: Excerpt, source: str) -> str:
    lines = source.rstrip("\n").splitlines()
    start = next(n for n, line in enumerate(lines) if not line.lstrip().startswith("@"))
    kept = {start}
    for wanted in item.lines:
        found = [n for n, line in enumerate(lines) if wanted in line]
        if len(found) != 1:
            name = shown_object(item).__qualname__  # type: ignore[attr-defined]
            raise ValueError(f"{name}: {wanted!r} is in {len(found)} lines of its source, not 1")
        kept.add(found[0])
    shown: list[str] = []
    previous = None
    for n in sorted(kept):
        if previous is not None and n > previous + 1:  # as indented as the first left out
            shown.append(_indent(lines[previous + 1]) + "...")
        shown.append(lines[n])
        previous = n
    if previous is not None and previous < len(lines) - 1:
        shown.append(_indent(lines[previous + 1]) + "...")
    return "\n".join(shown) + "\n"


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]
