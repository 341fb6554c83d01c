"""Which files at a report's names in a folder this project wrote, and may so replace.

Each file of a report carries `GENERATOR` in its own format's way: a `<meta
name="generator">` in index.html (`HTML_MARK`), a closing line in report.md and
report-full.md (`MARKDOWN_MARK`), a `"generator"` key in report.json, a comment in
junit.xml (`JUNIT_MARK`). A file written before the mark existed (report.json schema
version 4 and earlier) is known by the shape only this project's report has: the page's
title, the Markdown's first line, report.json's schema version and keys, junit.xml's root.
Anything else at a report file's name (a file without either, a symbolic link, a FIFO, a
socket, a file that cannot be read) is not this project's, and `foreign_files` names it.
A folder there is refused elsewhere (`output_folder`, `write_texts_atomically`).
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Final

__all__ = [
    "GENERATOR",
    "HTML_MARK",
    "JUNIT_MARK",
    "MARKDOWN_MARK",
    "ForeignFiles",
    "foreign_files",
    "refusal",
]

GENERATOR: Final = "python -m reports (plugin-context-ownership)"
"""What every file of a report says wrote it."""
HTML_MARK: Final = f'<meta name="generator" content="{GENERATOR}">'
"""index.html's mark, in its `<head>`."""
MARKDOWN_MARK: Final = f"Written by {GENERATOR}, which replaces this file when it next runs here."
"""The last line of report.md and report-full.md."""
JUNIT_MARK: Final = f"<!-- generator: {GENERATOR} -->"
"""junit.xml's mark: a comment, the first child of `<testsuites>` (XML readers skip it)."""

_TITLE = "# Ownership contract report"
_EARLIER_TITLE = "<title>Ownership contract report</title>"
_HEAD = 4096
"""Where the page's and junit.xml's marks are looked for: the first characters."""
_LIMIT = 256 * 1024 * 1024
"""A file longer than this is no report of this project's (a whole report is a few MB)."""
_EARLIEST_MARKED = 5
"""report.json's first schema version with the `"generator"` key."""
_REPORT_KEYS = frozenset({"schema_version", "summary", "properties", "implementations"})
_JUNIT_ROOT = re.compile(r"<\?xml[^>]*\?>\s*<testsuites name=\"ownership contract\"")


def _page(text: str) -> bool:
    head = text[:_HEAD]
    return HTML_MARK in head or (head.startswith("<!DOCTYPE html>") and _EARLIER_TITLE in head)


def _markdown(text: str) -> bool:
    lines = text.splitlines()
    return lines[-1:] == [MARKDOWN_MARK] or lines[:1] == [_TITLE]


def _json(text: str) -> bool:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return False
    if not isinstance(data, dict):
        return False
    if data.get("generator") == GENERATOR:
        return True
    version = data.get("schema_version")
    return type(version) is int and version < _EARLIEST_MARKED and data.keys() >= _REPORT_KEYS


def _junit(text: str) -> bool:
    head = text[:_HEAD]
    return JUNIT_MARK in head or _JUNIT_ROOT.match(head) is not None


_RECOGNISE: Final[Mapping[str, Callable[[str], bool]]] = {
    "index.html": _page,
    "report.md": _markdown,
    "report-full.md": _markdown,
    "report.json": _json,
    "junit.xml": _junit,
}
"""How each file of a report is known as this project's, from its text."""


def _why_not_ours(path: Path) -> str | None:
    """None when `path` is missing, a folder, or a regular file this project wrote as a
    report's `path.name`; otherwise why it may not be replaced, in a few words. Never
    follows a symbolic link, never blocks on a FIFO."""
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISDIR(status.st_mode):
        return None
    if stat.S_ISLNK(status.st_mode):
        return "a symbolic link"
    if not stat.S_ISREG(status.st_mode):
        return "not a regular file"
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        return f"cannot be read: {error.strerror}"
    try:
        with open(descriptor, "rb", closefd=False) as stream:
            raw = stream.read(_LIMIT + 1)
    except OSError as error:
        return f"cannot be read: {error.strerror}"
    finally:
        os.close(descriptor)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    recognise = _RECOGNISE.get(path.name)
    if len(raw) > _LIMIT or recognise is None or not recognise(text):
        return "not written by python -m reports"
    return None


def foreign_files(folder: Path, names: Iterable[str] = _RECOGNISE) -> dict[Path, str]:
    """Each file at one of `names` (a report's files) in `folder` that this project did not
    write, with why it may not be replaced; empty when every one is missing, a folder, or
    a report this project wrote (marked, or of the shape its earlier reports had).

    >>> foreign_files(Path("/nonexistent"))
    {}
    """
    found = {folder / name: _why_not_ours(folder / name) for name in names}
    return {path: why for path, why in found.items() if why is not None}


def refusal(files: Mapping[Path, str]) -> str:
    """One line naming each of `files` and why, and what to do."""
    named = ", ".join(f"{str(path)!r} ({why})" for path, why in files.items())
    one = len(files) == 1
    return (
        f"{'a file' if one else 'files'} that python -m reports did not write would be "
        f"replaced: {named}; move {'it' if one else 'them'} away, or use another --out DIR"
    )


class ForeignFiles(FileExistsError):
    """Files at a report's names that this project did not write, which the writer will not
    replace; `.files` maps each to why, and the message (`refusal`) names them all."""

    def __init__(self, files: Mapping[Path, str]) -> None:
        self.files = dict(files)
        super().__init__(refusal(files))

    def __str__(self) -> str:
        return refusal(self.files)
