"""Ownership pictures: who keeps a context alive (objgraph), rendered to SVG by Graphviz.

The fixed store: the chain of references from a module to a live context.
The broken store: what it holds instead, an address, from which no chain reaches
the (dead) context. Rendering uses `dot` when it is on PATH, else the
`graphviz-pure` package; with neither, the page embeds the DOT source and says so.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import weakref
from collections.abc import Callable
from pathlib import Path

import objgraph

from broken_variant import UntrackedStore
from refimpl import ContextStore, PluginContext
from refimpl._gc import gc_collect
from refimpl.plugins.simple_counter import CounterState
from reports._findings import Graph

__all__ = ["ownership_graphs", "render_svg"]

scene: object = None
"""Set only while a picture is taken, so the chain can start at this module."""


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


def _dot(draw: Callable[..., object], *args: object, **options: object) -> str:
    """The DOT source an objgraph drawing function writes."""
    buffer = io.StringIO()
    draw(*args, output=buffer, **options)
    return buffer.getvalue()


def _fixed_graph() -> Graph:
    global scene
    store = ContextStore()
    store.set_plugin_data(
        "simple_counter", PluginContext[CounterState]("simple_counter", CounterState(7))
    )
    scene = store
    try:
        context = store.get_plugin_data("simple_counter")
        chain = objgraph.find_backref_chain(context, objgraph.is_proper_module, max_depth=8)
        del context
        dot = _dot(objgraph.show_chain, chain)
        del chain
    finally:
        scene = None
    svg, renderer = render_svg(dot)
    return Graph(
        "Fixed store: a chain of counted references",
        "From a module, through the ContextStore and its dict, to the live context: "
        "as long as this chain exists, the context cannot be freed.",
        dot,
        svg,
        renderer,
    )


def _broken_graph() -> Graph:
    store = UntrackedStore()
    context = PluginContext[CounterState]("simple_counter", CounterState(7))
    alive = weakref.ref(context)
    store.set_plugin_data("simple_counter", context)
    del context
    gc_collect()
    state = "freed" if alive() is None else "still alive (unexpected)"
    dot = _dot(
        lambda output: objgraph.show_refs(
            [store],
            max_depth=2,
            too_many=8,
            output=output,
            filter=lambda obj: not isinstance(obj, type),
        )
    )
    svg, renderer = render_svg(dot)
    return Graph(
        "Broken store: an address, and no chain",
        f"The UntrackedStore holds only an int (the context's old address). No reference "
        f"leads to the context, so CPython freed it: it is {state}.",
        dot,
        svg,
        renderer,
    )


def ownership_graphs() -> list[Graph]:
    """The two pictures: the fixed store's chain, and the broken store's bare address."""
    return [_fixed_graph(), _broken_graph()]
