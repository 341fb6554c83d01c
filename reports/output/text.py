"""How every command's output names and quotes things it did not write: ids for HTML
anchors that never collide, links that are safe to follow, a text's first line."""

from __future__ import annotations

import hashlib
import re

__all__ = ["anchor", "first_line", "http_link"]

_LINK = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[A-Za-z0-9._~:/?#@!$&()*+,;=%-]*)?")


def anchor(prefix: str, name: str) -> str:
    """An HTML id for `name`: its ASCII letters and digits (readable), then a hash of the
    exact name (unique), so names that read alike never share one.

    >>> anchor("impl", "a b") != anchor("impl", "a-b")
    True
    >>> anchor("impl", "a b")
    'impl-a-b-c8687a08aa'
    """
    slug = "".join(c if c.isascii() and c.isalnum() else "-" for c in name[:40])
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{prefix}-{slug}-{digest}"


def first_line(text: str) -> str:
    """The first line of `text` that is not blank, stripped; "" when there is none."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def http_link(url: str) -> str | None:
    """`url` when it may be a link on the page: an absolute `http://` or `https://`
    address made only of the characters RFC 3986 allows (no quote, space, angle bracket,
    backslash or control character; no user name), else None: anything else (a
    `javascript:` or `data:` address, a relative one) is shown as text, never linked."""
    return url if _LINK.fullmatch(url) else None
