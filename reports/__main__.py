"""Placeholder: the report builder is not built yet; this says so instead of pretending."""

from __future__ import annotations

import sys

if __name__ == "__main__":
    print(
        "reports: the report builder is not built yet (issue 5); nothing was written.",
        file=sys.stderr,
    )
    sys.exit(2)
