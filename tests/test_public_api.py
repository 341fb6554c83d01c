"""Each package's `__all__` lists exactly its public names, and the design's names exist."""

from __future__ import annotations

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
    public = {
        name
        for name, value in vars(package).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert sorted(package.__all__) == sorted(public)


@pytest.mark.parametrize("package", [refimpl, broken_variant], ids=lambda p: p.__name__)
def test_design_names_are_importable(package: types.ModuleType) -> None:
    assert DESIGN_NAMES[package] <= set(package.__all__)
