"""Each package's `__all__` lists exactly its public names, and the design's names exist."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

import broken_variant
import refimpl
import reports

DESIGN_NAMES = {
    refimpl: {
        "PluginContextBase", "PluginContext", "ContextTypeError", "ContextStore", "PluginAPI",
        "get_context", "set_context", "PluginModule", "KeyEvent", "Host",
    },
    broken_variant: {
        "SimulatedHeap", "UntrackedStore", "MemorySafetyViolation", "UseAfterFree", "DoubleFree",
    },
}  # fmt: skip


@pytest.mark.parametrize("package", [refimpl, broken_variant, reports], ids=lambda p: p.__name__)
def test_all_lists_every_public_name_and_nothing_else(package: types.ModuleType) -> None:
    for name in package.__all__:  # a package that imports its names on first use (reports)
        getattr(package, name)
    public = {
        name
        for name, value in vars(package).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert sorted(package.__all__) == sorted(public)


@pytest.mark.parametrize("package", [refimpl, broken_variant], ids=lambda p: p.__name__)
def test_design_names_are_importable(package: types.ModuleType) -> None:
    assert DESIGN_NAMES[package] <= set(package.__all__)


def test_the_commands_beside_the_builder_start_without_it() -> None:
    """`reports.survey` (imported again at each start of the contract's worker), `.native`
    and `.bench` need neither matplotlib nor Jinja2: `reports` imports its names on use."""
    script = (
        "import sys, reports.survey, reports.native, reports.bench\n"
        "print(sorted({'matplotlib', 'jinja2'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
