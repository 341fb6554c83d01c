"""Whether the files other commands leave beside the report (bench.json, native.json,
survey.json) come from the commit the report ran on: current, stale, or of unknown
provenance."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from reports.output import commit_id

__all__ = ["EXTRAS", "Freshness", "freshness"]

EXTRAS: Final = ("bench", "native", "survey")
"""The files other commands write beside the report (`make bench`, ...), by name."""


@dataclass(frozen=True, slots=True)
class Freshness:
    """Whether an extra file beside the report (bench.json, native.json, survey.json) comes
    from the commit the report ran on.

    `stale` is None when there is no such file, False when it names this commit, True
    otherwise: another commit, or provenance unknown (the file names no commit, or git
    cannot name the report's); `reason` says which in one line. `commit` and `dirty` are
    what the file records (None when it does not say)."""

    name: str
    present: bool
    stale: bool | None
    reason: str
    commit: str | None = None
    dirty: bool | None = None
    unusable: str | None = None  # why a file that is there was left out (`reason` says it)

    @property
    def file(self) -> str:
        return f"{self.name}.json"

    @property
    def command(self) -> str:
        return f"make {self.name}"


def freshness(name: str, recorded: object, dirty: object, current: str | None) -> Freshness:
    """Judge the extra file `name`, which records `recorded` as its commit and `dirty`,
    against `current`, the commit the report ran on (None when git cannot say)."""
    commit = commit_id(recorded)
    dirty = dirty if isinstance(dirty, bool) else None
    here = commit_id(current)
    rerun = f"rerun make {name}"
    if here is None:
        was = f" (the file is from commit {commit[:7]})" if commit else ""
        reason = (
            f"provenance unknown: git cannot name the commit this report ran on{was}; "
            f"if the code changed since, {rerun}"
        )
    elif commit is None:
        reason = f"provenance unknown: the file names no commit it came from: {rerun}"
    elif commit != here:
        reason = f"from commit {commit[:7]}, not the current {here[:7]}: {rerun}"
    else:
        changes = " (written with uncommitted changes)" if dirty else ""
        reason = f"from commit {commit[:7]}, the current one{changes}"
        return Freshness(name, True, False, reason, commit, dirty)
    return Freshness(name, True, True, reason, commit, dirty)
