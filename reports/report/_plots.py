"""The picture of the host sessions: live contexts and the counter, frame by frame.

Drawn to read at a phone's width: a tall, narrow figure (`SIZE`) whose smallest text
is `MIN_FONT` points, two panels stacked, and one legend for both, below them, outside
the data. Each host has its own colour, line style and marker (`STYLES`), and the lines
that share values (the broken and the weakref host both show no live context) are drawn
so that each stays visible: the shorter one on top, with markers, over a dashed one.
"""

from __future__ import annotations

import io
from typing import Any, Final

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # the backend must be chosen first
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from matplotlib.typing import RcKeyType

from reports.report._model import Session
from reports.report._ownership import prefix_ids

__all__ = ["MIN_FONT", "SIZE", "STYLES", "sessions_figure", "sessions_svg"]

SIZE: Final = (5.0, 6.6)
"""Inches: 360 pt wide, so a phone that shows it 400 px wide scales it by about 0.8."""
MIN_FONT: Final = 10.0
"""Points: the smallest text, about 11 px high on a phone (see `SIZE`)."""
RC: Final[dict[RcKeyType, Any]] = {
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "xtick.labelsize": MIN_FONT,
    "ytick.labelsize": MIN_FONT,
    "legend.fontsize": MIN_FONT,
    "svg.hashsalt": "ownership-report",  # stable ids: same input, same SVG
}
STYLES: Final[dict[str, dict[str, Any]]] = {
    "fixed": {"color": "#1a7f37", "linestyle": "-", "linewidth": 2.5, "zorder": 2},
    "weakref": {
        "color": "#9a6700",
        "linestyle": (0, (6, 3)),
        "linewidth": 2.5,
        "zorder": 3,
        "alpha": 0.9,
    },
    "broken": {
        "color": "#cf222e",
        "linestyle": "-",
        "linewidth": 2,
        "marker": "o",
        "markersize": 6,
        "zorder": 4,
    },
}
"""Per host: colour, line style, width, marker and stacking order, all distinct."""
OTHER: Final[dict[str, Any]] = {"color": "#57606a", "linestyle": ":", "linewidth": 2}
CRASH: Final[dict[str, Any]] = {
    "marker": "X",
    "markersize": 13,
    "color": "#cf222e",
    "markeredgecolor": "white",
    "linestyle": "none",
    "zorder": 5,
}


def sessions_figure(sessions: list[Session]) -> Figure:
    """Two stacked panels, live context objects per frame and the counter each host
    shows, with a crash marked by an X where it happened; the legend below both. The
    caller closes the figure (`plt.close`)."""
    with plt.rc_context(RC):
        figure, (live_axes, counter_axes) = plt.subplots(
            2, 1, figsize=SIZE, sharex=True, layout="constrained"
        )
        handles: list[Line2D] = []
        for session in sessions:
            style = STYLES.get(session.host, OTHER)
            (line,) = live_axes.step(
                session.frames,
                session.live_contexts,
                where="post",
                label=f"{session.host}: {session.outcome}",
                **style,
            )
            handles.append(line)
            shown = [
                (f, c)
                for f, c in zip(session.frames, session.counter, strict=True)
                if c is not None
            ]
            if shown:
                counter_axes.plot(*zip(*shown, strict=True), **style)
            if session.outcome.startswith("crashed"):
                (crash,) = live_axes.plot(
                    session.frames[-1],
                    session.live_contexts[-1],
                    label=f"X: the {session.host} host crashes here",
                    **CRASH,
                )
                handles.append(crash)
        live_axes.set_title("Live context objects", loc="left")
        live_axes.set_ylabel("objects")
        counter_axes.set_title("Counter on screen", loc="left")
        counter_axes.set_ylabel("count")
        counter_axes.set_xlabel("frame")
        for axes in (live_axes, counter_axes):
            axes.yaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
            axes.tick_params(labelsize=MIN_FONT)
            axes.grid(True, color="#d0d7de", linewidth=0.6)
            axes.set_axisbelow(True)
        live_axes.set_ylim(bottom=-0.4)
        counter_axes.set_ylim(bottom=-3)
        figure.legend(
            handles=handles,
            loc="outside lower center",
            ncols=1,
            frameon=False,
            fontsize=MIN_FONT,
            handlelength=3,
        )
    return figure


def sessions_svg(sessions: list[Session]) -> str:
    """`sessions_figure` as one SVG document, every id prefixed with `plot_`."""
    figure = sessions_figure(sessions)
    try:
        buffer = io.StringIO()
        with plt.rc_context(RC):
            figure.savefig(buffer, format="svg", metadata={"Date": None})
    finally:
        plt.close(figure)
    svg = buffer.getvalue()
    return prefix_ids(svg[svg.find("<svg") :], "plot_")
