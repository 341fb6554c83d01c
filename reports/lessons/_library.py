"""A third-party library a lesson runs on: whether it is here, how to install it, and how to
hide it to see the lesson as it is on a machine without it."""

from __future__ import annotations

import importlib
import importlib.metadata
import os
from dataclasses import dataclass
from typing import Any

__all__ = ["LESSONS_WITHOUT", "Library"]

LESSONS_WITHOUT = "LESSONS_WITHOUT"
"""An environment variable naming libraries (by module, comma- or space-separated:
`blinker`, `zope.interface`; `all` for every one) that the lessons treat as not installed,
as on a machine without them: `LESSONS_WITHOUT=blinker python -m reports.lessons`.
Within one process, `sys.modules["blinker"] = None` hides a library too (its import
then fails)."""


@dataclass(frozen=True, slots=True)
class Library:
    """A library a lesson runs on: its PyPI `distribution`, the `module` imported, and the
    version `pin` the lesson was written for (the one pyproject.toml's `survey` and `dev`
    extras pin)."""

    distribution: str
    module: str
    pin: str

    @property
    def install(self) -> str:
        """The command that installs the pinned version: `pip install 'blinker==1.9.0'`."""
        return f"pip install '{self.distribution}=={self.pin}'"

    def hidden(self) -> bool:
        """Whether `$LESSONS_WITHOUT` hides this library."""
        named = os.environ.get(LESSONS_WITHOUT, "").replace(",", " ").split()
        return "all" in named or self.module in named or self.distribution in named

    def missing(self) -> str | None:
        """Why a lesson on this library cannot run here, in one line with the command that
        installs it, or `None` when it can (the module imports)."""
        if self.hidden():
            where = f" ({LESSONS_WITHOUT} hides it)"
        else:
            try:
                importlib.import_module(self.module)
            except ImportError:
                where = ""
            else:
                return None
        return f"{self.distribution} is not installed here{where}: {self.install}, or make survey"

    def load(self, module: str | None = None) -> Any:
        """The library's module (or its `module`, `zope.interface.registry` say), untyped;
        raises `ImportError` saying how to install the library when `missing` says it is
        not here."""
        why = self.missing()
        if why is not None:
            raise ImportError(why, name=self.module)
        return importlib.import_module(module or self.module)

    def version(self) -> str | None:
        """The installed version, or `None`."""
        try:
            return importlib.metadata.version(self.distribution)
        except importlib.metadata.PackageNotFoundError:
            return None

    def installed(self) -> str:
        """The distribution with the version installed here ("blinker 1.9.0"), or its name
        alone where it is not installed."""
        return f"{self.distribution} {self.version() or ''}".strip()
