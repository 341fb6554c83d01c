"""The ownership contract: a Hypothesis state machine that any store or API can be run against.

`check_store(make_store)` (a store, or any mutable mapping, as it is) and
`check_api(make_api)` return quietly when the properties (`survival`, `no-stale`,
`checked-downcast` for an API, `released`) hold and the code under test neither
crashes nor hangs, and raise `ContractViolation` with the shrunk steps otherwise.
"""

from refimpl.contract._check import (
    ContractRun,
    NoDatabaseKey,
    bare_cost,
    check_api,
    check_store,
    replay,
    run_contract,
)
from refimpl.contract._database import DatabaseUnavailable
from refimpl.contract._factories import factory_spec, resolve_factory
from refimpl.contract._machine import ContractMachine
from refimpl.contract._names import NAMES
from refimpl.contract._profiles import load_profile, register_profiles
from refimpl.contract._search import isolated_passes, isolated_settings
from refimpl.contract._standalone import contract_machine
from refimpl.contract._states import STATE_TYPES, Counter, Journal, Settings, Tally
from refimpl.contract._violation import PROPERTIES, ContractViolation

__all__ = [
    "NAMES",
    "PROPERTIES",
    "STATE_TYPES",
    "ContractMachine",
    "ContractRun",
    "ContractViolation",
    "Counter",
    "DatabaseUnavailable",
    "Journal",
    "NoDatabaseKey",
    "Settings",
    "Tally",
    "bare_cost",
    "check_api",
    "check_store",
    "contract_machine",
    "factory_spec",
    "isolated_passes",
    "isolated_settings",
    "load_profile",
    "register_profiles",
    "replay",
    "resolve_factory",
    "run_contract",
]
