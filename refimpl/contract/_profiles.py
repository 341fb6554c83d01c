"""Hypothesis profiles for the contract: `ci` (deterministic), `dev`, `deep`."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

__all__ = ["PROFILE_VARIABLE", "load_profile", "register_profiles"]

PROFILE_VARIABLE = "HYPOTHESIS_PROFILE"


def register_profiles() -> None:
    """Register `ci` (derandomized, 500 examples), `dev` (100 examples, the default) and
    `deep` (5000 examples), all without deadline or example database. Idempotent."""
    settings.register_profile(
        "ci", derandomize=True, deadline=None, database=None, max_examples=500, print_blob=False
    )
    # No example database in any profile: every store runs the same state machine, so
    # a database would replay one store's failures on the next (and litter .hypothesis/).
    settings.register_profile("dev", deadline=None, max_examples=100, database=None)
    settings.register_profile(
        "deep",
        deadline=None,
        max_examples=5000,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


def load_profile() -> str:
    """Load the profile named by `$HYPOTHESIS_PROFILE` (default `dev`) and return its name.

    Raises `ValueError` naming the variable when the profile does not exist.
    """
    register_profiles()
    name = os.environ.get(PROFILE_VARIABLE, "dev")
    try:
        settings.load_profile(name)
    except Exception as error:
        raise ValueError(
            f"${PROFILE_VARIABLE}={name!r} is not a profile: ci, dev or deep"
        ) from error
    return name
