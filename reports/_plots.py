"""The picture of the host sessions: live contexts and the counter, frame by frame."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # the backend must be chosen first

from reports._findings import Session

__all__ = ["sessions_svg"]

COLOURS = {"fixed": "#1a7f37", "broken": "#cf222e", "weakref": "#9a6700"}


def sessions_svg(sessions: list[Session]) -> str:
    """Two stacked plots as one inline SVG: live context objects per frame, and the
    counter each host shows; a crash is marked with an x where it happened."""
    matplotlib.rcParams["svg.hashsalt"] = "ownership-report"  # stable ids: same input, same SVG
    figure, (live_axes, counter_axes) = plt.subplots(2, 1, figsize=(8, 5.5), sharex=True)
    try:
        for session in sessions:
            colour = COLOURS.get(session.host, "#57606a")
            label = f"{session.host}: {session.outcome}"
            live_axes.step(
                session.frames, session.live_contexts, where="post", color=colour, label=label
            )
            shown = [
                (f, c)
                for f, c in zip(session.frames, session.counter, strict=True)
                if c is not None
            ]
            if shown:
                counter_axes.plot(*zip(*shown, strict=True), color=colour, label=session.host)
            if session.outcome.startswith("crashed"):
                live_axes.plot(
                    session.frames[-1],
                    session.live_contexts[-1],
                    "x",
                    color=colour,
                    markersize=12,
                    markeredgewidth=3,
                )
        live_axes.set_ylabel("live context objects")
        live_axes.legend(fontsize=7, loc="upper right")
        counter_axes.set_ylabel("counter on screen")
        counter_axes.set_xlabel("frame")
        counter_axes.legend(fontsize=7, loc="upper left")
        figure.tight_layout()
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    finally:
        plt.close(figure)
    svg = buffer.getvalue()
    return svg[svg.find("<svg") :]
