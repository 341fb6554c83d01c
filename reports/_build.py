"""Build the report: collect the findings, render four files, swap them in atomically."""

from __future__ import annotations

import dataclasses
import json
import shlex
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from hypothesis import settings as Settings

from refimpl._gc import gc_collect
from refimpl.contract import PROPERTIES, load_profile
from reports._collect import (
    collect_implementations,
    collect_lessons,
    collect_sessions,
    environment,
)
from reports._findings import Findings
from reports._ownership import ownership_graphs
from reports._plots import sessions_svg
from reports._render import render_html, render_json, render_junit, render_markdown

__all__ = ["FILES", "build_report", "collect", "write_report"]

FILES = ("index.html", "report.md", "report.json", "junit.xml")
"""What a report directory holds."""


def collect(
    *,
    max_examples: int | None = None,
    frames: int = 60,
    command: str = "",
    only: frozenset[str] | None = None,
    progress: Callable[[str], None] = lambda line: None,
) -> Findings:
    """Run everything the report shows and return it as data.

    `max_examples=None` keeps the active Hypothesis profile's budget (loaded from
    `$HYPOTHESIS_PROFILE`); the run is always derandomized, so the same code gives
    the same findings.
    """
    load_profile()
    base = Settings(derandomize=True, database=None, deadline=None)
    chosen = base if max_examples is None else Settings(base, max_examples=max_examples)
    implementations = collect_implementations(chosen, progress, only)
    sessions = collect_sessions(frames, progress)
    lessons = collect_lessons(progress)
    progress("ownership pictures (objgraph, Graphviz)")
    graphs = ownership_graphs()
    gc_collect()
    progress("plot of the sessions (matplotlib)")
    return Findings(
        environment(chosen, command or _command()),
        PROPERTIES,
        implementations,
        sessions,
        graphs,
        sessions_svg(sessions),
        lessons,
    )


def write_report(findings: Findings, out: Path) -> None:
    """Write the four files into `out`, atomically: they are built in a temporary
    folder beside it and swapped in, so a failure midway leaves the old report whole."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-new-", dir=out.parent))
    try:
        renders = (render_html, render_markdown, render_json, render_junit)
        for name, render in zip(FILES, renders, strict=True):
            (staging / name).write_text(render(findings), encoding="utf-8")
        if out.exists():  # keep what others wrote there (bench.json, native.json, caches)
            for kept in out.iterdir():
                if kept.name in FILES:
                    continue
                if kept.is_dir():  # a cache: moved, not copied; at worst it is rebuilt
                    kept.rename(staging / kept.name)
                else:
                    shutil.copy2(kept, staging / kept.name)
        retired = out.with_name(f".{out.name}-old")
        if retired.exists():
            shutil.rmtree(retired)
        if out.exists():
            out.rename(retired)
        staging.rename(out)
        shutil.rmtree(retired, ignore_errors=True)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def build_report(
    out: Path,
    *,
    max_examples: int | None = None,
    frames: int = 60,
    only: frozenset[str] | None = None,
    progress: Callable[[str], None] = lambda line: None,
) -> Findings:
    """Collect the findings and write them to `out`; return the findings. `only` limits
    the mutants to those named (the fixed implementations always run)."""
    findings = collect(max_examples=max_examples, frames=frames, only=only, progress=progress)
    for name in ("bench", "native"):  # written by `make bench` / `make native`: they join in
        extra = out / f"{name}.json"
        if extra.is_file():
            findings = dataclasses.replace(findings, **{name: json.loads(extra.read_text())})
    progress(f"writing {', '.join(FILES)} to {out}")
    write_report(findings, out)
    return findings


def _command() -> str:
    return (
        shlex.join(["python", "-m", "reports", *sys.argv[1:]])
        if sys.argv[0].endswith("__main__.py")
        else "make report"
    )
