"""Hypothesis profiles for the contract (`ci`, deterministic; `dev`; `deep`; `soak`), and how
the contract keeps Hypothesis's files out of the working directory."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir, storage_directory

__all__ = [
    "PROFILES",
    "PROFILE_VARIABLE",
    "SOAK_PROFILE",
    "STORAGE_VARIABLE",
    "load_profile",
    "private_storage",
    "profile_name",
    "register_profiles",
    "without_default_database",
]

PROFILE_VARIABLE = "HYPOTHESIS_PROFILE"
STORAGE_VARIABLE = "HYPOTHESIS_STORAGE_DIRECTORY"
PROFILES = ("ci", "dev", "deep", "soak")
"""The contract's profiles."""
SOAK_PROFILE = "soak"
"""The profile with no number of examples: a time limit ends it (`--store-soak`)."""
SOAK_EXAMPLES = 10**9
"""The soak profile's `max_examples`: no number a run reaches (a soak runs in rounds,
each sized to about a minute; see `refimpl.contract._soak`)."""


def register_profiles() -> None:
    """Register `ci` (derandomized, 500 examples), `dev` (100 examples, the default),
    `deep` (5000 examples) and `soak` (unbounded: `--store-soak` gives its time limit), all
    without deadline or example database of their own (the contract files failures under
    each store's key in the database a run is given). Idempotent.

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
    # No example database in any profile: one is given to a run (`database=`,
    # `--store-database`), never assumed (it would litter .hypothesis/ in the user's folder).
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
    settings.register_profile(
        SOAK_PROFILE,
        parent=base,
        derandomize=False,
        deadline=None,
        max_examples=SOAK_EXAMPLES,
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
        raise ValueError(f"{source}={name!r} is not a profile: {', '.join(PROFILES)}") from error
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
