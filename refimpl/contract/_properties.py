"""The ownership properties as checks on a machine's state, with the messages their failures give.

`PropertyChecks` judges each step (`_check`): `survival`, `no-stale`, `checked-downcast`,
`released`, in that order, each only where the search judges it. The constants are the
texts a failure's detail is built from, which tests import.
"""

from __future__ import annotations

import time
import weakref
from functools import partial
from typing import Any, ClassVar, NoReturn

from hypothesis.control import current_build_context, currently_in_test_context

from refimpl._context import PluginContextBase
from refimpl.contract._evidence import describe, describe_error, held_by
from refimpl.contract._expected import Expected
from refimpl.contract._names import fresh
from refimpl.contract._probe import probe
from refimpl.contract._rules import ContractRules
from refimpl.contract._states import CONTEXT_CLASSES, STATE_TYPES
from refimpl.contract._story import spoken, step_line
from refimpl.contract._target import MappingStore, abilities
from refimpl.contract._violation import PROPERTIES
from refimpl.support.collector import gc_collect

__all__ = [
    "EVIDENCE_ALLOWANCE",
    "NOT_HELD_GET",
    "NOT_HELD_REMOVE",
    "OVER_RELEASE",
    "UNEXPLAINED",
    "PropertyChecks",
    "explaining",
]

NOT_HELD_GET = (
    "the store protocol's convention is that a fetch of a name not held returns None "
    "(get_plugin_data returns None; a mapping's get returns None, or [] raises KeyError)"
)
"""What a detail says when a fetch raised for a name the store does not hold."""
NOT_HELD_REMOVE = (
    "the store protocol's convention is that removing a name not held does nothing "
    "(remove_plugin_data returns; a mapping's del or pop raises KeyError, which is taken "
    "as nothing to remove)"
)
"""What a detail says when a removal raised for a name the store does not hold."""
EVIDENCE_ALLOWANCE = 120.0
"""Seconds the search for who holds a context may take before the time limit of a call
starts to run: among the survivors of earlier examples inside a big process (pytest's),
on a busy machine, it took longer than a call's 5 s, and a worker so slow is no hang of
the store's."""
OVER_RELEASE = "freed while still referenced: "
"""How a `released` detail starts when the store freed what the contract still held."""
UNEXPLAINED = "(who holds it is worked out when the shrunk example is replayed)"
"""A `released` detail's last line in a shrinking attempt, which nobody reads."""
_COPY = "\0copy:"
"""Marks a probe's answer that was an equal copy of the dead context."""


class PropertyChecks(ContractRules):
    """The checks of the ownership properties, on what the machine knows of the contexts
    it stored (`expected`, `retired`, `held`) and the target it drives (`target`).

    A failing check calls `_fail`, which the machine defines; no check keeps alive what
    it looks at (it holds weakrefs, and deletes the contexts it fetched)."""

    judged: ClassVar[tuple[str, ...]] = PROPERTIES
    """The properties this search judges: the checks of the others are not run, and an
    example that breaks one of them inside a step ends there, as passing (rejected when
    Hypothesis runs this machine; see `refimpl.contract._search.verdict`). Unless a search
    or `replay(..., judged=...)` says otherwise, every property is judged."""
    in_worker: ClassVar[bool] = False
    """Whether a worker runs this machine, program by program (not Hypothesis: a worker
    forked while Hypothesis ran in its parent would otherwise seem to be inside a test)."""
    explains: ClassVar[bool] = True
    """Whether a worker's program is the one reported (see `explaining`): the supervisor
    says so with each program."""
    pulses: ClassVar[Any] = None
    """A shared clock reading (`.value`): when the latest call into the code under test
    started (`time.monotonic()`), or `None`. The isolating worker sets it, so that its
    supervisor tells a slow store (calls go on) from a hung one."""
    target: Any
    expected: dict[str, Expected]
    held: list[PluginContextBase]
    retired: list[tuple[weakref.ref[PluginContextBase], str]]
    touched: dict[str, None]
    ever_stored: set[str]
    deaths: dict[int, str]
    copied: set[int]
    overreleased: list[str]
    steps: list[str]

    def _fail(self, prop: str, detail: str, steps: tuple[str, ...] | None = None) -> NoReturn:
        """End the example: `prop` broke, as `detail` says (see `ContractMachine._fail`)."""
        raise NotImplementedError

    def _pulse(self, ahead: float = 0.0) -> None:
        """Stamp the start of a call into the code under test, `ahead` seconds from now: the
        supervisor's time limit runs from then (see `EVIDENCE_ALLOWANCE`)."""
        if self.pulses is not None:
            self.pulses.value = time.monotonic() + ahead

    def _get(self, name: str) -> str:
        """A fetch of `name` as the target's user writes it."""
        return spoken(self.terms, "get", name)

    def _users_object(self) -> Any:
        """What the factory built, as its user knows it: a mapping, not its adapter."""
        target = self.target
        return target.mapping if isinstance(target, MappingStore) else target

    def _known(self, got: object, name: str) -> str | None:
        """What `got`, answered for `name`, is when it is an object the contract stored: a
        context removed or replaced since, or another plugin's; `None` when it is neither."""
        if got is None:
            return None
        for ref, was in self.retired:
            if ref() is got:
                return f"the {was}"
        for other, expected in self.expected.items():
            if other != name and expected.ref() is got:
                return (
                    f"the {expected.what} stored under {other!r} at step {expected.step}: "
                    f"plugin {other!r}'s context, not {name!r}'s"
                )
        return None

    def _named(self, got: object, name: str) -> str:
        """`got`, answered for `name`, as the contract knows it."""
        return self._known(got, name) or describe(got)

    def _judging(self, prop: str) -> bool:
        """Whether this search judges `prop`: the checks of the others are not run at all
        (see `judged`), so that a search for an earlier property costs less and sees past
        the later ones."""
        return prop in type(self).judged

    def _check(self, downcast: str | None = None, stale: str | None = None) -> None:
        """Judge the step: survival, no-stale, checked-downcast, released, in that order;
        `stale` and `downcast` are what this step's own fetch answered wrong.
        A search that does not judge `released` ends an example at an over-release: the
        store freed what it does not own, so what the later checks would read (and every
        later step) runs on damaged memory and proves nothing."""
        if self.overreleased and not self._judging("released"):
            self._fail("released", OVER_RELEASE + self.overreleased[0])  # ends it, unjudged
        if self._judging("survival"):
            self._check_survival()
        if stale is not None and self._judging("no-stale"):
            self._fail("no-stale", stale)
        if self._judging("no-stale") or self._judging("survival"):
            self._check_no_stale()
        if downcast is not None and self._judging("checked-downcast"):
            self._fail("checked-downcast", downcast)
        if self._judging("released"):
            if self.overreleased:
                self._fail("released", OVER_RELEASE + self.overreleased[0])
            self._check_released()

    def _check_survival(self) -> None:
        for name, expected in self.expected.items():
            if expected.ref() is None and id(expected.ref) not in self.copied:
                died = self.deaths.get(id(expected.ref), "    (where is unknown)")
                answer = self._answer_for_dead(name, expected)
                if answer.startswith(_COPY):
                    if not self._judging("no-stale"):
                        # Not a survival failure: the store answers a copy. Not probed
                        # again at the next step (a probe forks a child).
                        self.copied.add(id(expected.ref))
                        continue
                    self._fail(
                        "no-stale",
                        f"{self._get(name)} returned {answer[len(_COPY) :]} of the "
                        f"{expected.what} stored at step {expected.step}, not the object "
                        f"stored: the store answers with an object of its own (a copy or a "
                        f"deserialized value), and the original was freed once nothing else "
                        f"held it, at:\n{died}",
                    )
                self._fail(
                    "survival",
                    f"the {expected.what} stored under {name!r} at step {expected.step} was "
                    f"freed while stored: the store did not keep it alive.\n"
                    f"The last reference was dropped at:\n{died}\n"
                    f"Asked for it now, {self._get(name)} {answer}",
                )

    def _answer_for_dead(self, name: str, expected: Expected) -> str:
        """What the store answers for a stored context that died: asked in a forked child
        (it may follow a dangling pointer), or here when this is an isolated worker and
        other threads rule out forking (the worst it can do is end the worker)."""

        def render(got: object) -> str:
            known = self._known(got, name)
            if known is not None:  # not a copy: an object the contract stored
                return known
            if got is not None and expected.is_equal_copy(got):
                return f"{_COPY}an equal copy ({describe(got)})"
            if got is not None and expected.is_snapshot(got):
                return f"{_COPY}a copy as it was when stored ({describe(got)})"
            return describe(got)

        call = partial(self.target.get_plugin_data, fresh(name))
        answer = probe(call, render, waiting=self._pulse)
        if answer.startswith("(not probed: other threads") and self.pulses is not None:
            try:
                answer = f"returned {render(call())}"
            except Exception as error:
                answer = f"raised {describe_error(error)}"
        return answer.removeprefix("returned ") if _COPY in answer[:20] else answer

    def _check_no_stale(self) -> None:
        """Fetch every name touched: `no-stale` unless each answers its live stored context
        (or `None`), `survival` if that context no longer holds the data it was stored with."""
        stale = self._judging("no-stale")
        for name in self.touched:
            expected = self.expected.get(name)
            self._pulse()
            try:
                got = self.target.get_plugin_data(fresh(name))
            except Exception as error:
                if not stale:
                    continue
                self._fail("no-stale", self._raised_detail(name, error, expected))
            live = expected.ref() if expected else None
            if got is not live:
                if not stale:
                    continue
                self._fail("no-stale", self._stale_detail(name, got, expected))
            if (
                self._judging("survival")
                and expected is not None
                and repr(getattr(got, "data", None)) != expected.data
            ):
                self._fail(
                    "survival",
                    f"the {expected.what} under {name!r} does not hold the data it was stored "
                    f"with: stored with {expected.data}, now {getattr(got, 'data', None)!r}",
                )

    def _raised_detail(self, name: str, error: Exception, expected: Expected | None) -> str:
        """A fetch of `name` raised `error`: where the store does not hold `name`, that
        breaks the protocol's convention, and the detail says so."""
        call = f"{self._get(name)} raised {describe_error(error)}"
        if expected is not None:
            return f"{call}, expected the {expected.what}"
        return f"{call} for a name the store does not hold: {NOT_HELD_GET}"

    def _stale_detail(self, name: str, got: object, expected: Expected | None) -> str:
        """What a fetch of `name` that answered `got` did wrong, naming `got` as what the
        contract knows it to be (an old context, another plugin's) where it can."""
        known = self._known(got, name)
        call = f"{self._get(name)} returned {known or describe(got)}"
        if expected is None:
            removed = name in self.ever_stored
            return f"{call}, expected None " + (
                "(it was removed)" if removed else "(nothing was stored)"
            )
        what = f"{call}, expected the {expected.what}"
        if got is None:
            return what + ", which is alive: the store lost track of it"
        if known is not None:
            if expected.is_equal_copy(got) and "replaced" in known:
                return what + ", equal to it (==): the store kept what it held, dropped the new"
            return what
        if expected.is_equal_copy(got):
            return what + ": an equal copy, not the object stored"
        if expected.is_snapshot(got):
            return what + ": a copy of it as it was when stored, not the object stored"
        return what + ": another object"

    def _check_released(self) -> None:
        self.retired = [(ref, what) for ref, what in self.retired if ref() is not None]
        suspects = [(ref, what) for ref, what in self.retired if not self._is_held(ref)]
        if not suspects:
            return
        gc_collect()  # a cycle may hold it until the collector runs; that is not a leak
        self._pulse()
        for ref, what in suspects:
            context = ref()
            if context is not None:
                chain = UNEXPLAINED
                if self.explains if type(self).in_worker else explaining():
                    self._pulse(ahead=EVIDENCE_ALLOWANCE)  # the harness's work, not the store's
                    chain = held_by(context, self._users_object())
                    self._pulse()
                del context
                self._fail(
                    "released",
                    f"the {what} was removed or replaced and is referenced "
                    f"nowhere else, yet it is still alive.\n{chain}",
                )

    def _is_held(self, ref: weakref.ref[PluginContextBase]) -> bool:
        context = ref()
        return any(kept is context for kept in self.held)

    def _check_fresh(self, target: Any, *, shared_story: bool) -> None:
        """Fail `no-stale` if a store just built answers any name. `shared_story`: this is
        the example's own first store, so the story that shows it is told afresh."""
        for name in self.names:
            self._pulse()
            try:
                got = target.get_plugin_data(fresh(name))
            except Exception as error:
                self._fail(
                    "no-stale",
                    f"a store just built raised {describe_error(error)} when asked for "
                    f"{name!r}, a name it does not hold: {NOT_HELD_GET}",
                )
            if got is None:
                continue
            if not _is_contracts(got):  # not stored by the contract: it starts so
                self._fail(
                    "no-stale",
                    f"a store just built by the factory is not empty: asked for {name!r} "
                    f"it answers {describe(got)}, expected None",
                    (self.steps[0],) if shared_story else None,
                )
            if not shared_story:  # a second store: the first holds what this one answers
                expected = self.expected.get(name)
                which = (
                    f"the {expected.what} the first store holds"
                    if expected is not None and got is expected.ref()
                    else self._named(got, name)
                )
                self._fail("no-stale", _shares_state(name, which))
            # Left by an earlier example's store: told afresh, as the story that shows it
            # (closed first where the store can be: it may keep what it holds on close()).
            first = step_line(
                "store", {"name": name, "state": "counter", "seed": 0, "keep": True}, self.terms
            )
            then = "reopen" if "close" in abilities(self.terms) else "second_store"
            self._fail(
                "no-stale",
                _shares_state(name, "a context given to another store from the same factory"),
                (self.steps[0], first, step_line(then, {}, self.terms)),
            )

    def _check_just_stored(self, name: str, context: PluginContextBase) -> None:
        """Fetch what was just stored while the contract still holds it: a store that did
        not keep the very object (it copied it, kept the one it had, or dropped it) is
        `no-stale` here, whether or not the caller keeps the context afterwards. Where
        `no-stale` is not judged, a store that answers a copy is noted instead: when the
        original dies, that is no `survival` failure, and needs no probe to tell."""
        expected = self.expected[name]
        self._pulse()
        try:
            got = self.target.get_plugin_data(fresh(name))
        except Exception as error:
            if not self._judging("no-stale"):
                return
            self._fail(
                "no-stale",
                f"right after it was stored, {self._get(name)} raised "
                f"{describe_error(error)}, expected the {expected.what}",
            )
        if got is context:
            return
        if not self._judging("no-stale"):
            if self._known(got, name) is None and expected.is_equal_copy(got):
                self.copied.add(id(expected.ref))
            return
        detail = self._stale_detail(name, got, expected)
        self._fail("no-stale", f"right after it was stored, {detail}")


def explaining() -> bool:
    """Whether the running example is one whose failure is reported: Hypothesis's final
    replay of a shrunk failure, or any example run outside a Hypothesis search. Who holds
    a context that should have died (`held_by`) is worked out for those only: a search of
    the whole heap, it cost seconds per shrinking attempt inside a big process, for a
    detail that no one reads but the final replay's."""
    if not currently_in_test_context():
        return True
    return bool(current_build_context().is_final)


def _shares_state(name: str, which: str) -> str:
    return (
        f"a store just built by the factory already answers {name!r} with {which}: its "
        f"instances share state (a class attribute, a module global, a file or a cache "
        f"location every instance opens), so one store answers with contexts stored in "
        f"another"
    )


def _is_contracts(obj: object) -> bool:
    """Whether `obj` is a context this contract builds (of one of its state types)."""
    if type(obj) in CONTEXT_CLASSES.values():
        return True
    return isinstance(obj, PluginContextBase) and type(getattr(obj, "data", None)) in set(
        STATE_TYPES.values()
    )
