"""`python -m reports`, `python -m reports.bench` and `python -m reports.native`: a bad
argument is one line (exit 2) before any work, a missing toolchain is one line, a closed
pipe ends quietly, a disk that refuses a write is one line."""

from __future__ import annotations

import builtins
import errno
import io
import json
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import reports.__main__ as reports_cli
import reports.bench as bench_cli
import reports.native as native_cli
from reports.report import FILES, build_report, write_report
from tests.report_samples import renders, report_in, tiny_findings

ROOT = Path(__file__).resolve().parents[2]
CLIS = {
    "python -m reports": reports_cli.main,
    "python -m reports.bench": bench_cli.main,
    "python -m reports.native": native_cli.main,
}


@pytest.fixture(autouse=True)
def _collected_heap() -> None:
    """Overrides conftest's: these tests look at files, not at the heap, so they skip the
    collection before each test (~0.2 s each with pytest, Hypothesis and numpy loaded)."""


@pytest.fixture
def no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Starting the work (the contract, the benchmarks) fails the test."""

    def work(*args: object, **kwargs: object) -> Any:
        raise AssertionError("the work started")

    monkeypatch.setattr("reports.report._build.collect", work)
    monkeypatch.setattr("reports.bench._cli.run_benchmarks", work)
    monkeypatch.setattr("reports.native._cli.toolchain_missing", work)


def _refusal(
    main: Callable[[list[str]], int], argv: list[str], capsys: pytest.CaptureFixture[str]
) -> str:
    """The one error line `main(argv)` exits 2 with (after argparse's usage line)."""
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("usage: "), lines
    assert [line for line in lines if ": error: " in line] == lines[-1:], lines
    return lines[-1]


def run_module(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=60
    )


@pytest.mark.slow
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


def _read_only(path: Path) -> Path:
    path.mkdir()
    path.chmod(0o555)
    return path


def _file(path: Path) -> Path:
    path.write_text("mine")
    return path


def _link_to_nothing(path: Path) -> Path:
    path.symlink_to(path.with_name("nowhere"))
    return path


def _folders_named_as_the_files(path: Path) -> Path:
    for name in (*FILES, "bench.json", "native.json"):
        (path / name).mkdir(parents=True)
    return path


# Each: how to make the unusable --out under tmp_path, and why it is refused.
_UNUSABLE: dict[str, tuple[Callable[[Path], str], str]] = {
    "a file": (lambda tmp: str(_file(tmp / "f")), "is not a folder"),
    "/dev/null": (lambda tmp: "/dev/null", "is not a folder"),
    "a read-only folder": (lambda tmp: str(_read_only(tmp / "ro")), "is read-only"),
    "a missing parent": (
        lambda tmp: str(tmp / "gone" / "out"),
        "cannot be created: '{tmp}/gone' does not exist",
    ),
    "a read-only parent": (
        lambda tmp: str(_read_only(tmp / "ro") / "out"),
        "cannot be created: '{tmp}/ro' is read-only",
    ),
    "a name too long": (lambda tmp: str(tmp / ("x" * 256)), "cannot be used: File name too long"),
    "a NUL": (lambda tmp: str(tmp / "out\0"), "contains a NUL character"),
    "a link to nothing": (
        lambda tmp: str(_link_to_nothing(tmp / "link")),
        "is a symbolic link to nothing",
    ),
    "a path through a file": (
        lambda tmp: str(_file(tmp / "f") / "out"),
        "cannot be used: Not a directory",
    ),
    "an empty path": (lambda tmp: "", "is empty"),
    "a folder where a file goes": (
        lambda tmp: str(_folders_named_as_the_files(tmp / "out")),
        "holds a folder named",
    ),
}


@pytest.mark.usefixtures("no_work")
@pytest.mark.parametrize("case", list(_UNUSABLE))
def test_an_unusable_out_is_one_line_and_exit_2_before_any_work(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make, why = _UNUSABLE[case]
    out = make(tmp_path)
    before = sorted(tmp_path.rglob("*"))
    for prog, main in CLIS.items():
        line = _refusal(main, ["--out", out], capsys)
        assert line.startswith(f"{prog}: error: argument --out: {out!r} "), line
        assert why.format(tmp=tmp_path) in line, line
    assert sorted(tmp_path.rglob("*")) == before, "nothing is made for a refused --out"


def test_an_out_that_is_not_utf8_is_refused_by_the_real_command(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "reports", "--out", os.fsencode(tmp_path) + b"/out\xff"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines()[-1].endswith("/out\\udcff' is not valid UTF-8 on this system")
    assert list(tmp_path.iterdir()) == []


def test_a_missing_out_is_made_when_its_parent_is_a_writable_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("reports.report._build.collect", lambda **kwargs: tiny_findings("new"))
    assert reports_cli.main(["--out", str(tmp_path / "out")]) == 0
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == sorted(FILES)


@pytest.mark.usefixtures("no_work")
def test_an_out_holding_files_it_did_not_write_is_one_line_naming_each_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The new user's case: someone's index.html (and report.md) in the folder given."""
    (tmp_path / "index.html").write_text("<html>mine</html>")
    (tmp_path / "report.md").write_text("my notes")
    (tmp_path / "notes.txt").write_text("not a report's name")
    assert reports_cli.main(["--out", str(tmp_path)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("python -m reports: error: files that python -m reports did "), lines
    for name in ("index.html", "report.md"):
        assert repr(str(tmp_path / name)) in lines[0]
    assert "notes.txt" not in lines[0]
    assert lines[0].endswith("move them away, or use another --out DIR"), lines
    assert (tmp_path / "index.html").read_text() == "<html>mine</html>"
    assert sorted(os.listdir(tmp_path)) == ["index.html", "notes.txt", "report.md"]


def test_a_file_put_at_a_reports_name_during_the_run_stops_the_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def meanwhile(**kwargs: object) -> Any:
        (tmp_path / "junit.xml").write_text("<mine/>")
        return tiny_findings("new")

    monkeypatch.setattr("reports.report._build.collect", meanwhile)
    assert reports_cli.main(["--out", str(tmp_path)]) == 2
    line = capsys.readouterr().err.splitlines()[-1]
    assert repr(str(tmp_path / "junit.xml")) in line, line
    assert line.endswith("; nothing was written"), line
    assert sorted(path.name for path in tmp_path.iterdir()) == ["junit.xml"]


def test_its_own_report_in_out_is_replaced_by_the_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_report(tiny_findings("previous"), tmp_path)
    monkeypatch.setattr("reports.report._build.collect", lambda **kwargs: tiny_findings("new"))
    assert reports_cli.main(["--out", str(tmp_path)]) == 0
    assert report_in(tmp_path) == renders(tiny_findings("new"))


@pytest.mark.usefixtures("no_work")
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--max-time", "nan"], "argument --max-time: 'nan' is not a finite number"),
        (["--max-time", "inf"], "argument --max-time: 'inf' is not a finite number"),
        (["--max-time", "-1"], "argument --max-time: '-1' is negative"),
        (["--sizes", "10,nan"], "argument --sizes: 'nan' is not an integer"),
        (["--sizes", "10,,20"], "argument --sizes: '' is not an integer"),
        (["--sizes", "0"], "argument --sizes: '0' must be at least 1"),
        (["--examples", "inf"], "argument --examples: 'inf' is not an integer"),
        (["--examples", "0"], "argument --examples: '0' must be at least 1"),
    ],
)
def test_a_bad_bench_number_is_one_line_before_any_benchmark_and_keeps_bench_json(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bench.json").write_text('{"schema": 1, "a good": "run"}')
    line = _refusal(bench_cli.main, ["--out", str(tmp_path), *argv], capsys)
    assert line == f"python -m reports.bench: error: {message}"
    assert (tmp_path / "bench.json").read_text() == '{"schema": 1, "a good": "run"}'


@pytest.mark.usefixtures("no_work")
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--max-examples", "nan"], "argument --max-examples: 'nan' is not an integer"),
        (["--frames", "inf"], "argument --frames: 'inf' is not an integer"),
    ],
)
def test_a_non_finite_report_number_is_one_line_before_any_work(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _refusal(reports_cli.main, argv, capsys) == f"python -m reports: error: {message}"


def _a_disk_that_fills_up(real_open: Callable[..., Any]) -> Callable[..., Any]:
    """`open`, except that a file opened for writing takes half of what is written to it,
    then says the disk is full."""

    def open_(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        stream = real_open(file, mode, *args, **kwargs)
        if "w" in mode:
            write = stream.write

            def write_half(data: Any) -> int:
                write(data[: len(data) // 2])
                stream.flush()
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

            stream.write = write_half
        return stream

    return open_


def test_a_bench_run_that_cannot_finish_writing_leaves_the_previous_bench_json(
    fake_bench: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "bench.json").write_text('{"schema": 1, "a good": "run"}')
    monkeypatch.setattr(io, "open", _a_disk_that_fills_up(io.open))
    monkeypatch.setattr(builtins, "open", _a_disk_that_fills_up(builtins.open))
    with pytest.raises(OSError, match="No space left on device"):
        bench_cli.main(["--out", str(tmp_path), *fake_bench])
    monkeypatch.undo()
    assert (tmp_path / "bench.json").read_text() == '{"schema": 1, "a good": "run"}'
    assert [path.name for path in tmp_path.iterdir()] == ["bench.json"], "no temporary file left"


def test_bench_json_is_written_whole_and_read_back_by_the_report(
    fake_bench: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bench_cli.main(["--out", str(tmp_path), *fake_bench])
    written = json.loads((tmp_path / "bench.json").read_text())
    assert written["schema"] == bench_cli.SCHEMA_VERSION
    assert [path.name for path in tmp_path.iterdir()] == ["bench.json"], "no temporary file left"
    monkeypatch.setattr("reports.report._build.collect", lambda **kwargs: tiny_findings("new"))
    lines: list[str] = []
    assert build_report(tmp_path, progress=lines.append).bench == written, lines


_FAKE_RUN = """
import os, runpy, sys
import reports.report._build
from tests.report_samples import tiny_findings

work, out = sys.argv[1:]
reports.report._build.collect = lambda **kwargs: tiny_findings("new", ok=work != "failing")
if work == "ctrl-c in a gc callback":
    import gc
    def collect(**kwargs):
        def ctrl_c(phase, info):  # Ctrl-C arriving while Hypothesis's gc callback runs
            gc.callbacks.remove(ctrl_c)
            raise KeyboardInterrupt
        gc.callbacks.append(ctrl_c)
        gc.collect()  # Python can only print "Exception ignored" and go on
        return tiny_findings("new")
    reports.report._build.collect = collect
if work == "disk full":
    def disk_full(descriptor):
        raise OSError(28, os.strerror(28))
    os.fsync = disk_full
if work == "an immutable file":  # chattr +i: the folder takes files, this one will not move
    import errno
    def refuse(source, target, *args, **kwargs):
        raise PermissionError(errno.EPERM, os.strerror(errno.EPERM), str(target))
    os.replace = refuse
if work == "kill while staging":
    import signal
    real_fsync = os.fsync
    def killed(descriptor):  # `kill PID` while the new files are written, before they move
        os.kill(os.getpid(), signal.SIGTERM)
        real_fsync(descriptor)
    os.fsync = killed
if work.startswith("kill during a contract run"):  # ... after SECONDS, ISOLATE
    import signal, threading
    from hypothesis import settings
    from refimpl import ContextStore
    from refimpl.contract import run_contract
    def collect(**kwargs):
        seconds, isolate = work.split(" after ")[1].split(", ")
        threading.Timer(float(seconds), os.kill, (os.getpid(), signal.SIGTERM)).start()
        endless = settings(max_examples=10**6, database=None, deadline=None)
        run_contract(ContextStore, settings=endless, isolate=isolate == "isolated")
        raise AssertionError("the contract ran to its end: SIGTERM did not stop it")
    reports.report._build.collect = collect
sys.argv = ["reports", "--out", out]
runpy.run_module("reports", run_name="__main__", alter_sys=True)
"""


def _fake_run(work: str, out: Path, **popen: Any) -> subprocess.Popen[str]:
    """`python -m reports --out OUT` as it is run, with tiny findings in place of the
    contract's (`work`: "passing" or "failing"), or with a disk that is full."""
    return subprocess.Popen(
        [sys.executable, "-c", _FAKE_RUN, work, str(out)],
        cwd=ROOT, text=True, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}, **popen,
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(("work", "status"), [("passing", 0), ("failing", 1)])
def test_a_closed_stdout_ends_quietly_with_the_works_exit_status(
    work: str, status: int, tmp_path: Path
) -> None:
    run = _fake_run(work, tmp_path, stdout=subprocess.PIPE)
    assert run.stdout is not None
    run.stdout.close()  # `python -m reports | true`: the reader is gone before the first line
    _, errors = run.communicate(timeout=60)
    assert run.returncode == status, errors
    assert "Traceback" not in errors, errors
    assert "BrokenPipe" not in errors, errors
    assert (tmp_path / "index.html").is_file(), "the work was done"


@pytest.mark.slow
def test_a_real_bench_run_into_a_closed_pipe_ends_quietly_with_the_status_it_deserves(
    tmp_path: Path,
) -> None:
    run = subprocess.Popen(
        [sys.executable, "-m", "reports.bench", "--out", str(tmp_path), "--max-time", "0",
         "--sizes", "10", "--examples", "1"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert run.stdout is not None
    run.stdout.close()  # `python -m reports.bench | true`
    _, errors = run.communicate(timeout=120)
    assert "Traceback" not in errors, errors
    assert "BrokenPipe" not in errors, errors
    targets = json.loads((tmp_path / "bench.json").read_text())["targets"]
    assert run.returncode == (0 if all(target["met"] for target in targets) else 1), errors


_BENCH_KILLED = """
import os, runpy, signal, sys, time
import pytest
def benchmarks(args):  # SIGTERM while pytest-benchmark runs: pytest catches it, returns 2
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(30)
    except KeyboardInterrupt:
        return pytest.ExitCode.INTERRUPTED
    raise AssertionError("SIGTERM did not interrupt the benchmarks")
pytest.main = benchmarks
sys.argv = ["reports.bench", "--out", sys.argv[1]]
runpy.run_module("reports.bench", run_name="__main__", alter_sys=True)
"""


def test_sigterm_while_pytest_runs_the_benchmarks_stops_the_bench_as_sigterm(
    tmp_path: Path,
) -> None:
    """pytest turns the interruption into an exit status; the bench raises it again."""
    run = subprocess.run(
        [sys.executable, "-c", _BENCH_KILLED, str(tmp_path)], cwd=ROOT, capture_output=True,
        text=True, timeout=60, check=False,
    )  # fmt: skip
    assert run.returncode == 128 + signal.SIGTERM, run.stderr
    assert run.stderr.splitlines()[-1] == "python -m reports.bench: SIGTERM, stopped"
    assert "Traceback" not in run.stderr, run.stderr
    assert list(tmp_path.iterdir()) == [], "no bench.json, whole or cut short"


def _file_size_limit() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))  # index.html is larger


@pytest.mark.slow
@pytest.mark.parametrize(
    ("disk", "why"),
    [("disk full", "No space left on device"), ("file size limit", "File too large")],
)
def test_a_disk_that_refuses_a_write_is_one_line_and_keeps_the_previous_report(
    disk: str, why: str, tmp_path: Path
) -> None:
    write_report(tiny_findings("previous"), tmp_path)
    limit = _file_size_limit if disk == "file size limit" else None
    run = _fake_run(disk, tmp_path, stdout=subprocess.DEVNULL, preexec_fn=limit)
    _, errors = run.communicate(timeout=60)
    assert run.returncode == 1, errors
    assert errors.splitlines()[-1] == f"python -m reports: {why} writing {tmp_path / FILES[0]}"
    assert "Traceback" not in errors, errors
    assert report_in(tmp_path) == renders(tiny_findings("previous"))
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(FILES)


@pytest.mark.slow
def test_a_file_the_file_system_refuses_to_replace_is_one_line_and_keeps_the_report(
    tmp_path: Path,
) -> None:
    write_report(tiny_findings("previous"), tmp_path)
    run = _fake_run("an immutable file", tmp_path, stdout=subprocess.DEVNULL)
    _, errors = run.communicate(timeout=60)
    assert run.returncode == 1, errors
    said = errors.splitlines()[-1]
    assert said.startswith("python -m reports: Operation not permitted: "), errors
    assert said.removeprefix("python -m reports: Operation not permitted: ") in {
        str(tmp_path / name) for name in FILES
    }
    assert "Traceback" not in errors, errors
    assert report_in(tmp_path) == renders(tiny_findings("previous"))
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(FILES), "nothing left"


@pytest.mark.slow
def test_ctrl_c_that_python_ignores_in_a_gc_callback_still_stops_the_report(
    tmp_path: Path,
) -> None:
    write_report(tiny_findings("previous"), tmp_path)
    run = _fake_run("ctrl-c in a gc callback", tmp_path, stdout=subprocess.DEVNULL)
    _, errors = run.communicate(timeout=60)
    assert run.returncode == 130, errors
    assert errors.splitlines()[-1] == "python -m reports: interrupted", errors
    assert "Exception ignored" not in errors, errors
    assert "Traceback" not in errors, errors
    assert report_in(tmp_path) == renders(tiny_findings("previous"))


@pytest.mark.slow
@pytest.mark.parametrize("when", ["0.5, isolated", "0.5, in-process"])
def test_sigterm_during_a_contract_run_stops_the_report_with_one_line(
    when: str, tmp_path: Path
) -> None:
    """SIGTERM lands inside Hypothesis (drawing, shrinking, its own bookkeeping) or the
    store, wherever the run is: one line, status 143, the previous report whole."""
    write_report(tiny_findings("previous"), tmp_path)
    run = _fake_run(f"kill during a contract run after {when}", tmp_path, stdout=subprocess.DEVNULL)
    try:
        _, errors = run.communicate(timeout=60)
    finally:  # a run that lost its SIGTERM would go on for good
        run.kill()
        run.wait()
    assert run.returncode == 128 + signal.SIGTERM, errors
    assert errors.splitlines()[-1] == "python -m reports: SIGTERM, stopped", errors
    assert "Traceback" not in errors, errors
    assert report_in(tmp_path) == renders(tiny_findings("previous"))


@pytest.mark.slow
def test_sigterm_while_the_files_are_written_leaves_the_previous_report_and_nothing_else(
    tmp_path: Path,
) -> None:
    write_report(tiny_findings("previous"), tmp_path)
    run = _fake_run("kill while staging", tmp_path, stdout=subprocess.DEVNULL)
    _, errors = run.communicate(timeout=60)
    assert run.returncode == 128 + signal.SIGTERM, errors
    assert "Traceback" not in errors, errors
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(FILES), "no temporary file"
    assert report_in(tmp_path) == renders(tiny_findings("previous"))
