"""Ownership pictures: who keeps a context alive, found with objgraph, drawn by Graphviz.

Each picture is a small scene built for it: a `Host` running the counter plugin on the
fixed store, and a `BrokenHost` that has just initialised it on the untracked store.
`objgraph.find_ref_chain` finds the shortest chain of references from the host to what
its store holds; only that chain is drawn (no heap internals), with labels written
for the reader rather than cut-off `repr`s, and one colour for one role in both
pictures (`ROLES`, shown in each picture's legend).

- The fixed store: host -> store -> dict -> the live context, every arrow a counted
  reference.
- The broken store: host -> store -> dict -> an int, the context's old address, now a
  stale address; a dashed arrow leads from it to where the context was, freed.

Rendering uses `dot` when it is on PATH, else the `graphviz-pure` package; with neither,
the page embeds the DOT source and says so. Every id in a picture's SVG starts with that
picture's own prefix (`prefix_ids`), so two pictures inline on one page share none; a
node's tooltip (`<title>`) is its label.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import objgraph

from broken_variant import BrokenHost, MemorySafetyViolation, UntrackedStore
from refimpl import ContextStore, Host, PluginContextBase
from refimpl.plugins import simple_counter
from reports.report._model import Graph

__all__ = [
    "ROLES",
    "Role",
    "ownership_graphs",
    "prefix_ids",
    "render_svg",
    "shorten",
]

ELLIPSIS: Final = "\u2026"
LABEL_WIDTH: Final = 38
"""Characters per label line; a longer line is shortened at a word boundary (`shorten`)."""
FRAMES: Final = 3
"""Frames the fixed host runs before its picture is taken (its counter then reads 3)."""
PLUGIN: Final = simple_counter.DEFAULT_NAME


@dataclass(frozen=True, slots=True)
class Role:
    """What a colour means, the same in every picture."""

    fill: str
    stroke: str
    legend: str


ROLES: Final = {
    "context": Role("#ffebe9", "#cf222e", "the plugin's context (dashed: freed)"),
    "owner": Role("#ddf4ff", "#0969da", "its owners: the host and its store"),
    "stale": Role("#fff8c5", "#9a6700", "stale address: points at freed memory"),
    "other": Role("#f6f8fa", "#6e7781", "an object on the way (a dict)"),
}
"""One colour, one meaning, in both pictures: red the context, blue its owners, amber a
stale address, grey anything else on the chain."""


# -- labels ------------------------------------------------------------------------------

_BOUNDARY = re.compile(r"\w(?=\W)|\W(?=.)", re.DOTALL)


def shorten(text: str, width: int = LABEL_WIDTH) -> str:
    """`text` on one line, at most `width` characters: whole, or cut at the last word
    boundary that fits and ended with an ellipsis. A word is cut only when it alone,
    the first, is longer than `width`.

    >>> shorten("PluginContext[CounterState](plugin_name='simple_counter')", 34)
    'PluginContext[CounterState]…'
    >>> shorten("short enough")
    'short enough'
    """
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    room = text[: width - 1]
    ends = [m.end() for m in _BOUNDARY.finditer(text, 0, width) if m.end() <= len(room)]
    kept = room[: ends[-1]].rstrip(" ,;:=([{'\"") if ends else ""
    return (kept or room) + ELLIPSIS


def _lines(*lines: str) -> tuple[str, ...]:
    return tuple(shorten(line) for line in lines if line)


def _describe(obj: object) -> tuple[str, ...]:
    """A node's label: its type, then what a reader needs to know about it."""
    if isinstance(obj, Host):
        plugins = ", ".join(obj.plugin_names)
        return _lines(type(obj).__name__, f"plugin {plugins}, frame {obj.frame_count}")
    if isinstance(obj, PluginContextBase):
        data = getattr(obj, "data", None)
        return _lines(
            type(obj).__name__,
            f"plugin_name={obj.plugin_name!r}",
            "" if data is None else f"data={data!r}",
        )
    if isinstance(obj, ContextStore):
        return _lines(type(obj).__name__, "holds each context itself")
    if isinstance(obj, UntrackedStore):
        return _lines(type(obj).__name__, "holds addresses only")
    if isinstance(obj, dict | list | tuple | set):
        count = len(obj)
        return _lines(type(obj).__name__, f"{count} {'entry' if count == 1 else 'entries'}")
    return _lines(type(obj).__name__, repr(obj))


def _role(obj: object) -> str:
    if isinstance(obj, PluginContextBase):
        return "context"
    if isinstance(obj, Host | ContextStore) or hasattr(obj, "set_plugin_data"):
        return "owner"
    return "other"


def _reference(source: object, target: object) -> str:
    """How `source` refers to `target`, as a reader would write it: `.attribute`,
    `['key']`, `[index]`, or nothing when it cannot tell."""
    if isinstance(source, dict):
        for key, value in source.items():
            if value is target:
                return f"[{key!r}]"
        return ""
    if isinstance(source, list | tuple):
        return next((f"[{i}]" for i, value in enumerate(source) if value is target), "")
    attributes = dict(getattr(source, "__dict__", {}))
    for cls in type(source).__mro__:
        for slot in cls.__dict__.get("__slots__", ()):
            if hasattr(source, slot):
                attributes.setdefault(slot, getattr(source, slot))
    return next((f".{name}" for name, value in attributes.items() if value is target), "")


# -- the graph ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class _Node:
    lines: tuple[str, ...]
    role: str
    dashed: bool = False

    @property
    def name(self) -> str:
        """The node's DOT name, which Graphviz writes as its tooltip: its label, on one line."""
        return " \u00b7 ".join(self.lines)


@dataclass(frozen=True, slots=True)
class _Edge:
    tail: _Node
    head: _Node
    label: str
    dashed: bool = False


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _legend() -> str:
    rows = "".join(
        f'<tr><td width="22" bgcolor="{role.fill}" color="{role.stroke}" border="1"> </td>'
        f'<td align="left">{_html(role.legend)}</td></tr>'
        for role in ROLES.values()
    )
    arrows = (
        '<tr><td colspan="2" align="left">solid arrow: a counted reference<br align="left"/>'
        "dashed arrow: an address, which keeps nothing alive</td></tr>"
    )
    return f'<<table border="0" cellspacing="3" cellpadding="2">{rows}{arrows}</table>>'


def _dot(prefix: str, nodes: list[_Node], edges: list[_Edge]) -> str:
    """The DOT source of a chain, top to bottom, with the legend underneath. Every node,
    edge and the graph itself gets an id that starts with `prefix`."""
    numbers = {node: number for number, node in enumerate(nodes, 1)}
    names: dict[_Node, str] = {}
    for node in nodes:  # two nodes may read alike (two dicts of one entry): keep both
        alike = sum(name.split(" #")[0] == node.name for name in names.values())
        names[node] = node.name if not alike else f"{node.name} #{alike + 1}"
    out = [
        "digraph ObjectGraph {",
        f"  id={_quote(prefix + 'graph')}; rankdir=TB; nodesep=0.25; ranksep=0.4;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=14,'
        ' margin="0.15,0.06"];',
        '  edge [fontname="Helvetica", fontsize=12, color="#57606a", fontcolor="#24292f"];',
    ]
    for node in nodes:
        role = ROLES[node.role]
        style = "rounded,dashed" if node.dashed else "rounded,filled"
        fill = "white" if node.dashed else role.fill
        label = "\\n".join(line.replace("\\", "\\\\").replace('"', '\\"') for line in node.lines)
        out.append(
            f"  {_quote(names[node])} [id={_quote(f'{prefix}node{numbers[node]}')}, "
            f'label="{label}", style="{style}", fillcolor="{fill}", color="{role.stroke}", '
            f"penwidth={2 if node.role != 'other' else 1}];"
        )
    for number, edge in enumerate(edges, 1):
        style = ', style=dashed, color="#cf222e"' if edge.dashed else ""
        out.append(
            f"  {_quote(names[edge.tail])} -> {_quote(names[edge.head])} "
            f"[id={_quote(f'{prefix}edge{number}')}, label={_quote(' ' + edge.label)}{style}];"
        )
    legend = "Legend: what the colours and arrows mean"
    out.append(
        f"  {_quote(legend)} [id={_quote(prefix + 'legend')}, shape=plaintext, style=solid, "
        f"fontsize=11, label={_legend()}];"
    )
    out.append(
        f"  {_quote(names[nodes[-1]])} -> {_quote(legend)} "
        f"[id={_quote(prefix + 'legend_edge')}, style=invis];"
    )
    out.append("}")
    return "\n".join(out) + "\n"


def _chain_graph(
    chain: list[object], describe: Callable[[object], _Node]
) -> tuple[list[_Node], list[_Edge]]:
    """The chain objgraph found, as nodes and labelled edges; an instance's `__dict__`,
    when the chain passes through it, is folded into the arrow named by the attribute."""
    objects = [
        obj
        for i, obj in enumerate(chain)
        if i == 0 or obj is not getattr(chain[i - 1], "__dict__", None)
    ]
    nodes = [describe(obj) for obj in objects]
    edges = [
        _Edge(nodes[i], nodes[i + 1], _reference(objects[i], objects[i + 1]))
        for i in range(len(objects) - 1)
    ]
    return nodes, edges


def _node(obj: object) -> _Node:
    return _Node(_describe(obj), _role(obj))


# -- rendering ---------------------------------------------------------------------------


def _renderer() -> list[str] | None:
    found = shutil.which("dot")
    if found:
        return [found, "-Tsvg"]
    beside = Path(sys.executable).with_name("graphviz-pure")
    found = str(beside) if beside.exists() else shutil.which("graphviz-pure")
    return [found, "-Tsvg"] if found else None


def render_svg(dot: str) -> tuple[str | None, str]:
    """Render DOT source to SVG; return the SVG (or `None`) and what rendered it (or why not)."""
    command = _renderer()
    if command is None:
        return None, "no renderer: neither dot nor graphviz-pure was found"
    try:
        done = subprocess.run(
            command,
            input=dot,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
            env={**os.environ, "LC_ALL": "C"},
        )
    except (OSError, subprocess.SubprocessError) as error:
        return None, f"{Path(command[0]).name} failed: {error}"
    svg = done.stdout
    if "<svg" not in svg:
        return None, f"{Path(command[0]).name} wrote no SVG"
    return svg[svg.find("<svg") :], Path(command[0]).name


_ID = re.compile(r'(?<=\s)id="([^"]*)"')
_HREF = re.compile(r'((?:xlink:)?href)="#([^"]*)"')
_URL = re.compile(r"url\(#([^)]*)\)")


def prefix_ids(svg: str, prefix: str) -> str:
    """`svg` with every element id, and every in-document reference to one (`href="#id"`,
    `url(#id)`), made to start with `prefix`, so that two SVGs inline on one page share
    no id. Ids that already start with it are left as they are. Use a prefix of letters,
    digits and `_`: Graphviz writes other characters of an id as entities (`-` as `&#45;`).

    >>> prefix_ids('<svg><g id="a"/><use href="#a"/></svg>', "p-")
    '<svg><g id="p-a"/><use href="#p-a"/></svg>'
    """
    ids = set(_ID.findall(svg))

    def fixed(name: str) -> str:
        return name if name.startswith(prefix) or name not in ids else prefix + name

    svg = _ID.sub(lambda m: f'id="{fixed(m[1])}"', svg)
    svg = _HREF.sub(lambda m: f'{m[1]}="#{fixed(m[2])}"', svg)
    return _URL.sub(lambda m: f"url(#{fixed(m[1])})", svg)


def _graph(title: str, caption: str, prefix: str, dot: str) -> Graph:
    svg, renderer = render_svg(dot)
    return Graph(title, caption, dot, None if svg is None else prefix_ids(svg, prefix), renderer)


# -- the two scenes ----------------------------------------------------------------------


def _fixed_graph() -> Graph:
    host = Host(sleep=lambda seconds: None)
    host.register_plugin(simple_counter.make_plugin())
    host.run(frames=FRAMES)
    context = host.store.get_plugin_data(PLUGIN)
    chain = objgraph.find_ref_chain(host, lambda obj: obj is context, max_depth=6)
    nodes, edges = _chain_graph(chain, _node)
    del chain
    host.shutdown()
    return _graph(
        "Fixed store: a chain of counted references from the Host",
        "The Host holds its ContextStore, the store holds a dict, the dict holds the context "
        "itself: as long as this chain exists, CPython cannot free the context, whoever else "
        "lets go of it. The chain is the shortest path objgraph finds from the Host; each "
        "arrow is named by the attribute or key that holds the reference.",
        "fixed_",
        _dot("fixed_", nodes, edges),
    )


def _freed(host: BrokenHost, address: int) -> tuple[str, tuple[str, ...]]:
    """What the stale address points at now (`freed`, or the object that reuses it), and
    the label of the context it was: its type, its plugin, and where it was freed."""
    try:
        found = host.store.heap.deref(address, via="the picture")
    except MemorySafetyViolation as error:
        what = error.report.accessed.removeprefix("a ").split(" (")[0]  # "T of plugin 'p'"
        where = next(iter(error.report.freed), None)
        if where is None:
            return "freed", _lines(*what.split(" of ", 1), "freed")
        place = f"at {Path(where.filename).name}:{where.lineno}"
        return "freed", _lines(*what.split(" of ", 1), f"freed in {where.function}()", place)
    now = f"now a live {type(found).__name__}"
    del found
    return now, _lines(f"the context of plugin {PLUGIN!r}", "freed; its address reused")


def _broken_graph() -> Graph:
    host = BrokenHost()
    host.register_plugin(simple_counter.make_plugin())  # init: the context dies on return
    address = host.store.address_of(PLUGIN)
    if address is None:
        raise RuntimeError("the broken store kept no address for the plugin")
    state, was = _freed(host, address)
    stale = _Node(_lines("int", f"stale address {address:#x}: {state}"), "stale")
    chain = objgraph.find_ref_chain(host, lambda obj: obj is address, max_depth=6)
    nodes, edges = _chain_graph(chain, lambda obj: stale if obj is address else _node(obj))
    del chain
    ghost = _Node(was, "context", dashed=True)
    nodes.append(ghost)
    edges.append(_Edge(stale, ghost, "address only", dashed=True))
    return _graph(
        "Broken store: an address, and no chain",
        "The BrokenHost holds its UntrackedStore, the store holds a dict, and the dict holds "
        "only an int: the context's old address. No reference leads from it to the context, "
        f"so CPython freed the context as soon as the plugin's init returned: it is {state}, "
        "and the address is stale. The next frame's fetch is a use-after-free.",
        "broken_",
        _dot("broken_", nodes, edges),
    )


def ownership_graphs() -> list[Graph]:
    """The two pictures: the fixed store's chain from its Host, and the broken store's
    stale address."""
    return [_fixed_graph(), _broken_graph()]
