"""What a native process said as it died, read into data: the first AddressSanitizer or
valgrind report (with its stacks reduced to this project's own Nim procedures, named
the same whichever compiler mangled them), the C library's abort message, and Nim's
own traceback and unhandled defect.

Nim 1.6 names a procedure `getContext__OOZOOZrefimplZnimZpluginsZsimple95counter_67`
(procedure, then the mangled module of the instance); Nim 2.2 names it C++-style,
`plugin_interface::getContext(ref<plugin_interface::PluginAPIcolonObjectType_>, string)`.
Both become `Symbol(module="simple_counter" or "plugin_interface", name="getContext")`,
and the lifetime hooks `eqdestroy_`, `eqcopy`, `eqdup_`, `eqsink` become `=destroy`,
`=copy`, `=dup`, `=sink`, as they are written in Nim.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

__all__ = [
    "Abort",
    "Report",
    "Symbol",
    "parse_abort",
    "parse_asan",
    "parse_defect",
    "parse_valgrind",
    "symbol",
]


class Symbol(NamedTuple):
    """A function of a stack frame: its Nim module (None when the name carries none, as
    for the C runtime and Nim's `NimMain`) and its name, hooks spelled as in Nim."""

    module: str | None
    name: str


@dataclass(frozen=True, slots=True)
class Report:
    """The first sanitizer report: its kind (`heap-use-after-free`, `Invalid read`) and,
    innermost first, the names of this project's own procedures in the stack of the bad
    access, of the free and of the allocation (runtime and C library frames left out)."""

    kind: str
    access: list[str] = field(default_factory=list)
    freed: list[str] = field(default_factory=list)
    allocated: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Abort:
    """The C library stopped the process: its message as printed (`free(): invalid
    pointer`), what that means in AddressSanitizer's words (`double-free`, `bad-free`,
    `heap-corruption`, `stack-buffer-overflow`), and the Nim procedures of the traceback
    Nim printed on the signal, innermost first."""

    message: str
    kind: str
    where: list[str] = field(default_factory=list)


_HOOKS = {"destroy", "copy", "dup", "sink", "wasMoved", "trace", "deepCopy"}
_NIM16 = re.compile(r"^(?P<name>\w+?)__(?P<module>[A-Za-z0-9]+)_\d+$")
_NIM22 = re.compile(r"^(?:(?P<module>\w+)::)?(?P<name>[^(<\s]+)")


def _hook(name: str) -> str:
    bare = name[2:].rstrip("_") if name.startswith("eq") else ""
    return f"={bare}" if bare in _HOOKS else name


def symbol(raw: str) -> Symbol:
    """Normalise one function name as a symbolizer printed it, from either mangling.

    >>> symbol("eqcopy___OOZOOZrefimplZnimZpluginsZsimple95counter_30")
    Symbol(module='simple_counter', name='=copy')
    >>> symbol("plugin_interface::eqdup_(ref<plugin_interface::PluginContextcolonObjectType_>)")
    Symbol(module='plugin_interface', name='=dup')

    Limits: a Nim 1.6 module name is decoded from its last path part with `95` read as
    `_`, the only character this project's module names need; a name in neither form
    (the C library's `free`, `NimMainModule`) is kept as it is, with no module.
    """
    if match := _NIM16.match(raw):
        module = match.group("module").split("Z")[-1].replace("95", "_")
        return Symbol(module, _hook(match.group("name")))
    if match := _NIM22.match(raw):
        return Symbol(match.group("module"), _hook(match.group("name")))
    return Symbol(None, raw)


def _names(symbols: Iterable[Symbol], modules: frozenset[str]) -> list[str]:
    return [each.name for each in symbols if each.module in modules]


# "    #3 0x55d5f9405d4a in update__OOZ..._64 /path/simple_counter.nim:12" and, on 2.2,
# "    #2 0x... in plugin_interface::getContext(ref<...>, string) /path/x.nim:31":
# the function runs up to the location (a path:line or "(binary+0xoffset)").
_ASAN_FRAME = re.compile(
    r"^\s+#\d+ 0x[0-9a-f]+ in (.+?)(?: \S+:\d+(?::\d+)?| \([^()]*\+0x[0-9a-f]+\))?$"
)
_VALGRIND_FRAME = re.compile(r"^==\d+==\s+(?:at|by) 0x[0-9A-F]+: (.+?)(?: \((?:in )?[^()]*\))?$")


def parse_asan(text: str, modules: frozenset[str]) -> Report | None:
    """The first AddressSanitizer report in `text`, with the frames of `modules` only;
    None when there is none."""
    kind = re.search(r"ERROR: AddressSanitizer: (\S+)", text)
    if kind is None:
        return None
    stacks: dict[str, list[Symbol]] = {"access": [], "freed": [], "allocated": []}
    current = "access"
    for line in text[kind.start() :].splitlines():
        if "freed by thread" in line:
            current = "freed"
        elif "previously allocated by thread" in line:
            current = "allocated"
        elif line.startswith("SUMMARY:"):
            break
        elif match := _ASAN_FRAME.match(line):
            stacks[current].append(symbol(match.group(1)))
    return Report(kind.group(1), **{k: _names(v, modules) for k, v in stacks.items()})


def parse_valgrind(text: str, modules: frozenset[str]) -> Report | None:
    """The first invalid read, write or free valgrind reported in `text`, with the frames
    of `modules` only; None when there is none."""
    first = re.search(r"==\d+== (Invalid (?:read|write|free)[^\n]*)", text)
    if first is None:
        return None
    stacks: dict[str, list[Symbol]] = {"access": [], "freed": [], "allocated": []}
    current = "access"
    for line in text[first.start() :].splitlines()[1:]:
        if "free'd" in line:
            current = "freed"
        elif "was alloc'd" in line:
            current = "allocated"
        elif match := _VALGRIND_FRAME.match(line):
            stacks[current].append(symbol(match.group(1)))
        elif (
            re.match(r"==\d+==(?: ?$| \S)", line) and current == "allocated" and stacks["allocated"]
        ):
            break  # the blank line, or the next report, after the allocation stack
    kind = first.group(1).split(" of size")[0]
    return Report(kind, **{k: _names(v, modules) for k, v in stacks.items()})


# glibc's malloc_printerr messages (malloc/malloc.c), and the stack protector's.
_ABORTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^.*double free.*$", re.M), "double-free"),
    (re.compile(r"^(?:free|munmap_chunk|realloc)\(\): invalid \w+$", re.M), "bad-free"),
    (re.compile(r"^\*\*\* stack smashing detected \*\*\*.*$", re.M), "stack-buffer-overflow"),
    (re.compile(r"^(?:\w+\(\): \w.*|corrupted .*)$", re.M), "heap-corruption"),
)  # fmt: skip
_NIM_TRACE_LINE = re.compile(r"^\S+\.nim\(\d+\) (\w+)$", re.MULTILINE)


def parse_abort(text: str) -> Abort | None:
    """The C library's abort message in `text` (what the process wrote on stderr as it
    died), named as what it is; None when there is none.

    >>> parse_abort("free(): invalid pointer\\nSIGABRT: Abnormal termination.\\n")
    Abort(message='free(): invalid pointer', kind='bad-free', where=[])
    """
    for pattern, kind in _ABORTS:
        if match := pattern.search(text):
            where = _NIM_TRACE_LINE.findall(text[match.end() :])
            return Abort(match.group(0).strip(), kind, where[::-1])
    return None


def parse_defect(text: str) -> str | None:
    """The Nim defect that ended the process (`ObjectConversionDefect`), or None."""
    match = re.search(r"\[(\w+Defect)\]", text)
    return match.group(1) if match else None
