"""Small findings for the report writer's tests: built by hand in microseconds, so that a
test can write hundreds of reports without running the contract (`collect` takes ~30 s)."""

from __future__ import annotations

from pathlib import Path

from reports.report import FILES, RENDERERS, Findings
from reports.report._model import Environment, Implementation, LessonResult, Violation

__all__ = ["catalogue_findings", "renders", "report_in", "tiny_findings"]

SANITIZER = """=================================================================
==ERROR: SimulatedHeap: heap-use-after-free on address 0xADDR1
SUMMARY: SimulatedHeap: heap-use-after-free broken_variant/_store.py:44 in get_plugin_data"""


def tiny_findings(label: str, *, ok: bool = True) -> Findings:
    """A report with one fixed store and one mutant, told apart from others by `label`
    (it is the report's command line, shown in every file). `ok=False`: the mutant escaped."""
    from refimpl.contract import PROPERTIES

    environment = Environment(
        python="CPython 3.11",
        platform="Linux x86_64",
        packages={"hypothesis": "test"},
        hypothesis={"max_examples": 1, "derandomize": True, "seed": "derived"},
        command=f"python -m reports --label {label}",
    )
    held = dict.fromkeys(PROPERTIES, "held")
    fixed = Implementation(
        f"fixed-{label}", "fixed", "store", "refimpl:ContextStore", "none", None,
        held, None, 1, None, 0.1, None,
    )  # fmt: skip
    violation = Violation("survival", ("state.store(name='a')",), "dead", None, None)
    caught = {**dict.fromkeys(PROPERTIES, "not-judged"), "survival": "violated"}
    mutant = Implementation(
        f"mutant-{label}", "mutant", "store", "m:f", "weak", "survival",
        caught if ok else held, violation if ok else None, 1, 1 if ok else None, 0.1,
        0.1 if ok else None,
    )  # fmt: skip
    return Findings(environment, PROPERTIES, [fixed, mutant])


def catalogue_findings(*, escaped: bool = False) -> Findings:
    """A report as `make report` makes one, built by hand: the two fixed implementations,
    every mutant of the catalogue caught by the property it declares (or, `escaped=True`,
    none caught: a problem per mutant), each with a story of three steps, and every lesson
    shown; the diagnosis of each names its mutant."""
    from broken_variant.mutants import MUTANTS
    from refimpl.contract import PROPERTIES
    from reports.lessons import LESSONS

    def cells(broken: str | None, target: str) -> dict[str, str]:
        at = len(PROPERTIES) if broken is None else PROPERTIES.index(broken)
        judged = {
            prop: "held" if index < at else "violated" if index == at else "not-judged"
            for index, prop in enumerate(PROPERTIES)
        }
        return judged | ({"checked-downcast": "not-applicable"} if target == "store" else {})

    steps = ("state = replay('m:f')", "state.store(name='a')", "state.drop_refs()")
    rows = [
        Implementation(name, "fixed", target, f"refimpl:{name}", "the fix", None,
                       cells(None, target), None, 500, None, 4.5, None)
        for name, target in (("ContextStore", "store"), ("PluginAPI", "api"))
    ]  # fmt: skip
    for mutant in MUTANTS:
        detail = f"\nThe context of {mutant.name} broke {mutant.catches}.\n{SANITIZER}\n"
        caught = None if escaped else Violation(
            mutant.catches, steps, detail, SANITIZER, None
        )  # fmt: skip
        rows.append(Implementation(
            mutant.name, "mutant", mutant.kind, "m:f", mutant.bug, mutant.catches,
            cells(None if escaped else mutant.catches, mutant.kind), caught, 120,
            None if escaped else 7, 2.5, None if escaped else 0.4,
        ))  # fmt: skip
    lessons = [
        LessonResult(lesson.name, lesson.title, lesson.pitfall, True, "it crashed", "it ran",
                     None, "...", "...", seconds=1.0)
        for lesson in LESSONS
    ]  # fmt: skip
    environment = Environment(
        "CPython 3.11.7", "Linux x86_64", {"hypothesis": "6.170.27"},
        {"max_examples": 500, "derandomize": True, "seed": "derived (derandomize=True)",
         "profile": "ci"},
        "HYPOTHESIS_PROFILE=ci python -m reports", commit="0123456789abcdef" * 2 + "01234567",
        dirty=False,
    )  # fmt: skip
    return Findings(environment, PROPERTIES, rows, lessons=lessons, date="2026-12-07")


def renders(findings: Findings) -> dict[str, bytes]:
    """The files `write_report` writes for `findings` (`FILES`), by name, as bytes on disk."""
    return {name: render(findings).encode("utf-8") for name, render in RENDERERS.items()}


def report_in(folder: Path) -> dict[str, bytes]:
    """The report files in `folder`, by name, as bytes (compare with `renders`); the
    folder itself must still be there."""
    assert folder.is_dir(), f"{folder} is gone: the previous report with it"
    return {name: (folder / name).read_bytes() for name in FILES if (folder / name).exists()}
