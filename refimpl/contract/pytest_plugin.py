"""pytest plugin: `pytest --store package.module:factory` runs the ownership contract.

Inert unless asked: without `--store` it adds an option and nothing else (the
contract, Hypothesis and objgraph are imported only when the option is given).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Final

import pytest

__all__ = ["FAILURE_MESSAGE", "REFUSED_MESSAGE", "USAGE_MESSAGE"]

FAILURE_MESSAGE: Final = "ownership contract violated by {spec}: {property}"
"""The first line of a failing contract item."""
REFUSED_MESSAGE: Final = "ownership contract could not run on {spec}: {problem}"
"""The one line of a contract item whose factory cannot be used (it raised, returned
`None`, or built something without the store methods)."""
USAGE_MESSAGE: Final = "--store={spec}: {problem}"
"""The usage error for a `--store` value that cannot be used."""

_FACTORY = pytest.StashKey[tuple[str, Any]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ownership-contract", "plugin-context ownership contract")
    group.addoption(
        "--store",
        default=None,
        metavar="package.module:factory",
        help="run the ownership contract against the stores this factory builds, as one "
        "extra test item. Default: None, which means the plugin does nothing.",
    )
    group.addoption(
        "--store-timeout",
        default=5.0,
        type=_timeout,
        metavar="SECONDS",
        help="seconds one call into the store may take before it is judged hung (a crash "
        "verdict). Default: 5; 0 means no limit.",
    )


def _timeout(text: str) -> float | None:
    """`--store-timeout`'s value: positive seconds, or 0 for no limit."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not 0 or a positive number of seconds")
    return value or None


def pytest_configure(config: pytest.Config) -> None:
    spec = config.getoption("store")
    if spec is None:
        return
    from refimpl.contract import load_profile, resolve_factory

    try:
        factory = resolve_factory(spec)
        load_profile()
    except (ValueError, ImportError, AttributeError, TypeError) as error:
        raise pytest.UsageError(USAGE_MESSAGE.format(spec=spec, problem=error)) from None
    config.stash[_FACTORY] = (spec, factory)


def pytest_report_header(config: pytest.Config) -> str | None:
    if _FACTORY not in config.stash:
        return None
    import hypothesis
    from hypothesis import settings

    spec = config.stash[_FACTORY][0]
    active = settings()
    return (
        f"ownership contract: --store={spec}; hypothesis {hypothesis.__version__}, "
        f"profile {settings.get_current_profile_name()!r}, max_examples={active.max_examples}, "
        f"derandomize={active.derandomize}"
    )


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    if _FACTORY in config.stash:
        spec, factory = config.stash[_FACTORY]
        items.append(
            ContractItem.from_parent(
                session, name=f"ownership-contract[{spec}]", spec=spec, factory=factory
            )
        )


class ContractItem(pytest.Item):
    """One test: the ownership contract on the factory given with `--store`."""

    def __init__(self, *, spec: str, factory: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.factory = factory

    def runtest(self) -> None:
        from refimpl.contract import check_store

        check_store(self.factory, timeout=self.config.getoption("store_timeout"))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        from refimpl.contract import ContractViolation

        violation = excinfo.value
        if isinstance(violation, TypeError):  # the factory was refused: the cause, no traceback
            return REFUSED_MESSAGE.format(spec=self.spec, problem=violation)
        if not isinstance(violation, ContractViolation):
            return str(super().repr_failure(excinfo))
        steps = "\n".join(f"    {line}" for line in violation.steps)
        head = FAILURE_MESSAGE.format(spec=self.spec, property=violation.property)
        return f"{head}\n\nSteps:\n{steps}\n\n{violation.detail}"

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.name
