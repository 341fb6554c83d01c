"""The contract's verdict: which property broke, the shortest story, the evidence."""

from __future__ import annotations

from typing import ClassVar, Final

__all__ = ["PROPERTIES", "ContractViolation"]

PROPERTIES: Final = ("crash", "survival", "no-stale", "checked-downcast", "released")
"""The contract's verdicts, in the order a step that breaks several is named by: `crash`
(the code under test ended the worker it ran in, or stopped answering) and the four
properties."""


class ContractViolation(AssertionError):
    """A store or API broke the ownership contract.

    `property` is one of `PROPERTIES` (`crash` included); `steps` the shrunk failing sequence as
    lines of runnable Python (the first line builds `state`); `detail` the
    diagnostic, including a sanitizer report when the store raised one.
    """

    def __init__(self, property: str, steps: tuple[str, ...], detail: str) -> None:
        if property not in PROPERTIES:
            raise ValueError(f"unknown property {property!r}, expected one of {PROPERTIES}")
        self.property = property
        self.steps = steps
        self.detail = detail
        body = "\n".join(f"    {line}" for line in steps)
        super().__init__(f"{property} violated\n\nSteps:\n{body}\n\n{detail}")

    @property
    def rule_steps(self) -> tuple[str, ...]:
        """The steps without the setup line: the rules that were run."""
        return self.steps[1:]


class PropertyFailure(ContractViolation):
    """Raised inside the state machine; one subclass per property, so that
    Hypothesis shrinks each broken property as a bug of its own."""

    name: ClassVar[str]

    def __init__(self, steps: tuple[str, ...], detail: str) -> None:
        super().__init__(self.name, steps, detail)


FAILURES: Final[dict[str, type[PropertyFailure]]] = {
    name: type(f"{name.title().replace('-', '')}Failure", (PropertyFailure,), {"name": name})
    for name in PROPERTIES
}
"""The failure class raised for each property."""


class Unjudged(Exception):
    """A property the current search does not judge broke first: the example ends there
    and counts as passing (see `refimpl.contract._search.verdict`)."""
