"""Text for a terminal: titles, paragraphs, code and word lists, as plain text (piped, or
`NO_COLOR`) or highlighted with rich (a terminal that shows colour). Never Markdown: no
fences, no emphasis marks, no `#` headings; a code span's backticks are dropped (plain) or
become a style (colour)."""

from __future__ import annotations

import os
import re
import shutil
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TextIO

from rich.console import Console
from rich.padding import Padding
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

__all__ = ["INDENT", "MAX_WIDTH", "Block", "Terminal", "plain_text", "wants_color"]

MAX_WIDTH = 100
"""The widest a line of prose, a table or a story comment gets, whatever the terminal."""
INDENT = "    "
"""How far code, a program's output and a list of words are indented."""
_SPAN = re.compile(r"`([^`]+)`")

Kind = Literal["title", "heading", "text", "code", "terms"]


@dataclass(frozen=True, slots=True)
class Block:
    """One piece of what is shown: a `title` (a lesson's), a `heading` (a line that
    introduces what follows), `text` (a paragraph, wrapped; `code spans` in backticks),
    `code` (shown as it is, indented; `language` is `python`, `nim`, or `""` for a
    program's output) or `terms` (words with what they mean)."""

    kind: Kind
    text: str = ""
    language: str = ""
    terms: tuple[tuple[str, str], ...] = ()


def wants_color(stream: TextIO, choice: str = "auto") -> bool:
    """Whether to highlight what goes to `stream`: `always`, `never`, or (`auto`) when it
    is a terminal, `NO_COLOR` is unset or empty, and `TERM` is not `dumb`."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed, or no descriptor
        return False


def _width() -> int:
    return max(60, min(MAX_WIDTH, shutil.get_terminal_size((MAX_WIDTH, 24)).columns))


def plain_text(text: str) -> str:
    """`text` with each code span's backticks dropped."""
    return _SPAN.sub(r"\1", text)


class Terminal:
    """Writes blocks to `stream`, highlighted (`color`) or plain, within `width` columns
    (default: the terminal's, at most `MAX_WIDTH`; `MAX_WIDTH` when it is not a terminal)."""

    def __init__(self, stream: TextIO, *, color: bool, width: int | None = None) -> None:
        self.stream, self.color = stream, color
        self.width = width or _width()
        self._console = (
            Console(
                file=stream,
                force_terminal=True,
                width=self.width,
                highlight=False,
                markup=False,
                emoji=False,
            )
            if color
            else None
        )

    def write(self, blocks: Sequence[Block]) -> None:
        """Write each block, a blank line after each, and flush."""
        for block in blocks:
            if self._console is not None:
                self._rich(self._console, block)
                self._console.print()
            else:
                self.stream.write(self.plain(block) + "\n\n")
        self.stream.flush()

    def line(self, text: str, *, bold: bool = False) -> None:
        """Write one line as it is (a table's row), bold where highlighted."""
        if self._console is not None:
            self._console.print(Text(text, style="bold" if bold else ""), crop=False)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def plain(self, block: Block) -> str:
        """`block` as plain text, without its trailing blank line."""
        if block.kind == "title":
            return "=" * self.width + "\n" + block.text
        if block.kind in ("heading", "text"):
            return textwrap.fill(plain_text(block.text), self.width, break_on_hyphens=False)
        if block.kind == "code":
            return textwrap.indent(block.text.rstrip("\n"), INDENT)
        return "\n".join(self._term_lines(block.terms))

    def _term_lines(self, terms: Sequence[tuple[str, str]]) -> list[str]:
        column = min(max(len(word) for word, _ in terms) + 2, 20)
        lines = []
        for word, meaning in terms:
            hang = INDENT + " " * column
            first = INDENT + word.ljust(column)
            if len(word) >= column:  # a long word has its meaning on the next line
                lines.append(INDENT + word)
                first = hang
            lines += textwrap.wrap(
                meaning,
                self.width,
                initial_indent=first,
                subsequent_indent=hang,
                break_on_hyphens=False,
            )
        return lines

    def _rich(self, console: Console, block: Block) -> None:
        if block.kind == "title":
            console.print(Text("=" * self.width, style="dim"))
            console.print(Text(block.text, style="bold"))
        elif block.kind in ("heading", "text"):
            console.print(_spans(block.text, "bold" if block.kind == "heading" else ""))
        elif block.kind == "code" and block.language:
            code = block.text.rstrip("\n")
            syntax = Syntax(
                code, block.language, theme="ansi_dark", background_color="default", word_wrap=True
            )
            console.print(Padding(syntax, (0, 0, 0, len(INDENT))))
        elif block.kind == "code":
            output = Text(block.text.rstrip("\n"), style="dim")
            console.print(Padding(output, (0, 0, 0, len(INDENT))))
        else:
            grid = Table.grid(padding=(0, 2))
            grid.add_column(style="bold cyan", no_wrap=True)
            grid.add_column()
            for word, meaning in block.terms:
                grid.add_row(word, meaning)
            console.print(Padding(grid, (0, 0, 0, len(INDENT))))


def _spans(text: str, style: str) -> Text:
    """`text` with each code span styled, its backticks dropped."""
    shown = Text(style=style)
    for n, part in enumerate(_SPAN.split(text)):
        shown.append(part, style="cyan" if n % 2 else "")
    return shown
