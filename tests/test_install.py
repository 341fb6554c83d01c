"""What a user installs: the wheel built from this checkout, in a fresh virtual environment
outside it, running the contract on the stores of a user's package in another folder."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import venv
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONTRACT_NEEDS = {"hypothesis", "objgraph", "pytest"}
REPORT_ONLY = {"jinja2", "matplotlib", "numpy", "graphviz-pure", "rich", "nbformat"}
REPOSITORY_ONLY = {"reports", "broken_variant"}

USER_STORES = '''\
"""A user's own stores: one keeps its contexts, one keeps weak references only."""

import weakref


class GoodStore:
    def __init__(self):
        self._contexts = {}

    def set_plugin_data(self, name, data):
        self._contexts[name] = data

    def get_plugin_data(self, name):
        return self._contexts.get(name)

    def remove_plugin_data(self, name):
        self._contexts.pop(name, None)


class WeakStore:
    def __init__(self):
        self._refs = {}

    def set_plugin_data(self, name, data):
        self._refs[name] = weakref.ref(data)

    def get_plugin_data(self, name):
        ref = self._refs.get(name)
        return None if ref is None else ref()

    def remove_plugin_data(self, name):
        self._refs.pop(name, None)
'''

CHECK_STORE = """\
from hypothesis import settings
from refimpl.contract import ContractViolation, check_store
from userstores.stores import GoodStore, WeakStore

quick = settings(max_examples=30, derandomize=True, deadline=None, database=None)
check_store(GoodStore, settings=quick)
try:
    check_store(WeakStore, settings=quick)
except ContractViolation as violation:
    print("violation:", violation.property)
"""


def build_artifacts() -> dict[Path, int]:
    """What building in the checkout itself would leave there, with modification times (an
    existing `*.egg-info` from `make`'s editable install would be rewritten)."""
    found = [ROOT / "build", ROOT / "dist", *ROOT.glob("*.egg-info"), *ROOT.glob("*.whl")]
    found += [path for folder in ROOT.glob("*.egg-info") for path in folder.iterdir()]
    return {path: path.stat().st_mtime_ns for path in found if path.exists()}


def uv_pip_program() -> str:
    """The Makefile's `uv pip install` with pip's own indexes, find-links and constraints."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    match = re.search(r"^define UV_PIP_PROGRAM\n(.*?)^endef$", makefile, re.MULTILINE | re.DOTALL)
    assert match is not None, "the Makefile defines UV_PIP_PROGRAM"
    return match.group(1)


def install(python: Path, wheel: Path) -> None:
    """Install `wheel` and its dependencies into the environment of `python`: with uv from
    its cache alone first (what `make` set up is there, so no network is needed), then
    from the indexes; with pip where this environment has no uv."""
    if importlib.util.find_spec("uv") is not None:
        command = [sys.executable, "-c", uv_pip_program(), "--python", str(python)]
        offline = subprocess.run([*command, "--offline", str(wheel)], capture_output=True)
        if offline.returncode == 0:
            return
    else:
        command = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
    done = subprocess.run([*command, str(wheel)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (
        f"the wheel's dependencies ({', '.join(sorted(CONTRACT_NEEDS))}) could not be "
        "installed into a fresh virtual environment: they are neither in uv's cache nor "
        f"reachable on the package indexes (no network?):\n{done.stdout}{done.stderr}"
    )


@dataclass(frozen=True)
class UserVenv:
    wheel: Path
    python: Path
    site_packages: Path
    checkout_before: dict[Path, int]


@pytest.fixture(scope="module")
def user_venv(tmp_path_factory: pytest.TempPathFactory) -> UserVenv:
    """The wheel, built from a copy of the checkout (setuptools writes build/ and *.egg-info
    beside the sources) without build isolation, installed into a fresh venv."""
    checkout_before = build_artifacts()
    work = tmp_path_factory.mktemp("install")
    sources = work / "sources"
    caches = ("out", "__pycache__", "*.egg-info", "build", "dist", ".hypothesis", ".*_cache")
    shutil.copytree(
        ROOT, sources, ignore=shutil.ignore_patterns(".git", ".venv", *caches), symlinks=True
    )
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "--wheel-dir", str(work / "dist"), str(sources)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert built.returncode == 0, f"pip wheel failed:\n{built.stdout}{built.stderr}"
    (wheel,) = (work / "dist").glob("*.whl")
    venv.create(work / "venv", with_pip=False, symlinks=True)
    python = work / "venv" / "bin" / "python"
    install(python, wheel)
    site_packages = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    return UserVenv(wheel, python, Path(site_packages), checkout_before)


def user_environment() -> dict[str, str]:
    """This environment without what would choose a profile, a storage directory, an import
    path, pytest options or the venv for the user's commands."""
    hidden = {"PYTHONPATH", "PYTEST_ADDOPTS", "VIRTUAL_ENV", "PYTEST_XDIST_WORKER"}
    return {
        key: value
        for key, value in os.environ.items()
        if key not in hidden and not key.startswith("HYPOTHESIS_")
    }


def test_the_wheel_holds_refimpl_and_installs_only_the_contracts_dependencies(
    user_venv: UserVenv,
) -> None:
    names = zipfile.ZipFile(user_venv.wheel).namelist()
    assert {name.split("/")[0] for name in names} == {
        "refimpl",
        "plugin_context_ownership-0.1.0.dist-info",
    }
    assert "refimpl/contract/pytest_plugin.py" in names
    assert not [name for name in names if name.startswith("reports/lessons/")]

    # Every module the wheel ships imports here, where neither reports, broken_variant,
    # Jinja2 nor matplotlib exists; the pytest plugin is registered.
    survey = """\
import importlib, importlib.metadata as metadata, pkgutil, refimpl
for module in pkgutil.walk_packages(refimpl.__path__, "refimpl."):
    importlib.import_module(module.name)
print(" ".join(sorted(d.metadata["Name"].lower() for d in metadata.distributions())))
print(" ".join(f"{e.name}={e.value}" for e in metadata.entry_points(group="pytest11")))
"""
    done = subprocess.run(
        [user_venv.python, "-c", survey],
        cwd=user_venv.site_packages.parent, env=user_environment(),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    distributions, plugins = done.stdout.splitlines()
    installed = set(distributions.split())
    assert installed >= {*CONTRACT_NEEDS, "plugin-context-ownership"}
    assert not installed & REPORT_ONLY, f"the report builder's dependencies came too: {installed}"
    assert "ownership_contract=refimpl.contract.pytest_plugin" in plugins.split()
    top_level = {path.name for path in user_venv.site_packages.iterdir()}
    assert "refimpl" in top_level
    assert not top_level & REPOSITORY_ONLY, f"site-packages holds {top_level & REPOSITORY_ONLY}"
    assert build_artifacts() == user_venv.checkout_before, "the build wrote into the checkout"


def test_a_users_project_runs_the_contract_on_its_own_stores_from_its_own_folder(
    user_venv: UserVenv, tmp_path: Path
) -> None:
    project = tmp_path / "userproj"
    (project / "userstores").mkdir(parents=True)
    (project / "userstores" / "__init__.py").write_text("")
    (project / "userstores" / "stores.py").write_text(USER_STORES)
    env = user_environment()

    def pytest_store(factory: str) -> subprocess.CompletedProcess[str]:
        # The 'dev' profile (100 examples) on a fixed seed: 'ci' (500) takes 3 s longer.
        return subprocess.run(
            [user_venv.python, "-m", "pytest", "--store", f"userstores.stores:{factory}",
             "-p", "no:cacheprovider", "--hypothesis-profile", "dev", "--hypothesis-seed", "0"],
            cwd=project, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    good = pytest_store("GoodStore")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "1 passed" in good.stdout
    weak = pytest_store("WeakStore")
    assert weak.returncode == 1, weak.stdout + weak.stderr
    assert "survival" in weak.stdout

    checked = subprocess.run(
        [user_venv.python, "-c", CHECK_STORE],
        cwd=project, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout == "violation: survival\n", "quiet on GoodStore, survival on WeakStore"
    left = {path.name for path in project.iterdir()}
    assert left == {"userstores"}, f"the runs left {left - {'userstores'}} in the user's folder"
    assert build_artifacts() == user_venv.checkout_before, "the runs wrote into the checkout"
