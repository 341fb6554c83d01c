"""Where each command's output came from: the commit checked out, and whether the tree had
changes that commit does not name (recorded in bench.json, native.json, survey.json and
the report)."""

from __future__ import annotations

import datetime
import platform
import re
import subprocess
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_OUT",
    "MEASURED",
    "ROOT",
    "commit_id",
    "machine_fields",
    "project_commit",
    "provenance_fields",
]

ROOT = Path(__file__).resolve().parents[2]
"""The checkout this project runs from."""
DEFAULT_OUT = ROOT / "reports" / "out"
"""Where every command of `reports` writes when given no `--out` (git ignores it)."""
_COMMIT = re.compile("[0-9a-f]{7,64}")


MEASURED = "reports/MEASUREMENTS.md"
"""The document the commands record their latest full runs in (see `reports.output.measured`):
its own changes are their output, not a change to the code they measured."""


def project_commit(root: Path = ROOT) -> tuple[str | None, bool | None]:
    """The commit checked out in `root` (`git rev-parse HEAD`) and whether the tree has
    changes that commit does not name (`git status --porcelain` lists anything but `MEASURED`:
    a file modified, staged, deleted or untracked); `(None, None)` when git is not installed
    or `root` is not in a git checkout. What bench.json, native.json, survey.json, the
    report and `MEASURED` record as their provenance."""
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--verify", "HEAD"],
            capture_output=True, text=True, timeout=30, check=True,
        ).stdout.strip()  # fmt: skip
        changes = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", ".", f":(exclude){MEASURED}"],
            capture_output=True, text=True, timeout=30, check=True,
        ).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None, None
    commit = commit_id(head)
    return (commit, bool(changes.strip())) if commit else (None, None)


def commit_id(value: object) -> str | None:
    """`value` when it is a git commit id (7 to 64 lowercase hex digits), else None."""
    return value if isinstance(value, str) and _COMMIT.fullmatch(value) else None


def provenance_fields(schema: int) -> dict[str, Any]:
    """What a measurement's JSON (bench.json, bench-fuzz.json, survey.json) starts with:
    `{"schema": schema, "date": today (ISO 8601), "commit", "dirty"}`, the last two from
    `project_commit` (both None without git).

    >>> sorted(provenance_fields(1))
    ['commit', 'date', 'dirty', 'schema']
    """
    commit, dirty = project_commit()
    return {
        "schema": schema,
        "date": datetime.date.today().isoformat(),
        "commit": commit,
        "dirty": dirty,
    }


def machine_fields(**more: Any) -> dict[str, Any]:
    """The machine a measurement ran on, as its JSON's `machine` records it: `python`
    (the version), `system` and `machine` (`platform`'s words), then `more` (`cpu=...`,
    `cores=...`), in that order."""
    return {
        "python": platform.python_version(),
        "system": platform.system(),
        "machine": platform.machine(),
        **more,
    }
