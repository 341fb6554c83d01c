"""Hypothesis profiles for the contract (`ci`, deterministic; `dev`; `deep`), and how the
contract keeps Hypothesis's files out of the working directory."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir, storage_directory

__all__ = [
    "PROFILE_VARIABLE",
    "STORAGE_VARIABLE",
    "load_profile",
    "private_storage",
    "profile_name",
    "register_profiles",
    "without_default_database",
]

PROFILE_VARIABLE = "HYPOTHESIS_PROFILE"
STORAGE_VARIABLE = "HYPOTHESIS_STORAGE_DIRECTORY"


def register_profiles() -> None:
    """Register `ci` (derandomized, 500 examples), `dev` (100 examples, the default) and
    `deep` (5000 examples), all without deadline or example database. Idempotent.

    Each is built on Hypothesis's `default` profile, not on whichever profile is loaded:
    under a CI service (`$CI` set) Hypothesis loads its own derandomized `ci` profile, and
    `dev` must stay random there too."""
    base = settings.get_profile("default")
    settings.register_profile(
        "ci",
        parent=base,
        derandomize=True,
        deadline=None,
        database=None,
        max_examples=500,
        print_blob=False,
    )
    # No example database in any profile: every store runs the same state machine, so
    # a database would replay one store's failures on the next (and litter .hypothesis/).
    settings.register_profile(
        "dev", parent=base, derandomize=False, deadline=None, max_examples=100, database=None
    )
    settings.register_profile(
        "deep",
        parent=base,
        derandomize=False,
        deadline=None,
        max_examples=5000,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


def profile_name(option: str | None = None, *, default: str = "dev") -> str:
    """The profile asked for, after registering the contract's: `option` (a command-line
    value such as `--hypothesis-profile`'s) when given, else `$HYPOTHESIS_PROFILE`, else
    `default`.

    Raises `ValueError` naming where the name came from when no such profile is registered.
    """
    register_profiles()
    source, name = (
        ("--hypothesis-profile", option)
        if option
        else (f"${PROFILE_VARIABLE}", os.environ.get(PROFILE_VARIABLE) or default)
    )
    try:
        settings.get_profile(name)
    except Exception as error:
        raise ValueError(f"{source}={name!r} is not a profile: ci, dev or deep") from error
    return name


def load_profile() -> str:
    """Load the profile named by `$HYPOTHESIS_PROFILE` (default `dev`) and return its name.

    Raises `ValueError` naming the variable when the profile does not exist.
    """
    name = profile_name()
    settings.load_profile(name)
    return name


def without_default_database(chosen: settings) -> settings:
    """`chosen`, without an example database when it has Hypothesis's default one (the
    directory `.hypothesis/examples`, which nobody chose); a chosen database is kept."""
    if chosen.database is None or chosen.database != settings.get_profile("default").database:
        return chosen
    return settings(chosen, database=None)


@contextmanager
def private_storage() -> Iterator[None]:
    """While it lasts, Hypothesis keeps its files (the constants it caches from local
    modules, Unicode tables, a default example database) in a temporary directory,
    removed at the end, instead of `.hypothesis/` in the working directory; unless
    `$HYPOTHESIS_STORAGE_DIRECTORY` names a directory, which is then used as it is.

    Hypothesis's storage directory is global: Hypothesis code running in other threads
    meanwhile stores into the temporary directory too.
    """
    if os.environ.get(STORAGE_VARIABLE):
        yield
        return
    previous = storage_directory(intent_to_write=False).home_directory
    with tempfile.TemporaryDirectory(prefix="contract-hypothesis-") as temporary:
        set_hypothesis_home_dir(temporary)
        try:
            yield
        finally:
            set_hypothesis_home_dir(previous)
