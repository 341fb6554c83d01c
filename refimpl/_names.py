"""What a plugin name is: a plain `str`, made once at the boundary, then checked.

Every store, API, context and host passes a name through `check_name` first and
uses only what it returns, so a `str` subclass's `__eq__`, `__hash__`, `__str__`
or `__repr__` plays no part in any check, key or message after that.
"""

from __future__ import annotations

import unicodedata
from typing import Final

__all__ = ["MAX_NAME_LENGTH", "REFUSED_CATEGORIES", "check_name"]

MAX_NAME_LENGTH: Final = 256
"""The longest plugin name accepted, in characters."""

REFUSED_CATEGORIES: Final[dict[str, str]] = {
    "Cc": "a control character",
    "Cf": "an invisible character",
    "Cs": "a lone surrogate",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
}
"""Unicode categories no plugin name may contain, with how an error names each: control
characters, format characters (zero-width, bidi overrides, BOM, soft hyphen), lone
surrogates, line and paragraph separators. Each can make two names that look alike
differ, or a message lie about the name it shows."""


def check_name(name: object) -> str:
    """Return `name` as a plain `str` if it is a usable plugin name, else raise.

    A plugin name is a `str` (`TypeError` otherwise) that is not empty, not only
    whitespace, at most `MAX_NAME_LENGTH` characters long, and has no character
    of a category in `REFUSED_CATEGORIES` (`ValueError` otherwise, naming the
    fault). A `str` subclass is copied into a plain `str` before anything is
    checked, and the copy is returned: use it, never the argument, from then on.

    Example:
        >>> class Shouting(str):
        ...     def __eq__(self, other: object) -> bool: return True
        ...     __hash__ = str.__hash__
        >>> name = check_name(Shouting("counter"))
        >>> type(name) is str, name == "other"
        (True, False)
        >>> check_name("ab\\u200b")
        Traceback (most recent call last):
        ...
        ValueError: plugin name 'ab\\u200b' contains an invisible character (U+200B, category Cf)
    """
    if type(name) is not str:
        if not issubclass(type(name), str):  # not isinstance: a `__class__` can lie
            raise TypeError(f"plugin name must be a str, got {type(name).__name__}: {name!r:.80}")
        name = str.__str__(name)  # a plain copy, whatever the subclass overrides
    if not name.strip():
        raise ValueError(f"plugin name must not be empty or blank, got {name!r}")
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(
            f"plugin name {name[:40]!r}... is {len(name)} characters, "
            f"at most {MAX_NAME_LENGTH} are allowed"
        )
    if not name.isprintable():  # every refused category is unprintable: the common case is one test
        for char in name:
            category = unicodedata.category(char)
            if category in REFUSED_CATEGORIES:
                raise ValueError(
                    f"plugin name {name!r} contains {REFUSED_CATEGORIES[category]} "
                    f"(U+{ord(char):04X}, category {category})"
                )
    return name
