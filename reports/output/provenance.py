"""Where each command's output came from: the commit checked out, and whether the tree had
changes that commit does not name (recorded in bench.json, native.json, survey.json and
the report)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

__all__ = ["DEFAULT_OUT", "ROOT", "commit_id", "project_commit"]

ROOT = Path(__file__).resolve().parents[2]
"""The checkout this project runs from."""
DEFAULT_OUT = ROOT / "reports" / "out"
"""Where every command of `reports` writes when given no `--out` (git ignores it)."""
_COMMIT = re.compile("[0-9a-f]{7,64}")


def project_commit(root: Path = ROOT) -> tuple[str | None, bool | None]:
    """The commit checked out in `root` (`git rev-parse HEAD`) and whether the tree has
    changes that commit does not name (`git status --porcelain` lists anything: a file
    modified, staged, deleted or untracked); `(None, None)` when git is not installed or
    `root` is not in a git checkout. What bench.json, native.json, survey.json and the
    report record as their provenance."""
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--verify", "HEAD"],
            capture_output=True, text=True, timeout=30, check=True,
        ).stdout.strip()  # fmt: skip
        changes = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain"],
            capture_output=True, text=True, timeout=30, check=True,
        ).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None, None
    commit = commit_id(head)
    return (commit, bool(changes.strip())) if commit else (None, None)


def commit_id(value: object) -> str | None:
    """`value` when it is a git commit id (7 to 64 lowercase hex digits), else None."""
    return value if isinstance(value, str) and _COMMIT.fullmatch(value) else None
