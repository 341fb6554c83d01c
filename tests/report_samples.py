"""Small findings for the report writer's tests: built by hand in microseconds, so that a
test can write hundreds of reports without running the contract (`collect` takes ~30 s)."""

from __future__ import annotations

from pathlib import Path

from reports.report import FILES, Findings, render_html, render_json, render_junit, render_markdown
from reports.report._model import Environment, Implementation, Violation

__all__ = ["renders", "report_in", "tiny_findings"]


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


def renders(findings: Findings) -> dict[str, bytes]:
    """The four files `write_report` writes for `findings`, by name, as bytes on disk."""
    texts = (render_html, render_markdown, render_json, render_junit)
    return {
        name: render(findings).encode("utf-8") for name, render in zip(FILES, texts, strict=True)
    }


def report_in(folder: Path) -> dict[str, bytes]:
    """The report files in `folder`, by name, as bytes (compare with `renders`); the
    folder itself must still be there."""
    assert folder.is_dir(), f"{folder} is gone: the previous report with it"
    return {name: (folder / name).read_bytes() for name in FILES if (folder / name).exists()}
