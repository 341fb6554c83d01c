"""`python -m reports.survey` (`make survey`): the contract on real registries, beside their docs.

Each entry is a registry from the standard library or PyPI, the verdict its own
documentation implies ("holds", or the contract property it gives up, such as a cache
that hands back copies: `no-stale`), and one line of that documentation with its address.
The survey runs the contract on each (the active Hypothesis profile, each store isolated
in a worker) and prints, per registry, what the docs promise, what the contract found,
and whether the two agree; for each disagreement the shrunk story and the first line of
its evidence. It writes `survey.json` into the output folder (atomically). It is a
survey, not a test: it exits 0 with disagreements and libraries not installed (a row
says so; `make survey` installs them all), 1 when the contract could not judge a
registry at all (an error row), and 2 for a bad argument, before anything runs.

Mutable mappings are handed to the contract as they are; the libraries whose registry is
not a mapping (a cache API of get/set/delete, a plugin manager, a priority registry, a
signal, a component registry) get a few-line adapter here that calls their documented API
and nothing else.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence

from refimpl.contract import load_profile
from reports.output import DEFAULT_OUT, UnusableFolder, output_folder, write_text_atomically
from reports.output.measured import record_run
from reports.survey._registries import REGISTRIES, Registry
from reports.survey._run import survey
from reports.survey._table import report, table

__all__ = ["PROG", "main", "select"]

PROG = "python -m reports.survey"


def _aliases(registry: Registry) -> set[str]:
    """What selects `registry` on the command line, case aside: its name, its name before
    the parenthesis (`cachetools.LRUCache`), its first word (`cachetools`, `shelve`) and its
    library."""
    name = registry.name.casefold()
    first = re.split(r"[.( ]", name, maxsplit=1)[0]
    return {name, name.partition("(")[0].strip(), first, registry.library.casefold()}


def select(
    names: Sequence[str] | None, registries: Sequence[Registry] = REGISTRIES
) -> list[Registry]:
    """The registries `--only` names, in survey order (all of them for no names): a name
    selects every entry it is an alias of (see `_aliases`). Raises `ValueError` naming
    what selects nothing."""
    if not names:
        return list(registries)
    wanted = [name.casefold() for name in names]
    unknown = [
        name
        for name, folded in zip(names, wanted, strict=True)
        if not any(folded in _aliases(registry) for registry in registries)
    ]
    if unknown:
        known = ", ".join(registry.name for registry in registries)
        raise ValueError(f"no registry named {', '.join(map(repr, unknown))} (known: {known})")
    return [r for r in registries if any(folded in _aliases(r) for folded in wanted)]


def main(argv: Sequence[str] | None = None) -> int:
    """Survey, print the table, write survey.json; exit 0 (disagreements included), 1 when
    a registry could not be judged, 2 for a bad argument."""
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only",
        nargs="+",
        action="extend",
        metavar="NAME",
        help="survey only these registries (a name, its part before '(', or a library)",
    )
    parser.add_argument(
        "--out",
        default=str(DEFAULT_OUT),
        metavar="DIR",
        help="the folder to write survey.json into; made if missing, but not its parent "
        "(default: reports/out)",
    )
    args = parser.parse_args(argv)
    try:
        chosen = select(args.only)
    except ValueError as unknown:
        parser.error(f"argument --only: {unknown}")
    try:
        out = output_folder(args.out, ["survey.json"])
    except UnusableFolder as refused:
        parser.error(f"argument --out: {refused}")
    try:
        profile = load_profile()
    except ValueError as bad:
        parser.error(str(bad))

    def progress(text: str) -> None:
        sys.stderr.write(text)
        sys.stderr.flush()

    outcomes = survey(chosen, progress=progress)
    command = "make survey" if not args.only else f"{PROG} --only {' '.join(args.only)}"
    result = report(outcomes, profile=profile, command=command)
    write_text_atomically(out / "survey.json", json.dumps(result, indent=2) + "\n")
    print(table(outcomes))
    print(f"survey: wrote {out / 'survey.json'}", file=sys.stderr)
    record_run(
        "survey",
        f"```text\n{table(outcomes, width=1000)}\n```",
        command=command,
        out=out,
        full=not args.only,
    )
    return 1 if any(outcome.status == "error" for outcome in outcomes) else 0
