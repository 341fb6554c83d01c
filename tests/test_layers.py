"""The three floors hold: imports flow down only (refimpl, then broken_variant, then
reports; inside reports, reports.output at the bottom and reports.report at the top), no
two packages import each other round a cycle, nobody imports another package's private
`_module`, and project modules are imported at module level, where a reader sees them.

The checker reads the source (`ast`), never imports it. Each rule is proved to fire on a
small planted tree before the real one is held to it.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FLOORS = ("refimpl", "broken_variant", "reports")
"""The project's packages, bottom floor first: each may import only those before it."""
REPORT = "reports.report"
"""The top of reports: it shows all the others, so none of them may import it."""
REPORT_COMMAND = "reports.__main__"
"""`python -m reports`, the command that runs the report builder: above it, so allowed."""
OUTPUT = "reports.output"
"""The bottom of reports: atomic writes and provenance, importing no other part of reports."""

UPWARD = "upward import"
CYCLE = "import cycle"
PRIVATE = "private module of another package"
NESTED = "function-level import"


@dataclass(frozen=True)
class Violation:
    """One broken rule, at the import that breaks it."""

    file: str
    line: int
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.rule}: {self.detail}"


@dataclass(frozen=True)
class Import:
    """A project module named by an import statement, and where."""

    importer: str
    target: str
    file: str
    line: int
    nested: bool
    type_only: bool


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    is_package: bool

    @property
    def package(self) -> str:
        """The package the module belongs to (itself, for an `__init__`)."""
        return self.name if self.is_package else self.name.rpartition(".")[0]


def modules(root: Path) -> dict[str, Module]:
    """Every module of the project's packages under `root`, by dotted name."""
    found: dict[str, Module] = {}
    for top in FLOORS:
        for path in sorted((root / top).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            name = ".".join(parts)
            found[name] = Module(name, path, is_package)
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(
    children: Iterable[ast.AST], nested: bool = False, type_only: bool = False
) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool, bool]]:
    """Each import statement among `children` and below, whether it runs inside a function
    or class body, and whether it is for the type checker only (`if TYPE_CHECKING:`)."""
    for child in children:
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child, nested, type_only
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            yield from _import_nodes(child.body, nested, True)
            yield from _import_nodes(child.orelse, nested, type_only)
        else:
            inner = nested or isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda
            )
            yield from _import_nodes(ast.iter_child_nodes(child), inner, type_only)


def imports(module: Module, known: dict[str, Module], root: Path) -> list[Import]:
    """The project modules `module` imports. `from package import name` names the module
    `package.name` too when there is one; a relative import is resolved."""
    tree = ast.parse(module.path.read_text(encoding="utf-8"), str(module.path))
    file = module.path.relative_to(root).as_posix()
    found = []
    for node, nested, type_only in _import_nodes(tree.body):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = module.package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            named = [f"{base}.{alias.name}" for alias in node.names]
            targets = [name for name in named if name in known]
            if len(targets) < len(named):  # some names are the package's own attributes
                targets.insert(0, base)
        for target in targets:
            if target.split(".")[0] in FLOORS:
                found.append(Import(module.name, target, file, node.lineno, nested, type_only))
    return found


def unit(name: str, known: dict[str, Module]) -> str:
    """The package or sub-package a module belongs to: the node of the package graph. A
    `__main__` is a node of its own: the command above its package, which nothing imports."""
    if name.endswith(".__main__"):
        return name
    if name in known:
        return known[name].package
    parent = name.rpartition(".")[0]
    return parent if parent in known and known[parent].is_package else name


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _upward(found: Import) -> str | None:
    importer, target = found.importer, found.target
    floor_of = {top: number for number, top in enumerate(FLOORS)}
    below, above = floor_of[importer.split(".")[0]], floor_of[target.split(".")[0]]
    if above > below:
        return f"{importer} (floor {FLOORS[below]}) imports {target} (floor {FLOORS[above]})"
    if _within(target, REPORT) and not (_within(importer, REPORT) or importer == REPORT_COMMAND):
        return f"{importer} imports {target}: only {REPORT} (and `python -m reports`) may"
    if _within(importer, OUTPUT) and _within(target, "reports") and not _within(target, OUTPUT):
        return f"{importer} imports {target}: {OUTPUT} is the bottom of reports"
    return None


def _private(found: Import, known: dict[str, Module]) -> str | None:
    """A `_name` component of the target (dunders aside) is private to the package that
    holds it: only that package and what lies inside it may import it."""
    parts = found.target.split(".")
    own = known[found.importer].package
    for depth, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            owner = ".".join(parts[:depth])
            if not _within(own, owner):
                return f"{found.importer} imports {found.target}, private to {owner}"
    return None


def _visit(
    node: str, edges: dict[str, dict[str, Import]], path: list[str], seen: set[str]
) -> Iterator[list[str]]:
    """Depth first from `node`, `path` the packages on the way to it: each edge back to
    one of them closes a cycle."""
    seen.add(node)
    path.append(node)
    for after in sorted(edges.get(node, {})):
        if after in path:
            yield [*path[path.index(after) :], after]
        elif after not in seen:
            yield from _visit(after, edges, path, seen)
    path.pop()


def _cycles(edges: dict[str, dict[str, Import]]) -> list[list[str]]:
    """One cycle (a path back to its start) through each back edge of a depth-first
    search of the package graph; [] when the graph has none."""
    seen: set[str] = set()
    cycles: list[list[str]] = []
    for start in sorted(edges):
        if start not in seen:
            cycles.extend(_visit(start, edges, [], seen))
    return cycles


def check_tree(root: Path) -> list[Violation]:
    """Every layering rule broken by the project's packages under `root`, each at the
    file and line of the import that breaks it; [] for a tree that keeps them all."""
    known = modules(root)
    violations: list[Violation] = []
    edges: dict[str, dict[str, Import]] = {}
    for module in known.values():
        for found in imports(module, known, root):
            where = (found.file, found.line)
            nested = found.nested and not found.type_only
            for rule, detail in (
                (UPWARD, _upward(found)),
                (PRIVATE, _private(found, known)),
                (NESTED, f"{found.target} imported inside a function" if nested else None),
            ):
                if detail is not None:
                    violations.append(Violation(*where, rule, detail))
            start, end = unit(found.importer, known), unit(found.target, known)
            if start != end and not found.type_only:  # a type-only import runs nothing
                edges.setdefault(start, {}).setdefault(end, found)
    for cycle in _cycles(edges):
        first = edges[cycle[0]][cycle[1]]
        steps = "; ".join(
            f"{a} -> {b} at {edges[a][b].file}:{edges[a][b].line}"
            for a, b in itertools.pairwise(cycle)
        )
        violations.append(
            Violation(first.file, first.line, CYCLE, " -> ".join(cycle) + f" ({steps})")
        )
    return violations


def test_the_project_keeps_its_floors() -> None:
    violations = check_tree(ROOT)
    assert not violations, "layering rules broken:\n" + "\n".join(map(str, violations))


def plant(root: Path, files: dict[str, str]) -> Path:
    """A tree of the project's three packages, each an empty `__init__`, plus `files`."""
    for top in FLOORS:
        (root / top).mkdir()
        (root / top / "__init__.py").write_text("")
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        for folder in path.relative_to(root).parents:
            if folder != Path(".") and not (root / folder / "__init__.py").exists():
                (root / folder / "__init__.py").write_text("")
        path.write_text(source)
    return root


CLEAN = {
    "refimpl/_store.py": "import refimpl._names\n",
    "refimpl/_names.py": "",
    "refimpl/contract/_check.py": "from refimpl.contract import _machine\nimport refimpl._names\n",
    "refimpl/contract/_machine.py": "import refimpl.support.run\n",
    "refimpl/support/run.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
    "    from refimpl.contract import Violation\n",  # type-only: runs nothing, so no cycle
    "broken_variant/_host.py": "from refimpl import ContextStore\nfrom . import _heap\n",
    "broken_variant/_heap.py": "",
    "reports/output/files.py": "import os\n",
    "reports/survey/__init__.py": "from reports.output import files\nimport refimpl.contract\n",
    "reports/report/_build.py": "from reports.report import _render\nimport reports.survey\n",
    "reports/report/_render.py": "",
    "reports/__main__.py": "from reports.report import build\n",
}


def test_a_tree_that_keeps_every_rule_is_reported_clean(tmp_path: Path) -> None:
    assert check_tree(plant(tmp_path, CLEAN)) == []


@pytest.mark.parametrize(
    ("file", "source", "words"),
    [
        ("refimpl/_store.py", "import broken_variant\n", "floor broken_variant"),
        ("refimpl/support/run.py", "\nfrom reports import catalogue\n", "floor reports"),
        ("broken_variant/_host.py", "from reports.output import files\n", "floor reports"),
        ("reports/survey/__init__.py", "import reports.report\n", "only reports.report"),
        ("reports/output/files.py", "from reports import survey\n", "bottom of reports"),
        ("refimpl/_names.py", "if TYPE_CHECKING:\n    import reports\n", "floor reports"),
    ],
    ids=[
        "refimpl-broken",
        "refimpl-reports",
        "broken-reports",
        "survey-report",
        "output-survey",
        "type-only",
    ],
)
def test_an_upward_import_is_reported_at_its_line(
    tmp_path: Path, file: str, source: str, words: str
) -> None:
    violations = check_tree(plant(tmp_path, {**CLEAN, file: source}))
    upward = [v for v in violations if v.rule == UPWARD]
    assert len(upward) == 1, violations
    assert (upward[0].file, upward[0].line) == (file, source.count("\n"))
    assert words in upward[0].detail
    assert str(upward[0]).startswith(f"{file}:{upward[0].line}: upward import: ")


def test_a_cycle_between_sub_packages_is_reported_with_each_import(tmp_path: Path) -> None:
    planted = {
        **CLEAN,
        "reports/lessons/__init__.py": "import reports.native\n",
        "reports/native/__init__.py": "\nfrom reports.lessons import leak\n",
        "reports/lessons/leak.py": "",
    }
    violations = check_tree(plant(tmp_path, planted))
    assert [v.rule for v in violations] == [CYCLE], violations
    detail = violations[0].detail
    assert detail.startswith("reports.lessons -> reports.native -> reports.lessons")
    assert "reports/lessons/__init__.py:1" in detail
    assert "reports/native/__init__.py:2" in detail


@pytest.mark.parametrize(
    ("file", "source"),
    [
        ("reports/survey/__init__.py", "from reports.report._findings import Finding\n"),
        ("reports/survey/__init__.py", "from reports.report import _findings\n"),
        ("broken_variant/_host.py", "from refimpl._context import context_class\n"),
        ("refimpl/plugins/log.py", "import refimpl.contract._machine\n"),
    ],
    ids=["from-module", "from-package", "broken-refimpl", "sibling-package"],
)
def test_an_import_of_another_packages_private_module_is_reported(
    tmp_path: Path, file: str, source: str
) -> None:
    planted = {**CLEAN, file: source, "reports/report/_findings.py": "", "refimpl/_context.py": ""}
    violations = check_tree(plant(tmp_path, planted))
    private = [v for v in violations if v.rule == PRIVATE]
    assert [(v.file, v.line) for v in private] == [(file, 1)], violations
    assert str(private[0]).startswith(f"{file}:1: private module of another package: ")


def test_a_function_level_import_of_a_project_module_is_reported(tmp_path: Path) -> None:
    source = (
        "import json\n\n"
        "def build() -> None:\n"
        "    import json as again\n"
        "    from reports.report import _render\n"
    )
    violations = check_tree(plant(tmp_path, {**CLEAN, "reports/report/_build.py": source}))
    assert [str(v) for v in violations] == [
        "reports/report/_build.py:5: function-level import: "
        "reports.report._render imported inside a function"
    ]
