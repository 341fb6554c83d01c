"""The contract's state machine as the supervising process runs it: it draws the steps, a worker
runs them.

The rules (`ContractRules`) choose and guard their steps by the model alone (which names hold
a context of which state type), so this machine keeps that model, spells each
step, and sends it to the worker, where a `ContractMachine` runs it against the
store with every check. Hypothesis shrinks the steps as it would in-process; a
worker that dies or hangs during a step is a `crash` failure at that step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, NoReturn

from refimpl.contract._messages import Crash, Error, Fail, Program, Run
from refimpl.contract._names import NAMES
from refimpl.contract._properties import explaining
from refimpl.contract._rules import ContractRules
from refimpl.contract._story import step_line
from refimpl.contract._supervisor import Died, Worker
from refimpl.contract._violation import FAILURES, PROPERTIES
from refimpl.contract._worker import CLOSING
from refimpl.support.cmdline import raise_if_interrupted

__all__ = ["IsolatedMachine"]


CLOSE_LINE = "state.teardown()  # the example ends: the store is closed"
"""The story's last line when the store died as it was closed."""


BUILDING = (
    "the factory call, or the check after it that a new store starts empty (a fetch of each name)"
)
"""Where step 0 is: the worker builds the store, then asks it for each name (the stacks
the worker wrote say which of the two it was in)."""


class IsolatedMachine(ContractRules):
    """The contract's rules (`ContractRules`), each step recorded and sent to a supervised
    worker to run."""

    worker: ClassVar[Worker | None]
    start: ClassVar[Callable[[], tuple[Worker, str]] | None] = None
    """Starts the worker at the first example, when there is none yet: returns it and the
    terms the code under test is spoken of in (see `refimpl.contract.contract_machine`)."""
    setup_line: ClassVar[str]
    terms: str = "store"
    examples: ClassVar[int] = 0
    steps_run: ClassVar[int] = 0
    """Steps drawn in all examples (the soak's progress line counts them)."""
    first_failure: ClassVar[tuple[int, float] | None] = None
    failed_at: ClassVar[int | None] = None
    """`examples` when the current search's first judged violation was seen."""
    clock: ClassVar[Any]
    judged: ClassVar[tuple[str, ...]] = PROPERTIES
    """The properties this search judges (`crash` always): a program whose first broken
    check is another one counts as passing (see `refimpl.contract._search.verdict`)."""

    @classmethod
    def bind(
        cls,
        worker: Worker | None,
        *,
        setup_line: str,
        clock: Any,
        mode: str = "store",
        terms: str = "store",
        names: tuple[str, ...] = NAMES,
    ) -> type[IsolatedMachine]:
        """A machine class driving `worker` (`None`: draw the steps, run nothing: the cost
        of Hypothesis alone, for the benchmark), whose target is driven in `mode` and
        spoken of in `terms` (what the worker found the factory builds)."""
        attributes = {
            "worker": worker,
            "setup_line": setup_line,
            "clock": staticmethod(clock),
            "mode": mode,
            "terms": terms,
            "names": names,
        }
        return type("IsolatedContract", (cls,), attributes)

    def __init__(self) -> None:
        super().__init__()
        cls = type(self)
        if cls.worker is None and cls.start is not None:
            cls.worker, cls.terms = cls.start()
        cls.examples += 1
        self.model: dict[str, str] = {}
        self.steps: list[str] = [self.setup_line]
        self.program: Program = []
        self.doomed: int | None = None

    def _ask(self, message: Run, index: int) -> None:
        """Ask the worker and judge its answer; a crash is one at step `index`."""
        worker = type(self).worker
        assert worker is not None
        known = worker.hangs.get(tuple(self.steps[: index + 1]))
        if known is not None:  # these steps hung before: judged at once, not waited for
            self._crash(known.how, known.dump, index)
        died: Died | None = None
        try:
            answer = worker.ask(message)
        except Died as error:  # judged outside the handler, so it is not the context
            died = error
        if died is not None and not died.hung and died.served and died.code != 0:
            # The worker had run other programs, whose damage (an over-release) may be
            # what killed it: a verdict is what these steps do on a fresh worker, so that
            # the story told replays. (An exit with status 0 is the code's own doing.)
            died = None
            try:
                answer = worker.ask(message)
            except Died as error:
                died = error
        if died is not None:
            if died.hung and died.step >= 0:  # not while closing: that is not a step
                worker.hangs[tuple(self.steps[: died.step + 1])] = died
            self._crash(died.how, died.dump, died.step)
        match answer:
            case Fail() if answer.property in type(self).judged:
                self._fail(answer.property, answer.detail, answer.step, answer.story)
            case Error():
                what = "raised what the contract cannot judge"
                self._crash(f"the code under test {what}", answer.text, answer.step)
            case Crash():
                worker.close()
                self._crash("a thread of the code under test died", answer.text, answer.step)
            case _:
                pass  # `Ok`, or a failure of a property this search does not judge

    def teardown(self) -> None:
        """Run the example's program in the worker and judge it.

        The whole program goes in one message and the verdict comes back in one answer.
        A failure thus surfaces at the same point in every replay of the same steps,
        which Hypothesis needs to shrink them. Steps after which the worker hung before
        are not sent again (the code under test is taken to be deterministic): the hang
        is judged at once, so shrinking a hang does not wait for it each time."""
        worker = type(self).worker
        if worker is None:
            return
        program = self.program if self.doomed is None else self.program[: self.doomed - 1]
        judged = type(self).judged
        explains = explaining()
        self._ask(Run(program, judged, explains), 0 if self.doomed is None else self.doomed)
        if self.doomed is not None:
            known = worker.hangs[tuple(self.steps[: self.doomed + 1])]
            self._crash(known.how, known.dump, self.doomed)

    def _fail(
        self, prop: str, detail: str, index: int, story: tuple[str, ...] | None = None
    ) -> NoReturn:
        """Fail the example with the steps up to step `index` (0: the factory), or with
        `story` when the worker told one of its own (a store not fresh when built)."""
        cls = type(self)
        if cls.first_failure is None:
            cls.first_failure = (cls.examples, cls.clock())
        if cls.failed_at is None:
            cls.failed_at = cls.examples
        raise FAILURES[prop](story or tuple(self.steps[: index + 1]), detail)

    def _crash(self, how: str, dump: str, index: int) -> NoReturn:
        """Fail with `crash`: the worker ended (`how`) during step `index`, or, for an
        `index` below 0, while closing the store after step `CLOSING - index`."""
        story = None
        if index < 0:  # the store's close(), when the example ended
            index = CLOSING - index
            story = (*self.steps[: index + 1], CLOSE_LINE)
            where = f"the store's close(), after step {index}"
            last = f"step {index}: {self.steps[index]}" if index else "none"
        else:
            where = f"step {index}: {self.steps[index]}" if index else BUILDING
            last = f"step {index - 1}: {self.steps[index - 1]}" if index > 1 else "none"
        shown = dump or "(the worker wrote nothing)"
        self._fail(
            "crash",
            f"the worker running the code under test: {how}\n"
            f"during {where}\nlast completed step: {last}\n\n"
            f"what the worker said before it ended:\n{shown}",
            index,
            story,
        )

    def _act(self, rule_name: str, **arguments: Any) -> None:
        """Record the step for the worker: it runs when the example ends (`teardown`)."""
        raise_if_interrupted()  # a Ctrl-C or SIGTERM a weakref callback swallowed
        type(self).steps_run += 1
        self.steps.append(step_line(rule_name, arguments, self.terms))
        worker = type(self).worker
        if worker is not None and self.doomed is None and tuple(self.steps) in worker.hangs:
            self.doomed = len(self.steps) - 1
        self.program.append((rule_name, arguments))
