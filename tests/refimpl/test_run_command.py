"""`python -m refimpl run` and `python -m broken_variant run`: the fixed host exits 0, the
broken one crashes with 139; and under hostile conditions: bad arguments, numbers that are
not finite, a reader that has gone, and Ctrl-C."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time

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


@pytest.mark.parametrize("module", ["refimpl", "broken_variant"])
@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--seconds", "nan"),
        ("--seconds", "inf"),
        ("--seconds", "-inf"),
        ("--fps", "nan"),
        ("--fps", "inf"),
    ],
)
def test_a_number_that_is_not_finite_is_a_usage_error_in_one_line(
    module: str, option: str, value: str
) -> None:
    result = run_module(module, "run", f"{option}={value}")
    assert result.returncode == 2, result.stderr
    [*_, last] = result.stderr.strip().splitlines()
    assert last.startswith(f"python -m {module} run: error: argument {option}: '{value}' is not")
    assert "Traceback" not in result.stderr


def test_a_closed_pipe_on_stdout_ends_the_run_quietly_with_its_status() -> None:
    reader, writer = os.pipe()
    os.close(reader)  # `| true`: the reader is gone before anything is written
    try:
        result = subprocess.run(
            [sys.executable, "-m", "refimpl", "run", "--frames", "3"],
            stdout=writer,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(writer)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "BrokenPipeError" not in result.stderr


AS_IN_A_TERMINAL = (
    "import runpy, signal, sys\n"
    "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
    "sys.argv[0] = 'refimpl'\n"
    "runpy.run_module('refimpl', run_name='__main__', alter_sys=True)\n"
)
"""`python -m refimpl ...` with Ctrl-C raising `KeyboardInterrupt`, as in a terminal's
foreground job. A shell's background job (`make test &`) ignores SIGINT, and a process
inherits an ignored signal: there, Ctrl-C could not reach the command at all."""


def _voluntary_switches(pid: int) -> int:
    """How often process `pid`'s main thread has given up the processor of its own accord
    (a sleep, a wait): Linux's count in /proc."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("voluntary_ctxt_switches:"):
                return int(line.split()[1])
    raise AssertionError(f"/proc/{pid}/status has no voluntary_ctxt_switches")


def test_ctrl_c_shuts_the_plugins_down_and_exits_130_without_a_traceback() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", AS_IN_A_TERMINAL, "run", "--seconds", "30"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        # printed once the plugins are registered; an old build that says nothing fails here
        ready, _, _ = select.select([process.stderr], [], [], 60)
        started = process.stderr.readline() if ready else "(nothing within 60 s)"
        assert started.startswith("python -m refimpl: running simple_counter, frame_log"), started
        # A few frames, however busy the machine: the host sleeps before every frame but the
        # first, so a few more sleeps (voluntary context switches) than now mean frames ran.
        switches = _voluntary_switches(process.pid)
        deadline = time.monotonic() + 30  # else on: then hundreds of frames have run
        while _voluntary_switches(process.pid) < switches + 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert re.match(r"Frame: [1-9]\d*$", stdout.splitlines()[0]), stdout
    assert re.search(
        r"^\(\d+ frames, then interrupted; contexts released: simple_counter, frame_log\)$",
        stderr,
        re.MULTILINE,
    ), stderr
    assert stderr.strip().splitlines()[-1] == "python -m refimpl: interrupted"


LATE_WRITER = """
import atexit, sys
from refimpl.support.cmdline import run_cli

def main(argv):
    atexit.register(lambda: print("written after the command returned"))
    return 0

sys.exit(run_cli(main, "late"))
"""


def test_output_written_after_the_command_returned_into_a_closed_pipe_is_dropped_quietly() -> None:
    """What reaches stdout after `run_cli` returns (an atexit handler, a finalizer) never
    passes through its tolerant wrapper: a closed reader must not turn it into a traceback."""
    run = subprocess.Popen(
        [sys.executable, "-c", LATE_WRITER],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert run.stdout is not None
    run.stdout.close()
    _, errors = run.communicate(timeout=60)
    assert run.returncode == 0, errors
    assert "BrokenPipe" not in errors, errors
