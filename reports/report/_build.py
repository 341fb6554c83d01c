"""Build the report: collect the findings (with bench.json, native.json and survey.json when
they can be read), render its files, and write them into the output folder as one unit."""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import reprlib
import shlex
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

from hypothesis import settings as Settings

import reports.bench
import reports.native
import reports.survey
from refimpl.contract import PROPERTIES, load_profile
from refimpl.support.collector import gc_collect
from reports.output import DEFAULT_OUT, project_commit, write_texts_atomically
from reports.report._authorship import ForeignFiles, foreign_files
from reports.report._collect import (
    collect_implementations,
    collect_lessons,
    collect_sessions,
    environment,
)
from reports.report._junit import render_junit
from reports.report._model import Findings
from reports.report._ownership import ownership_graphs
from reports.report._plots import sessions_svg
from reports.report._render import render_html, render_json, render_markdown, render_summary
from reports.report._validate import bench_from_json, native_from_json
from reports.survey import Survey

__all__ = [
    "DEFAULT_OUT",
    "FILES",
    "RENDERERS",
    "ForeignFiles",
    "build_report",
    "collect",
    "foreign_files",
    "read_extra",
    "reproduce_command",
    "write_report",
]

RENDERERS: Final[Mapping[str, Callable[[Findings], str]]] = {
    "index.html": render_html,
    "report.md": render_summary,
    "report-full.md": render_markdown,
    "report.json": render_json,
    "junit.xml": render_junit,
}
"""Each file of a report, by name, and what renders it."""
FILES = tuple(RENDERERS)
"""What a report directory holds: the files `write_report` writes, and nothing else."""
DEFAULT_FRAMES = 60


def reproduce_command(
    profile: str,
    *,
    out: Path | None = None,
    max_examples: int | None = None,
    frames: int = DEFAULT_FRAMES,
    only: frozenset[str] | None = None,
) -> str:
    """The command that makes this report again, profile included:
    `HYPOTHESIS_PROFILE=ci python -m reports` for `make report`, with `--out`,
    `--max-examples`, `--frames` and `--only` when they are not the defaults.

    >>> reproduce_command("dev", max_examples=5, only=frozenset({"b", "a"}))
    'HYPOTHESIS_PROFILE=dev python -m reports --max-examples 5 --only a,b'
    """
    words = ["python", "-m", "reports"]
    if out is not None and out.resolve() != DEFAULT_OUT:
        words += ["--out", str(out)]
    if max_examples is not None:
        words += ["--max-examples", str(max_examples)]
    if frames != DEFAULT_FRAMES:
        words += ["--frames", str(frames)]
    if only is not None:
        words += ["--only", ",".join(sorted(only))]
    return f"HYPOTHESIS_PROFILE={shlex.quote(profile)} {shlex.join(words)}"


def collect(
    *,
    max_examples: int | None = None,
    frames: int = DEFAULT_FRAMES,
    command: str = "",
    only: frozenset[str] | None = None,
    progress: Callable[[str], None] = lambda line: None,
) -> Findings:
    """Run everything the report shows and return it as data.

    `max_examples=None` keeps the active Hypothesis profile's budget (loaded from
    `$HYPOTHESIS_PROFILE`); the run is always derandomized, so the same code gives
    the same findings. `command` is what the report says makes it again (default:
    `reproduce_command` for these arguments).
    """
    profile = load_profile()
    command = command or reproduce_command(
        profile, max_examples=max_examples, frames=frames, only=only
    )
    base = Settings(derandomize=True, database=None, deadline=None)
    chosen = base if max_examples is None else Settings(base, max_examples=max_examples)
    implementations = collect_implementations(chosen, progress, only)
    sessions = collect_sessions(frames, progress)
    lessons = collect_lessons(progress)
    progress("ownership pictures (objgraph, Graphviz)")
    graphs = ownership_graphs()
    gc_collect()
    progress("plot of the sessions (matplotlib)")
    commit, dirty = project_commit()
    return Findings(
        dataclasses.replace(environment(chosen, command, profile), commit=commit, dirty=dirty),
        PROPERTIES,
        implementations,
        sessions,
        graphs,
        sessions_svg(sessions),
        lessons,
        date=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    )


def write_report(findings: Findings, out: Path) -> None:
    """Write the report's `FILES` (index.html, report.md, report-full.md, report.json,
    junit.xml) into `out` (made if missing; its parent must exist), replacing the previous
    report as one unit: all are rendered first, then written with `write_texts_atomically`,
    which says what holds.

    A file at one of those names that this project did not write (`foreign_files`: no
    generator mark and not of an earlier report's shape, a symbolic link, a FIFO, ...) stops
    it before anything is rendered: `ForeignFiles` names every such file.

    In short: two runs into one folder leave the files of one of them, never a mix;
    an error or interrupt (Ctrl-C, SIGTERM) leaves the previous report whole or the new
    one complete; the folder itself and everything else in it are left exactly as they
    were. A SIGKILL or power cut during the microseconds of the final renames can mix old
    and new files.

    Raises `OSError` naming the file when one cannot be written (its errno kept: ENOSPC
    stays ENOSPC), `IsADirectoryError` when a folder has one of their names,
    `FileNotFoundError` when the parent of `out` does not exist.
    """
    foreign = foreign_files(out, FILES)
    if foreign:
        raise ForeignFiles(foreign)
    texts = {name: render(findings) for name, render in RENDERERS.items()}
    out.mkdir(exist_ok=True)
    write_texts_atomically(out, texts)


def read_extra(path: Path, schema: int) -> dict[str, Any] | str | None:
    """The JSON object in `path` (bench.json, native.json, survey.json) when its `"schema"`
    is `schema`; None when there is no such file; otherwise why it cannot be used, in a few words
    ("is not valid JSON (...)", "has schema version 2, this report reads version 1",
    "is not a regular file", ...). Never blocks on a FIFO; never raises for what the file
    holds (its writers replace it atomically, so a whole file is what a reader sees)."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as error:
        return f"cannot be read ({error.strerror})"
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return "is not a regular file"
        with open(descriptor, "rb", closefd=False) as stream:
            raw = stream.read()
    except OSError as error:
        return f"cannot be read ({error.strerror})"
    finally:
        os.close(descriptor)
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as error:  # JSONDecodeError, UnicodeDecodeError
        return f"is not valid JSON ({error})"
    if not isinstance(data, dict):
        return "is not a JSON object"
    found = data.get("schema")
    if type(found) is not int or found != schema:
        version = "no schema version" if found is None else f"schema version {reprlib.repr(found)}"
        return f"has {version}, this report reads version {schema}"
    return data


def build_report(
    out: Path,
    *,
    max_examples: int | None = None,
    frames: int = DEFAULT_FRAMES,
    only: frozenset[str] | None = None,
    progress: Callable[[str], None] = lambda line: None,
) -> Findings:
    """Collect the findings and write them to `out`; return the findings. `only` limits
    the mutants to those named (the fixed implementations always run). The report names
    the command that makes it again (`reproduce_command`, `--out` included).

    A `bench.json`, `native.json` or `survey.json` in `out` joins the report when
    `read_extra` can use it and it has the shape the report shows (`bench_from_json`,
    `native_from_json`, `Survey.from_json`); one it cannot (cut short, not an object,
    another schema version, unreadable, another shape) is left out with one line through
    `progress` saying which and why, and the report says why in its place
    (`Findings.left_out`). One that joins is shown as current or stale
    (`Findings.freshness`), by the commit it records."""
    command = reproduce_command(
        load_profile(), out=out, max_examples=max_examples, frames=frames, only=only
    )
    findings = collect(
        max_examples=max_examples, frames=frames, command=command, only=only, progress=progress
    )
    extras: dict[str, Any] = {}
    left_out: dict[str, str] = {}
    for name, schema in _extra_schemas().items():  # `make bench`, ...: they join in
        extra: dict[str, Any] | Survey | str | None = read_extra(out / f"{name}.json", schema)
        if isinstance(extra, dict):
            extra = _shaped(name, extra)
        if isinstance(extra, str):
            progress(
                f"{out / f'{name}.json'} {extra}: the report goes on without it "
                f"(`make {name}` writes a new one)"
            )
            left_out[name] = extra
        extras[name] = None if isinstance(extra, str) else extra
    findings = dataclasses.replace(findings, **extras, left_out=left_out)
    progress(f"writing {', '.join(FILES)} to {out}")
    write_report(findings, out)
    return findings


_SHAPES: dict[str, tuple[Callable[[dict[str, Any]], dict[str, Any] | Survey], str]] = {
    "bench": (bench_from_json, "a benchmark result"),
    "native": (native_from_json, "a native result"),
    "survey": (Survey.from_json, "a survey"),
}
"""How each extra file is checked for the shape the report shows, and what it should be."""


def _shaped(name: str, data: dict[str, Any]) -> dict[str, Any] | Survey | str:
    """`data` (of `name`.json, with the right schema version) as the report shows it, or
    why it cannot be: "is not a survey (registry 0: status is missing)"."""
    check, what = _SHAPES[name]
    try:
        return check(data)
    except ValueError as error:
        return f"is not {what} ({error})"


def _extra_schemas() -> dict[str, int]:
    """The schema version of bench.json, native.json and survey.json that their writers
    write now."""
    return {
        "bench": reports.bench.SCHEMA_VERSION,
        "native": getattr(reports.native, "SCHEMA_VERSION", 1),
        "survey": reports.survey.SCHEMA_VERSION,
    }
