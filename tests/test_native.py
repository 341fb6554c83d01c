"""The seed's own Nim hosts, compiled and run for real, checked against the simulation.

These tests need `nim` (Debian's package); `.ci/run` installs it. Without it,
conftest deselects them and says so in one line (`make native` exits 2).
"""

from __future__ import annotations

import pytest

from broken_variant import BrokenHost, UseAfterFree
from refimpl import Host
from refimpl.plugins import simple_counter
from reports.native import FRAMES, Cell, find_nim, run_cell

pytestmark = pytest.mark.native


@pytest.fixture(scope="module")
def nim() -> str:
    found = find_nim()
    assert found is not None, "conftest deselects these tests when nim is missing"
    return found


@pytest.fixture(scope="module")
def cells(nim: str) -> dict[str, Cell]:
    """The runs the tests read, each built once (make native runs all 16)."""
    runs = {
        "broken": ("broken", "orc", "nim", ()),
        "broken-asan": ("broken", "orc", "asan", ()),
        "broken-counter-only": ("broken", "orc", "nim", ("--no-log",)),
        "broken-counter-only-asan": ("broken", "orc", "asan", ("--no-log",)),
        "fixed": ("fixed", "orc", "nim", ()),
        "fixed-asan": ("fixed", "orc", "asan", ()),
        "fixed-reset": ("fixed", "arc", "nim", ("--reset-at=60",)),
    }
    return {
        name: run_cell(nim, host, mm, checker, args)
        for name, (host, mm, checker, args) in runs.items()
    }


def test_broken_orc_build_crashes_with_a_segfault(cells: dict[str, Cell]) -> None:
    crashed = cells["broken"]
    assert (crashed.signal, crashed.exit_status) == ("SIGSEGV", 139)
    assert crashed.frame_line is None


def test_asan_names_the_use_after_free_and_eqdestroy_in_the_freed_by_stack(
    cells: dict[str, Cell],
) -> None:
    report = cells["broken-asan"].report
    assert report is not None
    assert report.kind == "heap-use-after-free"
    assert "getContext" in report.access
    assert "eqdestroy" in report.freed, "freed by the destructor"
    assert "init" in report.freed, "at the end of the plugin's init"
    assert "setContext" in report.allocated


def test_fixed_host_is_clean_with_the_exact_frame_count(cells: dict[str, Cell]) -> None:
    for name in ("fixed", "fixed-asan"):
        assert cells[name].clean, cells[name]
        assert cells[name].frame_line == f"Frame: {FRAMES}"
    assert cells["fixed-reset"].frame_line == f"Frame: {FRAMES - 60 + 1}", "r at frame 60"


def test_the_weak_oracle_is_fooled_and_the_strong_one_is_not(cells: dict[str, Cell]) -> None:
    weak = cells["broken-counter-only"]  # the seed's check: does it run without a segfault?
    assert weak.exit_status == 0
    assert weak.frame_line == f"Frame: {FRAMES}", "the broken build looks right"
    strong = cells["broken-counter-only-asan"]  # exact frame line and AddressSanitizer
    assert strong.report is not None
    assert strong.report.kind == "heap-use-after-free"


def test_the_simulation_agrees_with_the_nim_run(cells: dict[str, Cell]) -> None:
    host = BrokenHost()
    host.register_plugin(simple_counter.make_plugin())
    with pytest.raises(UseAfterFree) as caught:
        host.run(frames=FRAMES)
    simulated = caught.value.report
    real = cells["broken-counter-only-asan"].report
    assert real is not None
    # Which plugin's context: the counter's, allocated by its init.
    assert "of plugin 'simple_counter'" in simulated.accessed
    assert "setContext" in real.allocated
    assert "init" in real.allocated
    # Freed where: at the end of init, when the context made there lost its last owner.
    assert simulated.freed[0].function == "init"
    assert "init" in real.freed
    # First bad access: the first fetch after init, in update.
    simulated_access = [frame.function for frame in simulated.access]
    assert "get_context" in simulated_access
    assert "update" in simulated_access
    assert "getContext" in real.access
    assert "update" in real.access
    # And both fixed hosts run clean to the same frame.
    fixed = Host()
    fixed.register_plugin(simple_counter.make_plugin())
    fixed.run(frames=FRAMES)
    assert fixed.screen_text() == cells["fixed"].frame_line


def test_a_wrong_type_fetch_is_a_defect_when_checked_and_silent_otherwise(nim: str) -> None:
    args = ("--wrong-type", "--no-log")
    checked = run_cell(nim, "fixed", "orc", "nim", args, ("-d:release",))
    assert checked.exit_status != 0
    assert checked.defect == "ObjectConversionDefect"  # Nim's ContextTypeError
    unchecked = run_cell(nim, "fixed", "orc", "nim", args, ("-d:danger",))
    assert unchecked.exit_status == 0, "-d:danger drops the check"
    assert "wrong-type: 0 lines" in unchecked.stdout, "a counter read as a log, silently"
    cast = run_cell(nim, "broken", "orc", "nim", args, ("-d:release",))
    assert cast.defect is None
    assert "wrong-type:" in cast.stdout, "the broken host's cast reinterprets memory silently"
