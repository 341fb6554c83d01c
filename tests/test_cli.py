"""The two `run` commands: the fixed host exits 0, the broken one crashes with 139."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def run_module(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=60
    )


def test_fixed_host_runs_two_seconds_and_prints_its_final_screen() -> None:
    result = run_module("refimpl", "run", "--seconds", "2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "Frame: 120"


def test_broken_host_crashes_with_a_use_after_free_report_and_exit_139() -> None:
    result = run_module("broken_variant", "run", "--seconds", "2")
    assert result.returncode == 139
    assert "ERROR: SimulatedHeap: heap-use-after-free on address 0x" in result.stderr
    assert "via the pointer stored for plugin 'simple_counter'" in result.stderr
    assert "Frame: 120" not in result.stdout


def test_broken_host_shutdown_without_frames_is_a_double_free() -> None:
    result = run_module("broken_variant", "run", "--frames", "0")
    assert result.returncode == 139
    assert "ERROR: SimulatedHeap: attempting double-free on 0x" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--frames", "-3"], "argument --frames: '-3' is negative"),
        (["run", "--seconds", "soon"], "argument --seconds: 'soon' is not a float"),
        (["run", "--fps", "0"], "argument --fps: must be positive"),
        ([], "the following arguments are required: command"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(args: list[str], message: str) -> None:
    result = run_module("refimpl", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-examples", "0"], "argument --max-examples: '0' must be at least 1"),
        (["--frames", "many"], "argument --frames: 'many' is not an integer"),
        (["--only", "nope"], "argument --only: unknown mutant 'nope'; choose from"),
        (["--out", "/dev/null"], "argument --out: '/dev/null' is not a folder"),
    ],
)
def test_report_builder_refuses_bad_arguments_in_one_line(args: list[str], message: str) -> None:
    result = run_module("reports", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-time", "nan"], "argument --max-time: 'nan' is not a finite number"),
        (["--out", "/dev/null"], "argument --out: '/dev/null' is not a folder"),
    ],
)
def test_bench_refuses_bad_arguments_in_one_line_before_any_benchmark(
    args: list[str], message: str
) -> None:
    result = run_module("reports.bench", *args)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == f"python -m reports.bench: error: {message}"
    assert "bench: timing" not in result.stderr, "refused before the benchmarks"


@pytest.mark.parametrize(
    ("hidden", "message"),
    [("compiler", "NIM_HIDDEN"), ("gcc", "GCC_MISSING")],
)
def test_native_driver_without_its_toolchain_exits_2_with_one_line(
    hidden: str, message: str
) -> None:
    import reports.native

    env = {**os.environ, "NATIVE_NIM": "none"} if hidden == "compiler" else {"PATH": "/nonexistent"}
    result = subprocess.run(
        [sys.executable, "-m", "reports.native"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == getattr(reports.native, message)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--frames", "nan"], "argument --frames: 'nan' is not an integer"),
        (["--timeout", "inf"], "argument --timeout: 'inf' is not a finite number"),
        (["--jobs", "0"], "argument --jobs: '0' must be at least 1"),
        (["--out", "/dev/null"], "argument --out: '/dev/null' is not a folder"),
    ],
)
def test_native_driver_refuses_bad_arguments_in_one_line_before_any_work(
    args: list[str], message: str
) -> None:
    from reports.native import NIM_HIDDEN, NIM_MISSING

    result = run_module("reports.native", *args)
    assert result.returncode == 2
    assert message in result.stderr.splitlines()[-1]
    assert "Traceback" not in result.stderr
    for missing in (NIM_MISSING, NIM_HIDDEN):
        assert missing not in result.stderr, "refused before looking for a compiler"
