"""Each lesson as a Jupyter notebook (`python -m reports.lessons --notebooks [--out DIR]`,
`make notebooks`): prose as Markdown cells, and code cells a student runs in order: the broken
half, the fixed half, the few lines without the harness (a library's lesson), the
contract's run, and the verdict, whose output names the property the lesson claims.

Notebooks are written atomically into a folder this command never empties
(`reports.output`), and a notebook is replaced only when this command wrote it and its
cells are as written: a file of that name that it did not write, or that a student has
edited, stops the command before it writes anything.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import re
import textwrap
import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from reports.lessons._lesson import Lesson, Outcome
from reports.lessons._render import fence
from reports.lessons._walkthrough import FULL_FLAG, PROG, describe_runs
from reports.output import DEFAULT_OUT, write_texts_atomically

__all__ = [
    "DEFAULT_FOLDER",
    "MARK",
    "NotOurs",
    "notebook",
    "notebook_name",
    "notebooks_to_write",
]

DEFAULT_FOLDER = DEFAULT_OUT / "notebooks"
"""Where `make notebooks` writes (git ignores reports/out/)."""
MARK = "reports.lessons"
"""The notebook metadata key under which a notebook says which lesson it is and a digest
of its cells' sources as written: how this command knows a file is its own, unedited."""


class NotOurs(ValueError):
    """Files that notebooks would replace, which this command did not write or which have
    been edited since: `.problems` holds one line for each, naming it (the message joins
    them)."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


def notebook_name(number: int, lesson: Lesson) -> str:
    """`01-untracked-pointer.ipynb`: the lesson's place in the walkthrough, and its name."""
    return f"{number:02d}-{lesson.name}.ipynb"


def notebook(number: int, lesson: Lesson) -> nbformat.NotebookNode:
    """Lesson `number` as a notebook (nbformat 4), valid by `nbformat.validate`."""
    cells = [
        new_markdown_cell(_introduction(number, lesson)),
        new_code_cell(_setup(lesson)),
        *_half(lesson, "broken", lesson.run_broken),
        *_half(lesson, "fixed", lesson.run_fixed),
        *_reproduction(lesson),
        *_contract(lesson),
        new_markdown_cell("## The verdict\n\nWhat this notebook showed, in plain words."),
        new_code_cell(_verdict(lesson)),
    ]
    book = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
            MARK: {"lesson": lesson.name, "sources": _digest(cells)},
        },
    )
    nbformat.validate(book)
    return cast(nbformat.NotebookNode, book)


def notebooks_to_write(folder: Path, lessons: Sequence[tuple[int, Lesson]]) -> dict[str, str]:
    """The notebooks of `lessons` (each with its number) as `{file name: JSON}`, once it is
    sure that each may be written into `folder`: a file of that name is missing, or is a
    notebook this command wrote whose cells are as it wrote them. Raises `NotOurs`
    naming every one that is not."""
    texts = {}
    problems = []
    for number, lesson in lessons:
        name = notebook_name(number, lesson)
        problem = _why_not_ours(folder / name)
        if problem is not None:
            problems.append(problem)
        texts[name] = nbformat.writes(notebook(number, lesson)) + "\n"
    if problems:
        raise NotOurs(problems)
    return texts


def write_notebooks(folder: Path, lessons: Sequence[tuple[int, Lesson]]) -> list[Path]:
    """Write the notebooks of `lessons` into `folder` as one unit (see
    `notebooks_to_write` for what stops it first); return their paths."""
    texts = notebooks_to_write(folder, lessons)
    write_texts_atomically(folder, texts)
    return [folder / name for name in texts]


def _why_not_ours(path: Path) -> str | None:
    """None when `path` is missing or a notebook this command wrote, unedited; otherwise
    one line naming it and why it may not be replaced."""
    if not path.exists() and not path.is_symlink():
        return None
    try:
        book = json.loads(path.read_text(encoding="utf-8"))
        mark = book["metadata"][MARK]
        cells = book["cells"]
        sources = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                   for c in cells]  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError):
        return f"{str(path)!r} was not written by {PROG} --notebooks"
    if not isinstance(mark, dict) or mark.get("sources") != _digest_of(sources):
        return f"{str(path)!r} has been edited since {PROG} --notebooks wrote it"
    return None


def _digest(cells: Sequence[Any]) -> str:
    return _digest_of([cell["source"] for cell in cells])


def _digest_of(sources: Sequence[str]) -> str:
    return hashlib.sha256(json.dumps(list(sources)).encode("utf-8")).hexdigest()


def _introduction(number: int, lesson: Lesson) -> str:
    parts = [f"# {number}. {lesson.title}", "", lesson.pitfall, ""]
    if lesson.nim:
        parts += ["In the Nim seed:", "", fence(lesson.nim, "nim"), ""]
    if lesson.python:
        parts += ["Its Python equivalent here:", "", fence(lesson.python, "python"), ""]
    parts += [
        "Run the cells in order. They need this project's Python, which `make` sets up "
        "(`.venv/bin/python`, with the project on its path): open the notebook with that "
        "Python as its kernel, or run it headless with `.venv/bin/jupyter-execute`.",
    ]
    return "\n".join(parts)


def _setup(lesson: Lesson) -> str:
    return "\n".join(
        [
            "from reports.lessons import lesson_named",
            "",
            f"lesson = lesson_named({lesson.name!r})",
            "missing = lesson.missing()  # why the lesson cannot run here, or None",
            'print(missing or "every cell below runs live")',
        ]
    )


def _half(lesson: Lesson, which: str, half: Callable[[], Outcome]) -> list[Any]:
    shown = lesson.source(which)
    if which == "broken":
        said = f"It runs {describe_runs(lesson.broken_code)}:\n\n{fence(shown, 'python')}"
    elif shown == lesson.source("broken"):
        said = "The same code as the broken half, run as the fix runs it."
    elif shown == lesson.source("fixed", full=True):
        said = f"What fixes it:\n\n{fence(shown, 'python')}"
    else:
        whole = f"`{PROG} {FULL_FLAG} {lesson.name}`"
        said = f"Only the lines that fix it (all of it: {whole}):\n\n{fence(shown, 'python')}"
    text = (
        f"## The {which} half\n\n{said}\n\nThe cell below is the lesson's own {which} half: run it."
    )
    name = f"{which}_outcome"
    run = [
        f"{name} = lesson.attempt({half.__name__})",
        f"print({name}.summary)",
        f"if {name}.output:",
        f"    print({name}.output)",
    ]
    return [new_markdown_cell(text), new_code_cell(_runnable(half, run))]


def _reproduction(lesson: Lesson) -> list[Any]:
    function = lesson.reproduction
    if function is None:
        return []
    library = lesson.library.distribution if lesson.library else "the library"
    text = (
        f"## Without the harness\n\nThe bug in {library} alone, in a few lines: no store, no "
        "contract."
    )
    run = [
        f"print({function.__name__}() if missing is None else f'not run: {{missing}}')",
    ]
    return [new_markdown_cell(text), new_code_cell(_runnable(function, run))]


def _contract(lesson: Lesson) -> list[Any]:
    check = lesson.contract
    if check is None:
        return [
            new_markdown_cell(
                "## The contract\n\nNo store or API of this lesson runs under the contract: "
                "the bug is elsewhere."
            )
        ]
    runner = "check_api" if check.api else "check_store"
    module, name = _home(check.factory)
    code = "\n".join(
        [
            f"from refimpl.contract import ContractViolation, {runner}",
            f"from {module} import {name}",
            "from reports.lessons import contract_settings, explain_story",
            "",
            "found, steps = None, ()",
            "if missing is None:",
            "    try:",
            f"        {runner}({name}, settings=contract_settings())",
            "    except ContractViolation as violation:",
            "        found, steps = violation.property, violation.steps",
            "print(explain_story(steps, caught=found))",
            'print(f"the contract catches it with: {found}")',
        ]
    )
    text = (
        f"## What the contract says\n\nThe contract (`{runner}`) runs random stories of "
        f"steps on `{name}` and shrinks the first that breaks a property to the shortest. "
        f"The lesson claims it catches the bug with `{check.catches}`. The cell prints the "
        "story (runnable: paste it into Python to replay it) and what its words mean."
    )
    return [new_markdown_cell(text), new_code_cell(code)]


def _verdict(lesson: Lesson) -> str:
    lines = ["from reports.lessons import LessonRun", ""]
    if lesson.contract is None:
        lines.append("found, steps = None, ()  # no contract run in this lesson")
    lines += [
        "run = LessonRun(lesson, broken_outcome, fixed_outcome, found, steps, not_run=missing)",
        'print(f"{lesson.name}: {run.verdict}")',
    ]
    return "\n".join(lines)


def _globals_used(function: Callable[..., Any]) -> dict[str, Any]:
    """The module-level names `function` uses, in its body (comprehensions and nested
    functions included) and in its annotations (strings, under `from __future__ import
    annotations`), with their values."""
    names: set[str] = set()
    codes = [function.__code__]
    while codes:
        code = codes.pop()
        names.update(code.co_names)
        codes += [const for const in code.co_consts if isinstance(const, types.CodeType)]
    for annotation in function.__annotations__.values():
        names.update(_IDENTIFIER.findall(str(annotation)))
    found = function.__globals__
    return {name: found[name] for name in names if name in found}


_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")


def _runnable(function: Callable[..., Any], run: Sequence[str]) -> str:
    """The imports `function` needs, its own source, and `run`."""
    names = _globals_used(function)
    by_module: dict[str, list[str]] = {}
    plain: list[str] = []
    for name, value in sorted(names.items()):
        if isinstance(value, types.ModuleType):
            plain.append(_module_import(name, value))
            continue
        module, home = _home(value) if _named(value, name) else (function.__module__, name)
        by_module.setdefault(module, []).append(home)
    imports = sorted(plain) + [
        f"from {module} import {', '.join(sorted(set(found)))}"
        for module, found in sorted(by_module.items())
    ]
    source = textwrap.dedent(inspect.getsource(function))
    return "\n".join([*imports, "", "", source.rstrip(), "", "", *run])


def _named(value: object, name: str) -> bool:
    return getattr(value, "__name__", None) == name and hasattr(value, "__module__")


def _module_import(name: str, module: types.ModuleType) -> str:
    full = module.__name__
    if full == name:
        return f"import {name}"
    parent, _, leaf = full.rpartition(".")
    return f"from {parent} import {leaf}" if leaf == name else f"import {full} as {name}"


def _home(value: Any) -> tuple[str, str]:
    """The shortest module path that gives `value` under its name (a package's public
    re-export before its private module)."""
    module, name = value.__module__, value.__name__
    parts = module.split(".")
    for depth in range(1, len(parts) + 1):
        candidate = ".".join(parts[:depth])
        try:
            if getattr(importlib.import_module(candidate), name, None) is value:
                return candidate, name
        except ImportError:
            continue
    return module, name
