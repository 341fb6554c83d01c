"""The measurements document, `reports/MEASUREMENTS.md`: one section per command, each
between `<!-- measured: NAME -->` and `<!-- /measured: NAME -->`, rewritten by that command
alone, the rest of the document left byte for byte.

`record` replaces one section (or appends it when missing), atomically. `record_run` is
what a command calls as it ends: it records only a full run into the default output folder
(`make`'s), headed by the command, the date, the machine and the commit, so a test or a run
with `--out`, `--quick` or a subset never touches the checkout.
"""

from __future__ import annotations

import datetime
import os
import platform
import re
import sys
from pathlib import Path

from reports.output.files import write_text_atomically
from reports.output.provenance import DEFAULT_OUT, MEASURED, ROOT, project_commit

__all__ = ["MEASUREMENTS", "NotOurs", "machine", "read", "record", "record_run"]

MEASUREMENTS = ROOT / MEASURED
"""The document every command records its latest full run in (the README links it)."""
_NAME = re.compile("[a-z0-9][a-z0-9-]*")
_ANY_MARKER = re.compile(r"<!-- /?measured: ")
_HEAD = (
    "# Measurements\n\n"
    "Generated: each section is rewritten by the command it names, when run in full by\n"
    "`make` (see README.md). Edit outside the markers only.\n"
)


class NotOurs(ValueError):
    """A document this module did not write (no section markers, or markers broken): it is
    never overwritten. The message names the file and says why."""


def _markers(section: str) -> tuple[str, str]:
    if not _NAME.fullmatch(section):
        raise ValueError(f"section {section!r} is not a name of lowercase letters, digits, '-'")
    return f"<!-- measured: {section} -->", f"<!-- /measured: {section} -->"


def _span(text: str, section: str, document: Path) -> tuple[int, int] | None:
    """Where the body of `section` lies in `text` (after its start marker's line, up to its
    end marker), or None when the section is missing. Raises `NotOurs` for a marker that
    is not on a line of its own, repeated, or without its other half."""
    start, end = _markers(section)
    opens = [m.start() for m in re.finditer(rf"^{re.escape(start)}$", text, re.MULTILINE)]
    closes = [m.start() for m in re.finditer(rf"^{re.escape(end)}$", text, re.MULTILINE)]
    if not opens and not closes:
        return None
    if len(opens) != 1 or len(closes) != 1 or closes[0] < opens[0]:
        raise NotOurs(f"{document}: the markers of section {section!r} are broken")
    return opens[0] + len(start) + 1, closes[0]


def read(section: str, *, document: Path | None = None) -> str | None:
    """The body recorded for `section` (without its markers), or None when the document or
    the section is missing."""
    document = MEASUREMENTS if document is None else document
    try:
        text = document.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return None
    span = _span(text, section, document)
    return None if span is None else text[span[0] : span[1]]


def record(section: str, markdown: str, *, document: Path | None = None) -> None:
    """Put `markdown` as the body of `section` in `document` (`MEASUREMENTS` by default):
    its old body is replaced, or the section is appended when missing, or the document
    made when missing; everything else in it stays byte for byte. The file is replaced
    atomically (`write_text_atomically`).

    Raises `NotOurs` when `document` exists but holds no section marker at all, or the
    markers of `section` are broken, and `ValueError` for a section name other than
    lowercase letters, digits and `-`, or a body holding a marker; the file is then
    unchanged.

    >>> record("catalogue", "| mutant | ... |")  # doctest: +SKIP
    """
    start, end = _markers(section)
    if _ANY_MARKER.search(markdown):
        raise ValueError(f"the body of section {section!r} holds a section marker")
    body = markdown.rstrip("\n") + "\n"
    document = MEASUREMENTS if document is None else document
    try:
        text = document.read_bytes().decode("utf-8")
    except FileNotFoundError:
        text = None
    if text is None:
        new = f"{_HEAD}\n{start}\n{body}{end}\n"
    else:
        span = _span(text, section, document)
        if span is not None:
            new = text[: span[0]] + body + text[span[1] :]
        elif _ANY_MARKER.search(text) is None:
            raise NotOurs(f"{document}: holds no measured section, so it is not ours to write")
        else:
            new = f"{text}{'' if text.endswith(chr(10)) else chr(10)}\n{start}\n{body}{end}\n"
    write_text_atomically(document, new)


def machine() -> str:
    """The machine in a few words: cores, processor, system, Python
    ("2-core Intel(R) Xeon(R) ..., Linux x86_64, CPython 3.11.7")."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.partition(":")[2].strip()
                    break
    except OSError:
        pass
    return (
        f"{os.cpu_count()}-core {model}, {platform.system()} {platform.machine()}, "
        f"{platform.python_implementation()} {platform.python_version()}"
    )


def record_run(
    section: str,
    markdown: str,
    *,
    command: str,
    out: Path | str | None,
    full: bool,
    document: Path | None = None,
) -> bool:
    """Record a command's output as `section`, headed by `command`, today's date, the
    machine and the commit, when the run was `full` (no quick budget, no subset) and wrote
    into `DEFAULT_OUT` (`out`; None for a command that writes no files). Returns whether it
    recorded. A document it may not write (`NotOurs`, an `OSError`) is one line on stderr:
    the command's own output is already written."""
    if not full or (out is not None and Path(out).resolve() != DEFAULT_OUT.resolve()):
        return False
    commit, dirty = project_commit()
    made = "an unknown commit" if commit is None else f"commit `{commit[:12]}`"
    if dirty:
        made += " with uncommitted changes"
    head = f"`{command}`, {datetime.date.today().isoformat()}, {machine()}, {made}."
    try:
        record(section, f"{head}\n\n{markdown.strip(chr(10))}\n", document=document)
    except (NotOurs, OSError) as refused:
        print(f"measurements not recorded: {refused}", file=sys.stderr)
        return False
    return True
