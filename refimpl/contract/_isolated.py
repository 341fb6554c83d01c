"""The contract's state machine as the supervising process runs it: it draws the steps, a worker
runs them.

The rules' choices and preconditions depend only on the model (which names hold
a context of which state type), so this machine keeps that model, spells each
step, and sends it to the worker, where a `ContractMachine` runs it against the
store with every check. Hypothesis shrinks the steps as it would in-process; a
worker that dies or hangs during a step is a `crash` failure at that step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, NoReturn

from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

from refimpl.contract._machine import (
    NAMES,
    StepChoices,
    able,
    api_only,
    explaining,
    generic_keys,
    keeps,
    lookalike_pairs,
    name_picks,
    other_state,
    seeds,
    state_keys,
)
from refimpl.contract._story import step_line
from refimpl.contract._supervisor import Died, Worker
from refimpl.contract._violation import FAILURES, PROPERTIES
from refimpl.contract._worker import CLOSING
from refimpl.support.cmdline import raise_if_interrupted

__all__ = ["IsolatedMachine"]


CLOSE_LINE = "state.teardown()  # the example ends: the store is closed"
"""The story's last line when the store died as it was closed."""


class IsolatedMachine(StepChoices, RuleBasedStateMachine):
    """The same rules as `ContractMachine`, each sent to a supervised worker to run."""

    worker: ClassVar[Worker | None]
    start: ClassVar[Callable[[], tuple[Worker, str]] | None] = None
    """Starts the worker at the first example, when there is none yet: returns it and the
    terms the code under test is spoken of in (see `refimpl.contract.contract_machine`)."""
    setup_line: ClassVar[str]
    mode: ClassVar[str] = "store"
    terms: ClassVar[str] = "store"
    examples: ClassVar[int] = 0
    steps_run: ClassVar[int] = 0
    """Steps drawn in all examples (the soak's progress line counts them)."""
    first_failure: ClassVar[tuple[int, float] | None] = None
    failed_at: ClassVar[int | None] = None
    """`examples` when the current search's first judged violation was seen."""
    clock: ClassVar[Any]
    judged: ClassVar[tuple[str, ...]] = PROPERTIES
    """The properties this search judges (`crash` always): a program whose first broken
    check is another one counts as passing (see `refimpl.contract._check._verdict`)."""

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
        self.program: list[tuple[str, dict[str, Any]]] = []
        self.doomed: int | None = None

    def _ask(self, message: tuple[Any, ...], index: int) -> None:
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
        if answer[0] == "fail" and answer[2] in type(self).judged:
            self._fail(answer[2], answer[3], answer[1], answer[4])
        if answer[0] == "error":
            what = "raised what the contract cannot judge"
            self._crash(f"the code under test {what}", answer[2], answer[1])
        if answer[0] == "crash":
            worker.close()
            self._crash("a thread of the code under test died", answer[2], answer[1])

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
        self._ask(("run", program, judged, explains), 0 if self.doomed is None else self.doomed)
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
            where = f"step {index}: {self.steps[index]}" if index else "the factory call"
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

    def _step(self, rule_name: str, **arguments: Any) -> None:
        raise_if_interrupted()  # a Ctrl-C or SIGTERM a weakref callback swallowed
        type(self).steps_run += 1
        self.steps.append(step_line(rule_name, arguments, self.terms))
        worker = type(self).worker
        if worker is not None and self.doomed is None and tuple(self.steps) in worker.hangs:
            self.doomed = len(self.steps) - 1
        self.program.append((rule_name, arguments))

    @rule(name=name_picks, state=state_keys, seed=seeds, keep=keeps)
    def store(self, name: str, state: str, seed: int, keep: bool) -> None:
        name = self._pick(name)
        self._step("store", name=name, state=state, seed=seed, keep=keep)
        self.model[name] = state

    @precondition(lambda self: bool(self.model))
    @rule(name=name_picks, state=state_keys, seed=seeds, keep=keeps)
    def replace(self, name: str, state: str, seed: int, keep: bool) -> None:
        name = self._pick_stored(name)
        self._step("replace", name=name, state=state, seed=seed, keep=keep)
        self.model[name] = state

    @precondition(lambda self: bool(self.model))
    @rule(name=name_picks, state=state_keys, seed=seeds, keep=keeps)
    def recycle(self, name: str, state: str, seed: int, keep: bool) -> None:
        name = self._pick_stored(name)
        self._step("recycle", name=name, state=state, seed=seed, keep=keep)
        self.model[name] = state

    @precondition(lambda self: bool(self.model))
    @rule(name=name_picks)
    def store_equal(self, name: str) -> None:
        self._step("store_equal", name=self._pick_stored(name))

    @precondition(lambda self: 0 < len(self.model) < len(self.names))
    @rule(state=state_keys, seed=seeds)
    def store_all(self, state: str, seed: int) -> None:
        free = self._free()
        self._step("store_all", names=free, state=state, seed=seed)
        self.model.update(dict.fromkeys(free, state))

    @precondition(lambda self: bool(self.model))
    @rule(name=name_picks)
    def mutate(self, name: str) -> None:
        self._step("mutate", name=self._pick_stored(name))

    @rule()
    def second_store(self) -> None:
        self._step("second_store")

    @precondition(lambda self: self._has_room(2))
    @rule(pair=lookalike_pairs, state=state_keys, seed=seeds)
    def store_lookalikes(self, pair: tuple[str, str], state: str, seed: int) -> None:
        self._step("store_lookalikes", pair=pair, state=state, seed=seed)
        self.model.update(dict.fromkeys(pair, state))

    @precondition(lambda self: self._has_empty_pick())
    @rule(name=name_picks)
    def remove_absent(self, name: str) -> None:
        self._step("remove_absent", name=self._pick_empty(name))

    @precondition(able("close"))
    @rule()
    def reopen(self) -> None:
        self._step("reopen")
        self.model.clear()

    @precondition(able("setdefault"))
    @rule(name=name_picks, state=state_keys, seed=seeds, keep=keeps)
    def store_default(self, name: str, state: str, seed: int, keep: bool) -> None:
        name = self._pick(name)
        self._step("store_default", name=name, state=state, seed=seed, keep=keep)
        self.model.setdefault(name, state)

    @precondition(able("update"))
    @rule(name=name_picks, state=state_keys, seed=seeds, keep=keeps)
    def update(self, name: str, state: str, seed: int, keep: bool) -> None:
        name = self._pick(name)
        self._step("update", name=name, state=state, seed=seed, keep=keep)
        self.model[name] = state

    @precondition(able("pop"))
    @rule(name=name_picks)
    def pop(self, name: str) -> None:
        name = self._pick(name)
        self._step("pop", name=name)
        self.model.pop(name, None)

    @precondition(lambda self: able("popitem")(self) and len(self.model) == 1)
    @rule()
    def popitem(self) -> None:
        self._step("popitem")
        self.model.clear()

    @precondition(lambda self: able("clear")(self) and bool(self.model))
    @rule()
    def clear(self) -> None:
        self._step("clear")
        self.model.clear()

    @precondition(api_only)
    @rule(name=name_picks, state=generic_keys, seed=seeds, keep=keeps)
    def store_generic(self, name: str, state: str, seed: int, keep: bool) -> None:
        name = self._pick(name)
        self._step("store_generic", name=name, state=state, seed=seed, keep=keep)
        self.model[name] = state

    @precondition(api_only)
    @rule(name=name_picks, state=state_keys, seed=seeds, keep=keeps)
    def set_context(self, name: str, state: str, seed: int, keep: bool) -> None:
        name = self._pick(name)
        self._step("set_context", name=name, state=state, seed=seed, keep=keep)
        self.model[name] = state

    @precondition(lambda self: api_only(self) and self._has_empty_pick())
    @rule(name=name_picks, state=state_keys, keep=keeps)
    def get_default(self, name: str, state: str, keep: bool) -> None:
        name = self._pick_empty(name)
        self._step("get_default", name=name, state=state, keep=keep)
        self.model[name] = state

    @precondition(lambda self: api_only(self) and bool(self.model))
    @rule(name=name_picks)
    def fetch(self, name: str) -> None:
        self._step("fetch", name=self._pick_stored(name))

    @precondition(lambda self: api_only(self) and bool(self.model))
    @rule(name=name_picks, state=state_keys)
    def fetch_wrong(self, name: str, state: str) -> None:
        name = self._pick_stored(name)
        self._step("fetch_wrong", name=name, state=other_state(self.model[name], state))

    @precondition(lambda self: bool(self.model))
    @rule(name=name_picks)
    def remove(self, name: str) -> None:
        name = self._pick_stored(name)
        self._step("remove", name=name)
        del self.model[name]

    @rule()
    def drop_refs(self) -> None:
        self._step("drop_refs")

    @rule()
    def collect(self) -> None:
        self._step("collect")

    @rule()
    def churn(self) -> None:
        self._step("churn")
