"""The benchmark file `python -m reports.bench` times (`reports/bench/bench_ownership.py`)
runs once each, as a smoke test, in `make test-slow`: a benchmark that breaks shows here, not
first in `make bench`.

It runs in its own pytest process, as `reports.bench` runs it (`BENCH_FILE`), rather than
from `testpaths`: it lives beside the code that times it, outside `tests/`, so this
suite's conftest (its heap collection before each test) does not apply to it there either.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from reports.bench import BENCH_FILE
from reports.output import ROOT


@pytest.mark.slow
def test_every_benchmark_runs_once_and_passes() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "pytest", str(BENCH_FILE), "-q", "-p", "no:cacheprovider",
         "-p", "no:xdist", "-p", "no:randomly", "--benchmark-disable"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert " passed" in run.stdout.splitlines()[-1], run.stdout
    assert "skipped" not in run.stdout.splitlines()[-1], run.stdout
