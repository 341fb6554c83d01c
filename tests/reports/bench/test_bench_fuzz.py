"""`python -m reports.bench.fuzz --quick`: every measurement of `make bench-fuzz` runs and
lands in bench-fuzz.json (tiny budgets: the numbers are checked for shape, not speed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_a_quick_run_writes_the_three_measurements_and_judges_every_budget(
    tmp_path: Path,
) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "reports.bench.fuzz", "--quick", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert "Traceback" not in run.stderr, run.stderr
    assert [path.name for path in tmp_path.iterdir()] == ["bench-fuzz.json"]
    result = json.loads((tmp_path / "bench-fuzz.json").read_text())
    assert (result["schema"], result["quick"]) == (1, True)
    assert "bench-fuzz: shards:" in run.stderr, "progress lines while it runs"

    replay = result["replay"]
    assert replay["search_property"] is not None, "the search found the store's bug"
    assert replay["replay_property"] == replay["search_property"]
    assert 1 <= replay["replay_examples"] <= 3, "the saved failure replayed first"
    assert replay["replay_seconds"] > 0

    shards = result["shards"]
    for key, items in (("one_item", 1), ("sharded", 2)):
        pytest_run = shards[key]
        assert pytest_run["items"] == len(pytest_run["item_seconds"]) == items
        assert pytest_run["examples"] > 0
        assert pytest_run["wall_seconds"] >= max(pytest_run["item_seconds"])
    assert shards["ratio"] > 0
    assert shards["wall_ratio"] > 0

    overhead = result["database_overhead"]
    assert overhead["holds"], "the correct store held in every run"
    assert len(overhead["seconds_with"]) == len(overhead["seconds_without"]) == overhead["rounds"]
    # Derandomized: both sides ran the same examples, so their times compare like with like.
    assert overhead["examples_with"] == overhead["examples_without"]
    assert overhead["ratio"] > 0

    assert len(result["budgets"]) == 4
    assert all(isinstance(budget["met"], bool) for budget in result["budgets"])
    met = all(budget["met"] for budget in result["budgets"])
    assert run.returncode == (0 if met else 1), run.stderr
