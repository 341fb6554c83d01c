"""native.json's cells as the report judges them: the verdict on each (`native_verdict`)
and a cell read back as `reports.native` ran it (`native_cell`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reports.native import Abort, Cell, Report
from reports.report._validate import cell_fields, texts

__all__ = ["native_cell", "native_verdict"]


def native_verdict(cell: Mapping[str, Any], frames: object) -> tuple[str, str, str]:
    """What a native.json cell was expected to do, and the verdict on what it did: its
    class (the matrix's colours) and label.

    A broken build is expected to show the bug (a crash, a sanitizer report, an abort, a
    defect, a failing exit or a wrong count): it is `caught` (green) when it does, `missed`
    (amber) when it ran to a clean `Frame: N` anyway. A fixed build is expected to print
    `Frame: N` and exit 0 with nothing reported: `held` (green), else `violated` (red)."""
    clean_screen = f"Frame: {frames}"
    if cell.get("not_run"):
        return "-", "not-run", "not run"
    host = cell.get("host")
    silent = (
        cell.get("exit_status") == 0
        and not cell.get("signal")
        and not cell.get("report")
        and not cell.get("abort")
        and not cell.get("defect")
    )
    clean = silent and cell.get("frame_line") == clean_screen
    if host == "fixed":
        expected = f"exit 0, {clean_screen}, nothing reported"
        return (expected, "held", "clean") if clean else (expected, "violated", "FAILED")
    if host == "broken":
        expected = "fails or reports the bug"
        if clean:
            return expected, "missed", "missed: ran on silently"
        if cell.get("report"):
            shown = "reported"
        elif cell.get("abort"):
            shown = "aborted"
        elif cell.get("signal"):
            shown = "crashed"
        elif silent:
            shown = "wrong count"
        else:
            shown = "failed"
        return expected, "caught", f"caught: {shown}"
    return "-", "not-applicable", "unknown host"


def native_cell(cell: object) -> Cell | None:
    """A native.json cell as `reports.native` ran it (a `Cell`), or None when it is not
    of the shape (`native_from_json`)."""

    if not isinstance(cell, dict):
        return None
    try:
        cell_fields(cell)
    except ValueError:
        return None
    report, abort = cell["report"], cell.get("abort")
    return Cell(
        compiler=cell.get("compiler") or "?",
        host=cell["host"], mm=cell["mm"], checker=cell["checker"],
        args=[], flags=[], exit_status=cell["exit_status"], signal=cell["signal"],
        frame_line=cell["frame_line"],
        report=None if report is None else Report(
            report["kind"], texts(report, "access"), texts(report, "freed"),
            texts(report, "allocated", required=False),
        ),
        abort=None if abort is None else Abort(
            abort["message"], abort["kind"], texts(abort, "where", required=False)
        ),
        defect=cell.get("defect"),
        not_run=cell.get("not_run"),
    )  # fmt: skip
