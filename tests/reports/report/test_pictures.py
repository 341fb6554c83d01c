"""The report's pictures teach: the ownership graphs show only the chain that matters,
whole labels, the stale address marked, one colour per role, unique ids and readable
tooltips; the plot gives each host a row of its own on the same axes, marks where the
broken host died and why, shows every line, is the same for the same sessions, and reads
at a phone's width."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Text

from reports.report._model import Graph, Session
from reports.report._ownership import ELLIPSIS, ROLES, ownership_graphs, prefix_ids, shorten
from reports.report._plots import sessions_figure, sessions_svg

SVG = "{http://www.w3.org/2000/svg}"
HEAP_INTERNALS = frozenset(
    {"bool", "RLock", "OrderedDict", "count", "module", "function", "type", "SimulatedHeap"}
)
PHONE_PX = 400
"""The width a phone shows a picture at."""
CAUSE = (
    "heap-use-after-free on a PluginContext[CounterState] of plugin 'simple_counter', freed in init"
)
SESSIONS = [
    Session("fixed", "refimpl.Host on ContextStore", list(range(61)), [2] * 61,
            [None, *range(1, 61)], "ran 60 frames; the screen reads 'Frame: 60'"),
    Session("broken", "BrokenHost on UntrackedStore (the seed)", [0, 1], [0, 0], [None, None],
            "crashed at frame 1: heap-use-after-free", 1, CAUSE),
    Session("weakref", "refimpl.Host on a weakref store", list(range(61)), [0] * 61,
            [None] + [0] * 60, "ran 60 frames; the screen reads 'Frame: 0'"),
]  # fmt: skip
"""The sessions as the report's hosts run them (test_report.py runs the real ones)."""


@dataclass(frozen=True)
class Node:
    title: str
    lines: tuple[str, ...]
    fill: str
    stroke: str
    dashed: bool


def _nodes(svg: str) -> list[Node]:
    nodes = []
    for group in ElementTree.fromstring(svg).iter(f"{SVG}g"):
        if group.get("class") != "node":
            continue
        shape = next(child for child in group if child.tag in (f"{SVG}path", f"{SVG}polygon"))
        nodes.append(Node(
            group.findtext(f"{SVG}title") or "",
            tuple(text.text or "" for text in group.iter(f"{SVG}text")),
            shape.get("fill", ""),
            shape.get("stroke", ""),
            shape.get("stroke-dasharray") is not None,
        ))  # fmt: skip
    return nodes


def _edges(svg: str) -> set[tuple[str, str]]:
    titles = (
        group.findtext(f"{SVG}title") or ""
        for group in ElementTree.fromstring(svg).iter(f"{SVG}g")
        if group.get("class") == "edge"
    )
    return {(tail, head) for tail, _, head in (title.partition("->") for title in titles)}


@pytest.fixture(scope="module")
def graphs() -> list[Graph]:
    drawn = ownership_graphs()
    assert all(graph.svg is not None for graph in drawn), [g.renderer for g in drawn]
    return drawn


def _svg(graph: Graph) -> str:
    assert graph.svg is not None
    return graph.svg


def _chain(graph: Graph) -> list[Node]:
    """The graph's nodes but the legend."""
    return [node for node in _nodes(_svg(graph)) if not node.title.startswith("Legend")]


def test_the_fixed_graph_is_the_chain_from_the_host_to_the_context(
    graphs: list[Graph],
) -> None:
    nodes = _chain(graphs[0])
    kinds = [node.lines[0] for node in nodes]
    assert kinds == ["Host", "ContextStore", "dict", "PluginContext[CounterState]"]
    assert not HEAP_INTERNALS & set(kinds)
    path = list(itertools.pairwise(nodes))
    assert {(a.title, b.title) for a, b in path} <= _edges(_svg(graphs[0])), "one chain"


def test_the_broken_graph_is_only_the_chain_to_the_stale_address(graphs: list[Graph]) -> None:
    kinds = [node.lines[0] for node in _chain(graphs[1])]
    assert kinds == ["BrokenHost", "UntrackedStore", "dict", "int", "PluginContext[CounterState]"]
    assert not HEAP_INTERNALS & set(kinds)


def test_the_broken_graph_marks_the_stale_address_and_the_freed_context(
    graphs: list[Graph],
) -> None:
    nodes = _chain(graphs[1])
    stale = [node for node in nodes if any("stale address" in line for line in node.lines)]
    assert len(stale) == 1
    assert re.fullmatch(r"stale address 0x[0-9a-f]+: freed", stale[0].lines[-1])
    assert (stale[0].fill, stale[0].stroke) == (ROLES["stale"].fill, ROLES["stale"].stroke)
    freed = nodes[-1]
    assert freed.dashed
    assert freed.stroke == ROLES["context"].stroke
    assert any(line.startswith("freed in ") for line in freed.lines)
    assert (stale[0].title, freed.title) in _edges(_svg(graphs[1]))


def _role_of(node: Node) -> str:
    if node.lines[0].startswith("PluginContext"):
        return "context"
    if node.lines[0] in ("Host", "BrokenHost", "ContextStore", "UntrackedStore"):
        return "owner"
    if any(line.startswith("stale address") for line in node.lines):
        return "stale"
    return "other"


def test_one_colour_means_one_thing_in_both_graphs_and_each_has_the_legend(
    graphs: list[Graph],
) -> None:
    for graph in graphs:
        for node in _chain(graph):
            role = ROLES[_role_of(node)]
            assert node.stroke == role.stroke, (node.title, node.stroke)
            assert node.fill in (role.fill, "none" if node.dashed else role.fill), node.title
        legend = [node for node in _nodes(_svg(graph)) if node.title.startswith("Legend")]
        assert len(legend) == 1
        assert {role.legend for role in ROLES.values()} <= set(legend[0].lines)


def _balanced(text: str) -> bool:
    depth = {"()": 0, "[]": 0, "{}": 0}
    for char in text:
        for pair in depth:
            depth[pair] += (char == pair[0]) - (char == pair[1])
            if depth[pair] < 0:
                return False
    return not any(depth.values()) and text.count("'") % 2 == 0 and not text.endswith("=")


def test_no_label_is_cut_in_the_middle(graphs: list[Graph]) -> None:
    """A whole label closes what it opens; a shortened one says so with an ellipsis."""
    for graph in graphs:
        for node in _chain(graph):
            for line in node.lines:
                assert line.endswith(ELLIPSIS) or _balanced(line), (graph.title, line)


WORDS = st.text("ab1_", min_size=1, max_size=14)
PUNCTUATION = st.sampled_from([" ", " ", "=", "(", ")", ", ", "'", "[", "]", ".", "-"])
LABELS = st.lists(WORDS | PUNCTUATION, max_size=24).map("".join)
"""Label-like text: words of letters, digits and `_`, between spaces and punctuation."""


@settings(suppress_health_check=[HealthCheck.too_slow])  # a busy machine is not a bug
@given(LABELS)
def test_shorten_cuts_at_a_word_boundary_and_says_so(text: str) -> None:
    flat = " ".join(text.split())
    short = shorten(text, 30)
    assert len(short) <= 30
    if short == flat:
        return
    kept = short.removesuffix(ELLIPSIS)
    assert short.endswith(ELLIPSIS)
    assert flat.startswith(kept)
    after = flat[len(kept) : len(kept) + 1]
    # A first word longer than the width is cut inside (after any leading punctuation).
    one_long_word = re.fullmatch(r"\W*\w+", kept) is not None
    assert one_long_word or not (kept[-1:].isalnum() and after.isalnum()), short


def test_a_long_repr_is_shortened_after_a_whole_word() -> None:
    text = "PluginContext[CounterState](plugin_name='simple_counter', data=CounterState(count=3))"
    assert shorten(text, 44) == f"PluginContext[CounterState](plugin_name{ELLIPSIS}"
    assert (
        shorten(text, 70)
        == f"PluginContext[CounterState](plugin_name='simple_counter', data{ELLIPSIS}"
    )
    assert shorten("x" * 50, 10) == "x" * 9 + ELLIPSIS, "one long word: cut, and says so"


def _ids(svg: str) -> list[str]:
    return [
        element.get("id", "")
        for element in ElementTree.fromstring(svg).iter()
        if "id" in element.attrib
    ]


def test_the_pictures_of_one_page_share_no_id_and_point_only_inside_themselves(
    graphs: list[Graph],
) -> None:
    pictures = [_svg(graph) for graph in graphs] + [sessions_svg(SESSIONS)]
    seen: set[str] = set()
    for svg in pictures:
        ids = _ids(svg)
        assert ids, "every picture has ids"
        assert len(set(ids)) == len(ids)
        assert not seen & set(ids), sorted(seen & set(ids))[:5]
        seen |= set(ids)
        links = re.findall(r'href="([^"]*)"', svg) + re.findall(r"url\(([^)]*)\)", svg)
        assert {link.removeprefix("#") for link in links} <= set(ids), "in-document only"


def test_prefix_ids_renames_ids_and_their_references_together() -> None:
    svg = '<svg><g id="a"/><use xlink:href="#a"/><path clip-path="url(#a)" id="p_b"/></svg>'
    assert prefix_ids(svg, "p_") == (
        '<svg><g id="p_a"/><use xlink:href="#p_a"/><path clip-path="url(#p_a)" id="p_b"/></svg>'
    )


def test_a_node_tooltip_is_its_label(graphs: list[Graph]) -> None:
    for graph in graphs:
        for node in _nodes(_svg(graph)):
            assert not re.fullmatch(r"o\d+", node.title)
            if not node.title.startswith("Legend"):
                assert node.title == " \u00b7 ".join(node.lines)


def test_the_graphs_say_the_same_apart_from_addresses() -> None:
    """What report.json keeps of a graph (all but its DOT source) is the same every run."""
    first, second = ownership_graphs(), ownership_graphs()
    strip = [(g.title, g.caption, g.renderer, g.svg is None) for g in first]
    assert strip == [(g.title, g.caption, g.renderer, g.svg is None) for g in second]
    unmasked = re.compile("0x[0-9a-f]+")
    assert [unmasked.sub("0x", g.dot) for g in first] == [unmasked.sub("0x", g.dot) for g in second]


# -- the plot ----------------------------------------------------------------------------


@pytest.fixture
def figure() -> Iterator[Figure]:
    drawn = sessions_figure(SESSIONS)
    drawn.canvas.draw()
    yield drawn
    plt.close(drawn)


def _panels(figure: Figure) -> dict[str, list[Axes]]:
    """The panels each host's lines are drawn in, by host (a line's label starts with it)."""
    found: dict[str, list[Axes]] = {}
    for axes in figure.axes:
        hosts = {str(line.get_label()).split(":")[0] for line in axes.get_lines()}
        assert len(hosts) <= 1, f"hosts {sorted(hosts)} share a panel"
        for host in hosts:
            found.setdefault(host, []).append(axes)
    return found


def test_each_host_has_panels_of_its_own_on_the_same_axes(figure: Figure) -> None:
    """No host's line lies on another's (the broken host's one frame was a mark on the
    weakref host's line): each host its row, live contexts beside the counter, and every
    row's panels span the same frames and counts, so rows compare at a glance."""
    panels = _panels(figure)
    assert sorted(panels) == sorted(session.host for session in SESSIONS)
    for host, drawn in panels.items():
        assert [axes.get_title(loc="left") for axes in drawn] == [
            "live context objects", "counter on screen"
        ], host  # fmt: skip
    for column in (0, 1):
        limits = {(panels[host][column].get_xlim(), panels[host][column].get_ylim())
                  for host in panels}  # fmt: skip
        assert len(limits) == 1, "rows on different axes"
    low, high = panels["broken"][0].get_xlim()
    assert low <= 0 < 60 == high, "the broken host's row spans every frame"


def test_the_fixed_hosts_live_contexts_are_drawn_over_every_frame(figure: Figure) -> None:
    fixed = SESSIONS[0]
    (line,) = _panels(figure)["fixed"][0].get_lines()
    assert line.get_label() == "fixed: live contexts"
    assert np.asarray(line.get_xdata()).tolist() == fixed.frames
    assert np.asarray(line.get_ydata()).tolist() == fixed.live_contexts


def test_the_broken_hosts_crash_is_marked_where_it_died_with_its_cause(figure: Figure) -> None:
    """An X at the frame the broken host died in, in both its panels; the frames it never
    ran shaded; its cause written in them, whole; its row titled with what happened."""
    live, counter = _panels(figure)["broken"]
    for axes in (live, counter):
        (mark,) = [line for line in axes.get_lines() if line.get_marker() == "X"]
        assert np.asarray(mark.get_xdata()).tolist() == [1], "the X where it died"
        assert str(mark.get_label()) == "broken: crashed at frame 1"
        shades = [patch for patch in axes.patches if patch.get_label() == "broken: never ran"]
        assert len(shades) == 1, "the frames it never ran, shaded"
    said = [" ".join(text.get_text().split()) for text in live.texts]
    assert said == [f"died: {CAUSE}"], "the cause, whole, where the frames it never ran are"
    titles = [sub.get_suptitle() for sub in figure.subfigs]
    assert "broken host: crashed at frame 1" in titles
    assert "fixed host: ran 60 frames; the screen reads 'Frame: 60'" in [
        " ".join(title.split()) for title in titles
    ]


def test_the_same_sessions_give_the_same_svg() -> None:
    assert sessions_svg(SESSIONS) == sessions_svg(SESSIONS)


def _pixels(figure: Figure) -> np.ndarray:
    figure.canvas.draw()
    return np.asarray(figure.canvas.buffer_rgba())[..., :3].astype(int)  # type: ignore[attr-defined]


@pytest.mark.slow
def test_every_line_of_the_plot_is_visible(figure: Figure) -> None:
    """Hiding any one line changes clearly what the plot shows: no line lies fully
    under another."""
    full = _pixels(figure)
    lines = [line for axes in figure.axes for line in axes.get_lines()]
    assert len(lines) >= 7
    for line in lines:
        line.set_visible(False)
        changed = int((np.abs(_pixels(figure) - full).max(axis=2) > 60).sum())
        line.set_visible(True)
        assert changed >= 20, f"{line.get_label()} is hidden ({changed} pixels show it)"


def test_the_plot_reads_at_a_phones_width(figure: Figure) -> None:
    """Shown 400 px wide, every word of the plot is at least 10 px high."""
    width_pt = figure.get_figwidth() * 72
    assert figure.get_figheight() >= figure.get_figwidth(), "tall rather than wide"
    texts = [
        text for text in figure.findobj(Text) if text.get_visible() and text.get_text().strip()
    ]
    assert len(texts) > 10
    for text in texts:
        px = text.get_fontproperties().get_size_in_points() * PHONE_PX / width_pt
        assert px >= 10, f"{text.get_text()!r} would be {px:.1f} px high"
