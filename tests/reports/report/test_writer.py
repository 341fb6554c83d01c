"""The report writer: its files (`FILES`: index.html, report.md, report-full.md,
report.json, junit.xml) replaced as one unit, in a folder that is otherwise left exactly as
it was; bench.json and native.json join only when they can be read."""

from __future__ import annotations

import dataclasses
import errno
import fcntl
import json
import os
import random
import re
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.output import LOCK_FILE
from reports.report import FILES, GENERATOR, Findings, ForeignFiles, build_report, write_report
from reports.report._authorship import HTML_MARK, JUNIT_MARK, MARKDOWN_MARK
from tests.report_samples import renders, report_in, tiny_findings

ROOT = Path(__file__).resolve().parents[3]
Snapshot = dict[str, tuple[object, ...]]


@pytest.fixture(autouse=True)
def _collected_heap() -> None:
    """Overrides conftest's: these tests look at files, not at the heap, so they skip the
    collection before each test (~0.2 s each with pytest, Hypothesis and numpy loaded)."""


def _snapshot(folder: Path) -> Snapshot:
    """Everything in `folder`, recursively and without following links, as comparable data:
    each entry's inode, type and mode, owner, size, modification and change times, and its
    bytes, link target or (for a folder) its own snapshot. FIFOs and sockets are never
    opened. Anything moved, replaced, re-created, chmod-ed or rewritten compares unequal."""
    found: Snapshot = {}
    for entry in os.scandir(folder):
        status = entry.stat(follow_symlinks=False)
        content: object = None
        if stat.S_ISLNK(status.st_mode):
            content = os.readlink(entry.path)
        elif stat.S_ISREG(status.st_mode):
            content = Path(entry.path).read_bytes()
        elif stat.S_ISDIR(status.st_mode):
            content = sorted(_snapshot(Path(entry.path)).items())
        found[entry.name] = (
            status.st_ino, status.st_mode, status.st_uid, status.st_gid, status.st_size,
            status.st_mtime_ns, status.st_ctime_ns, content,
        )  # fmt: skip
    return found


def _others(folder: Path) -> Snapshot:
    """The snapshot of `folder` without the report's own files."""
    return {name: item for name, item in _snapshot(folder).items() if name not in FILES}


def _folder_itself(folder: Path) -> tuple[int, int, int, int]:
    status = os.stat(folder)
    return status.st_ino, status.st_mode, status.st_uid, status.st_gid


# What a user may keep in an output folder. The report's names are the writer's to
# replace; LOCK_FILE is used only where a folder cannot be locked (NFS), not here.
_NAMES = st.text(
    st.characters(codec="utf-8", exclude_characters="/\0"), min_size=1, max_size=16
).filter(lambda name: name not in {".", "..", LOCK_FILE, *FILES})
_GROUPS = sorted({os.getgid(), *os.getgroups(), *((1, 2) if os.geteuid() == 0 else ())})
"""Groups this user may give a folder it owns (root: any, so two more than its own)."""
_KINDS = ("file", "read-only file", "folder", "link to nothing", "link to report", "fifo", "socket")


def _make(path: Path, kind: str, data: bytes) -> None:
    if kind in ("file", "read-only file"):
        path.write_bytes(data)
        path.chmod(0o444 if kind == "read-only file" else 0o640)
    elif kind == "folder":
        path.mkdir()
        (path / "kept").write_bytes(data)
    elif kind == "link to nothing":
        path.symlink_to("/nonexistent/target")
    elif kind == "link to report":
        path.symlink_to("index.html")
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        os.mknod(path, stat.S_IFSOCK | 0o600)


@pytest.mark.slow
@settings(max_examples=max(20, settings().max_examples // 10))  # ci: 50, deep: 500
@given(
    entries=st.dictionaries(_NAMES, st.tuples(st.sampled_from(_KINDS), st.binary(max_size=32))),
    folder_mode=st.sampled_from([0o755, 0o700, 0o750, 0o2775, 0o1777]),
    folder_group=st.sampled_from(_GROUPS),
    had_a_report=st.booleans(),
)
def test_everything_else_in_the_folder_is_left_exactly_as_it_was(
    entries: dict[str, tuple[str, bytes]], folder_mode: int, folder_group: int, had_a_report: bool
) -> None:
    with tempfile.TemporaryDirectory() as parent:
        out = Path(parent) / "out"
        out.mkdir()
        if had_a_report:
            write_report(tiny_findings("previous"), out)
        for name, (kind, data) in entries.items():
            _make(out / name, kind, data)
        os.chown(out, -1, folder_group)
        out.chmod(folder_mode)
        before, itself = _others(out), _folder_itself(out)

        write_report(tiny_findings("new"), out)

        assert _folder_itself(out) == itself, "the folder was replaced, re-created or chmod-ed"
        assert _others(out) == before, "something the writer did not write was touched"
        assert sorted(os.listdir(out)) == sorted({*before, *FILES}), "leftovers"
        assert report_in(out) == renders(tiny_findings("new"))


def test_every_file_of_the_report_is_written_by_the_atomic_writer_as_one_unit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The design's four names and the full Markdown report beside the summary: all staged
    and moved into place together by `write_texts_atomically`, none written in place."""
    from reports.output import write_texts_atomically

    written: list[tuple[Path, tuple[str, ...]]] = []

    def recorded(folder: Path, texts: dict[str, str]) -> None:
        written.append((folder, tuple(texts)))
        write_texts_atomically(folder, texts)

    monkeypatch.setattr("reports.report._build.write_texts_atomically", recorded)
    out = tmp_path / "out"
    write_report(tiny_findings("new"), out)
    assert written == [(out, FILES)], "one unit, every file"
    assert {"index.html", "report.md", "report-full.md", "report.json", "junit.xml"} == set(FILES)
    assert sorted(os.listdir(out)) == sorted(FILES)
    assert report_in(out) == renders(tiny_findings("new"))


def test_a_folder_with_a_report_files_name_stops_the_write_before_anything_is_replaced(
    tmp_path: Path,
) -> None:
    for name in ("junit.xml", "report-full.md"):
        out = tmp_path / name / "out"
        out.parent.mkdir()
        write_report(tiny_findings("previous"), out)
        (out / name).unlink()
        (out / name).mkdir()
        (out / name / "mine").write_text("a user's file")
        before = _snapshot(out)
        with pytest.raises(IsADirectoryError, match=re.escape(name)):
            write_report(tiny_findings("new"), out)
        assert _snapshot(out) == before, name


def _lock_files_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `flock` refuse folders, as it does on NFS."""
    real_flock = fcntl.flock

    def like_nfs(descriptor: int, operation: int) -> None:
        if stat.S_ISDIR(os.fstat(descriptor).st_mode):
            raise OSError(errno.EBADF, os.strerror(errno.EBADF))
        real_flock(descriptor, operation)

    monkeypatch.setattr(fcntl, "flock", like_nfs)


def test_where_a_folder_cannot_be_locked_a_lock_file_in_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _lock_files_only(monkeypatch)
    out = tmp_path / "out"
    write_report(tiny_findings("new"), out)
    assert sorted(os.listdir(out)) == sorted([*FILES, LOCK_FILE])
    assert (out / LOCK_FILE).read_bytes() == b""
    assert report_in(out) == renders(tiny_findings("new"))


@pytest.fixture
def ctrl_c_raises() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt here, whatever the test runner set."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


# Every call through which a writer changes the file system (or waits for another).
_STEPS: tuple[tuple[Any, str], ...] = tuple(
    (module, name)
    for module, names in [
        (os, ("open", "fsync", "fchmod", "chmod", "replace", "rename", "unlink", "mkdir", "rmdir")),
        (fcntl, ("flock",)),
    ]
    for name in names
)


class _CtrlCAt:
    """Sends this process a real SIGINT just before the `step`-th call it wraps."""

    def __init__(self, step: int) -> None:
        self.step, self.calls = step, 0

    def before(self, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.calls == self.step:
                signal.raise_signal(signal.SIGINT)
            return real(*args, **kwargs)

        return call


@pytest.mark.usefixtures("ctrl_c_raises")
def test_ctrl_c_at_any_step_leaves_the_previous_report_or_the_new_one_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real SIGINT is sent to this process just before the writer's first, second, ...
    file system call, until one run goes through without meeting it. After each, the folder
    holds one whole report (the previous or the new), nothing else changed, no leftovers,
    and the interrupt was not lost (KeyboardInterrupt came out)."""
    previous, new = renders(tiny_findings("previous")), renders(tiny_findings("new"))
    for step in range(1, 200):
        out = tmp_path / f"out{step}"
        write_report(tiny_findings("previous"), out)
        (out / "notes.txt").write_text("the user's")
        (out / ".native-cache").mkdir()
        (out / ".native-cache" / "backstorie").write_text("a cached binary")
        before = _others(out)
        ctrl_c = _CtrlCAt(step)
        with monkeypatch.context() as patch:
            for module, name in _STEPS:
                patch.setattr(module, name, ctrl_c.before(getattr(module, name)))
            try:
                write_report(tiny_findings("new"), out)
                interrupted = False
            except KeyboardInterrupt:
                interrupted = True
        assert report_in(out) in (previous, new), f"Ctrl-C at step {step}: a mix of two reports"
        assert _others(out) == before, f"Ctrl-C at step {step}: other content changed"
        assert interrupted == (ctrl_c.calls >= step), f"Ctrl-C at step {step} was lost"
        if ctrl_c.calls < step:
            assert report_in(out) == new
            break
    else:
        pytest.fail("the writer never finished: more than 200 file system calls")


_TERMINATED_IN_THE_COMMIT = """
import os, signal, sys
from pathlib import Path
from reports.report import write_report
from tests.report_samples import tiny_findings

signal.signal(signal.SIGTERM, signal.SIG_DFL)
for name in ("replace", "rename"):  # whichever moves the first file into place
    def moved_then_terminated(source, target, real=getattr(os, name)):
        real(source, target)
        os.kill(os.getpid(), signal.SIGTERM)
    setattr(os, name, moved_then_terminated)
write_report(tiny_findings("new"), Path(sys.argv[1]))
print("the process outlived its SIGTERM")
"""


@pytest.mark.slow
def test_sigterm_during_the_commit_ends_the_process_once_the_report_is_whole(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    write_report(tiny_findings("previous"), out)
    child = subprocess.run(
        [sys.executable, "-c", _TERMINATED_IN_THE_COMMIT, str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert child.returncode == -signal.SIGTERM, child.stdout + child.stderr
    assert report_in(out) == renders(tiny_findings("new")), "SIGTERM cut the commit short"
    assert sorted(os.listdir(out)) == sorted(FILES)


def _write_at_once(
    findings: Findings, out: Path, start: threading.Barrier, errors: list[BaseException]
) -> None:
    start.wait()
    try:
        write_report(findings, out)
    except BaseException as error:
        errors.append(error)


@pytest.mark.parametrize("lock", ["on the folder", "on a lock file (NFS)"])
def test_two_runs_into_one_folder_leave_one_whole_report(
    lock: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if lock != "on the folder":
        _lock_files_only(monkeypatch)
    out = tmp_path / "out"
    runs = [tiny_findings("one"), tiny_findings("two")]
    wholes = [renders(findings) for findings in runs]
    pause = random.Random(0)

    def slowly(move: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
        def move_then_pause(source: Any, target: Any) -> None:  # room for the other to cut in
            move(source, target)
            time.sleep(pause.uniform(0, 0.004))

        return move_then_pause

    monkeypatch.setattr(os, "replace", slowly(os.replace))
    monkeypatch.setattr(os, "rename", slowly(os.rename))
    for round_ in range(16):
        start, errors = threading.Barrier(len(runs)), list[BaseException]()
        threads = [
            threading.Thread(target=_write_at_once, args=(findings, out, start, errors))
            for findings in runs
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == [], f"round {round_}: a run failed"
        assert report_in(out) in wholes, f"round {round_}: a mix of the two runs' files"
        leftovers = set(os.listdir(out)) - {*FILES, LOCK_FILE}
        assert not leftovers, f"round {round_}: leftovers"


def test_a_write_error_keeps_its_errno_names_the_file_and_leaves_the_old_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    write_report(tiny_findings("previous"), out)

    def disk_full(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left on device") as raised:
        write_report(tiny_findings("new"), out)
    assert raised.value.errno == errno.ENOSPC
    assert raised.value.filename == str(out / FILES[0])
    assert report_in(out) == renders(tiny_findings("previous"))
    assert sorted(os.listdir(out)) == sorted(FILES), "no temporary file left"


def _default_mode() -> int:
    """What `open()` gives a new file here: 0o666 less the umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def test_a_report_file_that_is_a_link_is_refused_never_followed_and_left_as_it_is(
    tmp_path: Path,
) -> None:
    """A link at a report's name is nothing the writer wrote: it stops the write, naming
    the link; neither the link nor what it points to (a setuid program) is touched."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_bytes(b"a setuid program of someone's\n")
    elsewhere.chmod(0o4755)
    before = (elsewhere.read_bytes(), os.stat(elsewhere).st_mode)
    out = tmp_path / "out"
    write_report(tiny_findings("previous"), out)
    (out / "report.md").unlink()
    (out / "report.md").symlink_to(elsewhere)
    inside = _snapshot(out)

    with pytest.raises(ForeignFiles) as refused:
        write_report(tiny_findings("new"), out)

    assert refused.value.files == {out / "report.md": "a symbolic link"}
    assert _snapshot(out) == inside, "the link or a report file was replaced"
    assert (elsewhere.read_bytes(), os.stat(elsewhere).st_mode) == before


# What a user may have put at a report's names, each as the writer finds it: a page of
# their own, JSON that is no report, a file that is not UTF-8, a FIFO and a socket.
_NOT_WRITTEN = "not written by python -m reports"
_NOT_OURS: dict[str, tuple[Callable[[Path], object], str]] = {
    "index.html": (lambda path: path.write_text("<html>mine</html>"), _NOT_WRITTEN),
    "report.json": (lambda path: path.write_text('{"schema_version": 4}'), _NOT_WRITTEN),
    "report.md": (lambda path: path.write_bytes(b"# Ownership contract\xff"), _NOT_WRITTEN),
    "report-full.md": (os.mkfifo, "not a regular file"),
    "junit.xml": (lambda path: os.mknod(path, stat.S_IFSOCK | 0o600), "not a regular file"),
}


def test_a_file_at_a_report_name_it_did_not_write_stops_the_write_naming_every_one(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    for name, (make, _) in _NOT_OURS.items():
        make(out / name)
    before = _snapshot(out)

    with pytest.raises(ForeignFiles) as refused:
        write_report(tiny_findings("new"), out)

    assert refused.value.files == {out / name: why for name, (_, why) in _NOT_OURS.items()}
    message = str(refused.value)
    assert all(repr(str(out / name)) in message for name in FILES), message
    assert message.endswith("move them away, or use another --out DIR"), message
    assert "\n" not in message
    assert _snapshot(out) == before, "a file the writer did not write was touched"


@pytest.mark.parametrize("name", FILES)
def test_one_file_it_did_not_write_is_enough_to_stop_it(name: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_report(tiny_findings("previous"), out)
    (out / name).write_text("the user's own, at the report's name\n")
    before = _snapshot(out)
    with pytest.raises(ForeignFiles, match="move it away"):
        write_report(tiny_findings("new"), out)
    assert _snapshot(out) == before


def _as_written_before_the_mark(folder: Path) -> None:
    """Turn the report in `folder` into what this project wrote before its files carried
    `GENERATOR`: report.json of schema version 4, and no mark in any file."""
    for name in FILES:
        text = (folder / name).read_text(encoding="utf-8")
        if name == "report.json":
            data = json.loads(text)
            del data["generator"]
            data["schema_version"] = 4
            text = json.dumps(data)
        else:
            text = "".join(line for line in text.splitlines(True) if GENERATOR not in line)
        assert GENERATOR not in text, name
        (folder / name).write_text(text, encoding="utf-8")


def test_its_own_earlier_reports_are_replaced_with_or_without_the_mark(tmp_path: Path) -> None:
    for marked in (True, False):
        out = tmp_path / f"marked-{marked}"
        write_report(tiny_findings("previous"), out)
        if not marked:
            _as_written_before_the_mark(out)
        write_report(tiny_findings("new"), out)
        assert report_in(out) == renders(tiny_findings("new")), f"marked: {marked}"


# Each file as a later version might shape it: nothing but its mark in common with today's.
_MARKED_ONLY = {
    "index.html": f"<!DOCTYPE html>\n<head>{HTML_MARK}</head><body>another page</body>\n",
    "report.md": f"# Another title\n\n{MARKDOWN_MARK}\n",
    "report-full.md": f"# Another title\n\n{MARKDOWN_MARK}\n",
    "report.json": json.dumps({"generator": GENERATOR, "schema_version": 99}),
    "junit.xml": f"<?xml version='1.0'?>\n<testsuites name='other'>{JUNIT_MARK}</testsuites>\n",
}


def test_a_file_carrying_the_mark_is_replaced_whatever_its_shape(tmp_path: Path) -> None:
    for name, text in _MARKED_ONLY.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    write_report(tiny_findings("new"), tmp_path)
    assert report_in(tmp_path) == renders(tiny_findings("new"))


def test_every_file_of_a_report_carries_the_mark() -> None:
    for name, text in renders(tiny_findings("new")).items():
        assert GENERATOR.encode() in text, name


def test_a_report_file_keeps_its_permission_bits_but_never_setuid_setgid_or_sticky(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    write_report(tiny_findings("previous"), out)
    (out / "report.md").chmod(0o6755)
    (out / "junit.xml").chmod(0o1640)

    write_report(tiny_findings("new"), out)

    assert stat.S_IMODE(os.stat(out / "report.md").st_mode) == 0o755
    assert stat.S_IMODE(os.stat(out / "junit.xml").st_mode) == 0o640
    assert report_in(out) == renders(tiny_findings("new"))


# bench.json and native.json, written by `make bench` and `make native`.


def _schema(name: str) -> int:
    """The schema version the report reads for `name`.json: what its writer writes now."""
    import reports.bench
    import reports.native

    version: int = (
        reports.bench.SCHEMA_VERSION
        if name == "bench"
        else getattr(reports.native, "SCHEMA_VERSION", 1)
    )
    return version


def _text(text: str) -> Callable[[Path], object]:
    return lambda path: path.write_bytes(text.encode("utf-8", "surrogateescape"))


# Each: how the file is damaged, given the schema version its reader wants, and the words
# that say why it is left out.
_UNUSABLE: dict[str, tuple[Callable[[int], Callable[[Path], object]], str]] = {
    "cut short": (lambda v: _text(f'{{"schema": {v}, "rows": [{{"op'), "is not valid JSON"),
    "empty": (lambda v: _text(""), "is not valid JSON"),
    "not UTF-8": (lambda v: _text(f'{{"schema": {v}, "cpu": "\udcff"}}'), "is not valid JSON"),
    "nested too deep": (lambda v: _text("[" * 100_000), "is not valid JSON"),
    "not an object": (lambda v: _text(f'[{{"schema": {v}}}]'), "is not a JSON object"),
    "no schema": (lambda v: _text('{"rows": []}'), "has no schema version"),
    "the old key": (lambda v: _text(f'{{"schema_version": {v}}}'), "has no schema version"),
    "another schema": (lambda v: _text(f'{{"schema": {v + 1}}}'), "has schema version"),
    "schema as text": (lambda v: _text(f'{{"schema": "{v}"}}'), "has schema version"),
    "schema as a float": (lambda v: _text(f'{{"schema": {v}.0}}'), "has schema version"),
    "a folder": (lambda v: Path.mkdir, "is not a regular file"),
    "a FIFO": (lambda v: os.mkfifo, "is not a regular file"),
}


@pytest.mark.parametrize("damage", list(_UNUSABLE))
def test_an_unusable_bench_or_native_json_is_left_out_with_one_line(
    damage: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    spoil, why = _UNUSABLE[damage]
    for name in ("bench", "native"):
        spoil(_schema(name))(out / f"{name}.json")
    monkeypatch.setattr("reports.report._build.collect", lambda **kwargs: tiny_findings("new"))
    lines: list[str] = []
    findings = build_report(out, progress=lines.append)
    for name in ("bench", "native"):
        said = [line for line in lines if f"{name}.json" in line]
        assert len(said) == 1, f"expected one line about {name}.json, got {said}"
        assert said[0].startswith(f"{out / name}.json {why}"), said[0]
        assert said[0].endswith(f"the report goes on without it (`make {name}` writes a new one)")
        assert getattr(findings, name) is None
        assert (
            findings.left_out[name]
            == said[0].removeprefix(f"{out / name}.json ").split(": the report goes on")[0]
        )
    # The page says why each file was left out, where its section would be, and no more.
    assert report_in(out) == renders(
        dataclasses.replace(tiny_findings("new"), left_out=findings.left_out)
    )


def test_a_bench_and_native_json_of_this_schema_join_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    bench = {
        "schema": _schema("bench"),
        "date": "2026-11-25",
        "machine": {"cpu": "test cpu", "python": "3.11"},
        "operations": [],
        "targets": [],
    }
    native = {"schema": _schema("native"), "frames": 3, "cells": []}
    (out / "bench.json").write_text(json.dumps(bench))
    (out / "native.json").write_text(json.dumps(native))
    monkeypatch.setattr("reports.report._build.collect", lambda **kwargs: tiny_findings("new"))
    lines: list[str] = []
    findings = build_report(out, progress=lines.append)
    assert (findings.bench, findings.native) == (bench, native)
    assert not [line for line in lines if ".json " in line], "nothing to say about them"
    assert "test cpu" in (out / "index.html").read_text()
