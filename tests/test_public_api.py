"""Each package's `__all__` (sub-packages too) lists exactly its public names, and the
design's names exist."""

from __future__ import annotations

import importlib
import pkgutil
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


def _packages() -> list[str]:
    """Every package of the project, sub-packages included (not imported here: the report
    builder's need its extra)."""
    found = []
    for top in (refimpl, broken_variant, reports):
        found.append(top.__name__)
        for module in pkgutil.walk_packages(top.__path__, top.__name__ + "."):
            if module.ispkg:
                found.append(module.name)
    return found


def test_every_package_is_listed() -> None:
    assert {"refimpl.contract", "refimpl.support", "reports.lessons", "reports.native"} <= set(
        _packages()
    )


@pytest.mark.parametrize("name", _packages())
def test_all_lists_every_public_name_and_nothing_else(name: str) -> None:
    """Listed: every name the package defines or takes from its own modules (a name imported
    from elsewhere for its own use, `Any` say, is not its API); nothing listed is missing."""
    package = importlib.import_module(name)
    for listed in package.__all__:
        getattr(package, listed)
    public = {
        name
        for name, value in vars(package).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and _home(value, package.__name__)
    }
    assert sorted(public - set(package.__all__)) == []


def _home(value: object, package: str) -> bool:
    """Whether `value` belongs to `package` (is defined in it or one of its modules); a
    constant, which does not say where it was defined, does."""
    module = getattr(value, "__module__", None)
    if not isinstance(module, str) or isinstance(value, str | int | float | tuple | frozenset):
        return True
    return module == package or module.startswith(package + ".")


@pytest.mark.parametrize("package", [refimpl, broken_variant], ids=lambda p: p.__name__)
def test_design_names_are_importable(package: types.ModuleType) -> None:
    assert DESIGN_NAMES[package] <= set(package.__all__)


def test_the_commands_beside_the_builder_start_without_it() -> None:
    """`reports.survey` (imported again at each start of the contract's worker), `.native`
    and `.bench` need neither matplotlib nor Jinja2: `reports` itself imports nothing."""
    script = (
        "import sys, reports.survey, reports.native, reports.bench\n"
        "print(sorted({'matplotlib', 'jinja2'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
