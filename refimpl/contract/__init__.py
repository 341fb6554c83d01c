"""The ownership contract: a Hypothesis state machine that any store or API can be run against.

`check_store(make_store)` and `check_api(make_api)` return quietly when the
four properties (`survival`, `no-stale`, `checked-downcast`, `released`) hold,
and raise `ContractViolation` with the shrunk steps otherwise.
"""

from refimpl.contract._check import (
    ContractRun,
    check_api,
    check_store,
    replay,
    resolve_factory,
    run_contract,
)
from refimpl.contract._machine import NAMES, ContractMachine
from refimpl.contract._profiles import load_profile, register_profiles
from refimpl.contract._states import STATE_TYPES, Counter, Journal, Settings
from refimpl.contract._violation import PROPERTIES, ContractViolation

__all__ = [
    "NAMES",
    "PROPERTIES",
    "STATE_TYPES",
    "ContractMachine",
    "ContractRun",
    "ContractViolation",
    "Counter",
    "Journal",
    "Settings",
    "check_api",
    "check_store",
    "load_profile",
    "register_profiles",
    "replay",
    "resolve_factory",
    "run_contract",
]
