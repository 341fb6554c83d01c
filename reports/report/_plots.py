"""The picture of the host sessions: each host in a row of its own, its live contexts and
the counter it shows, frame by frame, and where a host died, why.

Drawn to read at a phone's width: a tall, narrow figure (`SIZE`) whose smallest text is
`MIN_FONT` points. One row per host (no host's line can hide another's), titled with the
host and its outcome; two panels per row with the same axes in every row, so rows compare
at a glance: live context objects (the store's hold on them) and the counter on screen
(what a user sees). A host that crashed gets, in both panels, an X where it died and the
frames it never ran shaded, with the cause under the row's title. Same input, same SVG.
"""

from __future__ import annotations

import io
import textwrap
from typing import Any, Final

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # the backend must be chosen first
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure
from matplotlib.ticker import MaxNLocator
from matplotlib.typing import RcKeyType

from reports.report._model import Session
from reports.report._ownership import prefix_ids

__all__ = ["COLOURS", "MIN_FONT", "SIZE", "sessions_figure", "sessions_svg"]

SIZE: Final = (5.0, 2.5)
"""Inches per row (one row per host): 360 pt wide, so a phone that shows it 400 px wide
scales it by about 1.1."""
MIN_FONT: Final = 10.0
"""Points: the smallest text, about 11 px high on a phone (see `SIZE`)."""
RC: Final[dict[RcKeyType, Any]] = {
    "font.size": MIN_FONT,
    "axes.titlesize": MIN_FONT,
    "axes.labelsize": MIN_FONT,
    "xtick.labelsize": MIN_FONT,
    "ytick.labelsize": MIN_FONT,
    "figure.titlesize": 11,
    "svg.hashsalt": "ownership-report",  # stable ids: same input, same SVG
}
COLOURS: Final[dict[str, str]] = {"fixed": "#1a7f37", "broken": "#cf222e", "weakref": "#9a6700"}
"""Each host's colour; another host is drawn in `OTHER`."""
OTHER: Final = "#57606a"
DEAD: Final = "#ffebe9"
"""The frames a crashed host never ran."""
CRASH: Final[dict[str, Any]] = {
    "marker": "X",
    "markersize": 14,
    "color": "#1f2328",
    "markeredgecolor": "white",
    "linestyle": "none",
    "zorder": 2.9,  # under the host's last point, which it frames: both stay visible
}
CAUSE: Final = "#a40e26"
"""The colour of what a crash's shade says."""
_WRAP: Final = 46
"""Characters per line of a row's title: what fits in `SIZE`'s width at its font."""
_WRAP_CAUSE: Final = 27
"""Characters per line of a crash's cause, in the shaded frames of a panel."""


def sessions_figure(sessions: list[Session]) -> Figure:
    """A row per session: live context objects and the counter on screen per frame, in
    the host's colour, every row on the same axes; a crash marked with an X where it
    happened and its cause in the row's title. Each line's label names its host and what
    it shows (`"fixed: live contexts"`). The caller closes the figure (`plt.close`)."""
    last = max((session.frames[-1] for session in sessions), default=1)
    most = max((max(session.live_contexts, default=0) for session in sessions), default=0)
    shown = [c for session in sessions for c in session.counter if c is not None]
    with plt.rc_context(RC):
        figure = plt.figure(
            figsize=(SIZE[0], SIZE[1] * max(len(sessions), 1)), layout="constrained"
        )
        rows: list[SubFigure] = (
            list(figure.subfigures(len(sessions), 1, squeeze=False).flat) if sessions else []
        )
        for row, session in zip(rows, sessions, strict=True):
            live, counter = row.subplots(1, 2)
            _row(row, session)
            colour = COLOURS.get(session.host, OTHER)
            live.step(
                session.frames, session.live_contexts, where="post", color=colour,
                linewidth=2.5, marker="o" if len(session.frames) < 3 else None, markersize=7,
                label=f"{session.host}: live contexts", zorder=3,
            )  # fmt: skip
            drawn = [(f, c) for f, c in zip(session.frames, session.counter, strict=True)
                     if c is not None]  # fmt: skip
            if drawn:
                counter.plot(
                    *zip(*drawn, strict=True), color=colour, linewidth=2.5,
                    label=f"{session.host}: counter on screen", zorder=3,
                )  # fmt: skip
            _frame(live, "live context objects", last, most + 1)
            _frame(counter, "counter on screen", last, max([*shown, 1]))
            if session.crashed_at is not None:
                _crash(live, counter, session, last)
    return figure


def _row(row: SubFigure, session: Session) -> None:
    """The row's title: the host and what happened to it."""
    said = session.outcome
    if session.crashed_at is not None:
        said = f"crashed at frame {session.crashed_at}"
    row.suptitle(
        textwrap.fill(f"{session.host} host: {said}", _WRAP, break_on_hyphens=False),
        x=0.02, ha="left", color=COLOURS.get(session.host, OTHER), fontweight="bold",
    )  # fmt: skip


def _frame(axes: Axes, title: str, last: int, top: int) -> None:
    """The same axes in every row: frames 0 to `last`, counts 0 to `top`, whole numbers; a
    margin below and left, so that a point at frame 0 or a count of 0 is not drawn on an
    axis (the broken host's only points are both)."""
    axes.set_title(title, loc="left")
    axes.set_xlim(-0.04 * last, last)
    axes.set_ylim(-0.08 * top, top * 1.1)
    axes.set_xlabel("frame")
    axes.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    axes.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    axes.grid(True, color="#d0d7de", linewidth=0.6)
    axes.set_axisbelow(True)


def _crash(live: Axes, counter: Axes, session: Session, last: int) -> None:
    """An X where the host died, in both panels, and the frames it never ran shaded: the
    live panel's shade says why it died, the counter's that nothing more was drawn."""
    frame = session.crashed_at
    assert frame is not None
    cause = session.crash or "cause unknown"
    said = {
        live: f"died: {cause}",
        counter: f"the process died in frame {frame}: no frame drawn after it",
    }
    for axes, height in ((live, session.live_contexts[-1]), (counter, 0)):
        axes.axvspan(frame, last, color=DEAD, zorder=0, label=f"{session.host}: never ran")
        axes.plot(frame, height, label=f"{session.host}: crashed at frame {frame}", **CRASH)
        low, high = axes.get_ylim()
        axes.text(
            (frame + last) / 2, (low + high) / 2,
            textwrap.fill(said[axes], _WRAP_CAUSE, break_long_words=False, break_on_hyphens=False),
            ha="center", va="center", color=CAUSE, fontsize=MIN_FONT,
            label=f"{session.host}: why it crashed" if axes is live else None,
        )  # fmt: skip


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
