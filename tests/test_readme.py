"""The README tells the truth about the mutant catalogue (how many, which, and caught by what)
and about the survey (which registries, what their docs imply, which versions)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from broken_variant.mutants import MUTANTS
from reports.survey import REGISTRIES

README = Path(__file__).resolve().parent.parent / "README.md"
PYPROJECT = README.with_name("pyproject.toml")
NUMBER_WORDS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen", "twenty",
)  # fmt: skip


def readme_section(title: str) -> str:
    """The README's text under the heading `title`, up to the next heading."""
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"^#+ {re.escape(title)}\n(.*?)(?=^#)", text, re.MULTILINE | re.DOTALL)
    assert match is not None, f"README.md has no section {title!r}"
    return match.group(1)


def mutant_rows() -> list[list[str]]:
    """The cells of each row of the README's mutant table (header and rule left out)."""
    section = readme_section("The mutant catalogue")
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    table = [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows]
    return [cells for cells in table if cells[0].strip("`") not in ("ContextStore", "PluginAPI")]


def test_the_readme_counts_the_mutants_in_the_catalogue() -> None:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"`broken_variant\.mutants`: (\w+) stores and APIs", text)
    assert match is not None, "README.md no longer says how many mutants there are"
    said = match.group(1)
    count = int(said) if said.isdigit() else NUMBER_WORDS.index(said.lower())
    assert count == len(MUTANTS), f"README.md says {said}, the catalogue has {len(MUTANTS)}"


def test_the_readme_table_lists_every_mutant_with_its_bug_and_property() -> None:
    rows = mutant_rows()
    assert [cells[0].strip("`") for cells in rows] == [mutant.name for mutant in MUTANTS]
    for cells, mutant in zip(rows, MUTANTS, strict=True):
        assert cells[1] == mutant.bug, f"README.md describes {mutant.name!r} otherwise"
        assert cells[2] == mutant.catches, f"README.md says another property caught {mutant.name!r}"


def survey_rows() -> list[tuple[set[str], str]]:
    """Each row of the README's survey table: the libraries it names, and the verdict
    their documentation implies (the first word of that column)."""
    section = readme_section("The survey: real registries, beside their docs")
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    table = [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows[1:]]
    return [
        ({pair.rsplit(" ", 1)[0] for pair in cells[1].split(", ")}, cells[2].split()[0])
        for cells in table
    ]


def test_the_readme_survey_table_says_what_the_survey_runs() -> None:
    """The count, each registry's documented verdict and each library's version are those
    of `reports/survey/` and the pinned `survey` extra, so a registry added or re-pinned
    without the table re-measured shows here."""
    section = readme_section("The survey: real registries, beside their docs")
    assert f"runs the contract on {len(REGISTRIES)} registries" in " ".join(section.split())
    rows = survey_rows()
    registries = {(registry.library, registry.documented) for registry in REGISTRIES}
    shown = {(library, said) for libraries, said in rows for library in libraries}
    assert shown == registries
    pins = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]["survey"]
    pinned = {pin.split("==")[0].lower(): pin.split("==")[1] for pin in pins}
    shown_versions = {
        (name.lower(), version)
        for name, version in re.findall(r"(?<=[|,] )([\w.-]+) (\d[\w.]*)", section)
        if name != "stdlib"
    }
    assert shown_versions == set(pinned.items())
