"""The README tells the truth about the mutant catalogue (how many) and the survey (how many
registries), its commands exist, and the measurements it links (reports/MEASUREMENTS.md)
list every mutant with its bug and property, and every registry with its documented
verdict and pinned version."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from broken_variant.mutants import MUTANTS
from reports.output.measured import read, record
from reports.survey import REGISTRIES, Outcome, table

README = Path(__file__).resolve().parent.parent / "README.md"
PYPROJECT = README.with_name("pyproject.toml")
MAKEFILE = README.with_name("Makefile")
MEASUREMENTS = README.parent / "reports" / "MEASUREMENTS.md"
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


def measured(section: str) -> str:
    """The body of `section` in reports/MEASUREMENTS.md."""
    body = read(section, document=MEASUREMENTS)
    assert body is not None, f"reports/MEASUREMENTS.md has no section {section!r}"
    return body


def mutant_rows() -> list[list[str]]:
    """The cells of each row of the measured mutant table (header and rule left out)."""
    section = measured("catalogue")
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


def test_the_measured_table_lists_every_mutant_with_its_bug_and_property() -> None:
    rows = mutant_rows()
    assert [cells[0].strip("`") for cells in rows] == [mutant.name for mutant in MUTANTS]
    for cells, mutant in zip(rows, MUTANTS, strict=True):
        assert cells[1] == mutant.bug, f"MEASUREMENTS.md describes {mutant.name!r} otherwise"
        assert cells[2] == mutant.catches, (
            f"MEASUREMENTS.md: another property caught {mutant.name!r}"
        )


def _library(pair: str) -> tuple[str, str]:
    """A library and its version, from "cachetools 8.0.0"."""
    name, _, version = pair.rpartition(" ")
    return (name, version) if name else (version, "")


def survey_rows() -> list[tuple[dict[str, str], str]]:
    """Each row of the measured survey table: the libraries it names with their versions,
    and the verdict their documentation implies (the first word of that column). The table
    is Markdown (`| registry | library | docs imply | ...`) or, as `make survey` records
    it, the plain text it prints (columns two spaces apart, a rule of dashes below the
    header, a blank line after the last row)."""
    lines = measured("survey").splitlines()
    if any(line.startswith("| registry |") for line in lines):
        rows = [line for line in lines if line.startswith("| ") and "---" not in line][1:]
        table = [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows]
    else:
        start = next(n for n, line in enumerate(lines) if line.startswith("registry  "))
        end = next(n for n, line in enumerate(lines) if n > start and not line.strip())
        table = [re.split(r"\s{2,}", line.strip()) for line in lines[start + 2 : end]]
    return [
        (
            dict(_library(pair) for pair in cells[1].split(", ")),
            cells[2].split()[0],
        )
        for cells in table
    ]


def test_the_readme_survey_table_says_what_the_survey_runs() -> None:
    """The README's count, and in the measured table each registry's documented verdict and
    each library's version, are those of `reports/survey/` and the pinned `survey` extra,
    so a registry added or re-pinned without the table re-measured shows here."""
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
        for libraries, _ in rows
        for name, version in libraries.items()
        if name != "stdlib"
    }
    assert shown_versions == set(pinned.items())


def test_the_readme_links_the_measurements() -> None:
    assert "(reports/MEASUREMENTS.md)" in README.read_text(encoding="utf-8")


def test_every_command_the_readme_names_exists() -> None:
    """Each `python -m MODULE` names a module that can be found, each `make TARGET` a
    target of the Makefile."""
    text = README.read_text(encoding="utf-8")
    modules = set(re.findall(r"python -m ([\w.]+)", text)) - {"pytest", "pip", "build"}
    missing = sorted(name for name in modules if importlib.util.find_spec(name) is None)
    assert missing == [], f"README.md runs modules that do not exist: {missing}"
    targets = set(re.findall(r"^([\w-]+):", MAKEFILE.read_text(), re.MULTILINE))
    named = set(re.findall(r"`make ([\w-]+)", text))
    assert sorted(named - targets) == [], "README.md names make targets that do not exist"


def _make(*arguments: str) -> str:
    """What `make -s ARGUMENTS` prints in the project's folder (no outer make's flags)."""
    outer = {"MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEFILES"}
    done = subprocess.run(
        ["make", "-s", *arguments], cwd=MAKEFILE.parent, capture_output=True, text=True,
        timeout=60, env={name: value for name, value in os.environ.items() if name not in outer},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_make_help_lists_every_phony_target_one_line_each_and_is_the_default() -> None:
    declared = re.search(r"^\.PHONY:(.*)$", MAKEFILE.read_text(), re.MULTILINE)
    assert declared is not None, "the Makefile declares its .PHONY targets"
    listed = _make("help")
    shown = re.findall(r"^  make ([\w-]+) +\S", listed, re.MULTILINE)
    assert shown == list(dict.fromkeys(shown)), "a target is listed twice"
    assert sorted(shown) == sorted(declared.group(1).split()), listed
    assert len(listed.splitlines()) == len(shown) + 1, "one line each, after the heading"
    assert _make() == listed, "a bare make is make help"


def test_the_readmes_first_screen_gives_exactly_two_commands() -> None:
    first = re.search(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    assert first is not None
    commands = [line.split("#")[0].strip() for line in first.group(1).splitlines()]
    assert commands == ["make report", "make test"]


def test_the_survey_rows_are_read_from_the_table_make_survey_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make survey` records its plain-text table: the rows read from it are those of the
    Markdown table moved from the README (every registry agreeing, for the test)."""
    outcomes = [
        Outcome(
            name=registry.name,
            library=registry.library,
            version=registry.version() or "1.0",
            documented=registry.documented,
            citation=registry.citation,
            url=registry.url,
            status="agrees",
            found=registry.documented,
        )
        for registry in REGISTRIES
    ]
    document = tmp_path / "MEASUREMENTS.md"
    record(
        "survey",
        f"`make survey`, ...\n\n```text\n{table(outcomes, width=1000)}\n```",
        document=document,
    )
    monkeypatch.setattr(sys.modules[__name__], "MEASUREMENTS", document)
    rows = survey_rows()
    assert len(rows) == len(REGISTRIES)
    assert {(lib, said) for libs, said in rows for lib in libs} == {
        (registry.library, registry.documented) for registry in REGISTRIES
    }
