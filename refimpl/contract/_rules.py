"""The contract's rules, declared once: what each step draws, when it runs, how it moves the model.

Both machines inherit them from `ContractRules`: `ContractMachine` runs each step against
the store in this process, `IsolatedMachine` records it for a worker that does. A rule
picks its names from the model, updates the model (which names hold a context of which
state type) and then hands the step to `_act`, the one method the two machines tell
apart by. So the two cannot draw different steps: there is one declaration to draw from.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

from refimpl.contract._names import LOOKALIKES, PICKED, StepChoices
from refimpl.contract._states import GENERIC_SIBLINGS, GENERIC_STATE_TYPES, STATE_TYPES
from refimpl.contract._target import abilities

__all__ = ["ContractRules", "able", "api_only", "other_state"]

name_picks = st.sampled_from(PICKED)
state_keys = st.sampled_from(tuple(STATE_TYPES))
generic_keys = st.sampled_from(tuple(GENERIC_STATE_TYPES))
lookalike_pairs = st.sampled_from(LOOKALIKES)
seeds = st.integers(min_value=0, max_value=3)
# "kept" first: Hypothesis shrinks each value towards it, so a story often drops outside
# references with an explicit `drop_refs` step, which reads better. Not always: a story
# of one step that never kept the context is as short, and which of them the shrinker
# ends on depends on its search (the profile, the seed). Judge a story by replaying it.
keeps = st.sampled_from((True, False))


def api_only(machine: Any) -> bool:
    """The rule drives an API's own typed calls: not applicable to a bare store."""
    return bool(machine.mode == "api")


def able(ability: str) -> Callable[[Any], bool]:
    """A precondition: the target can do `ability` (see `refimpl.contract._target.abilities`)."""

    def can(machine: Any) -> bool:
        return ability in abilities(machine.terms)

    can.__name__ = f"can_{ability}"
    return can


def other_state(stored: str, drawn: str) -> str:
    """The state type a wrong-type fetch asks for: `drawn`, unless it is the stored one.
    A `Tally` is asked for as a `Counter` first: its data is one, its context is not. A
    generic state type is asked for as its sibling over other arguments (`list[int]` as
    `list[str]`): the same class once its arguments are erased."""
    if stored in GENERIC_SIBLINGS:
        return GENERIC_SIBLINGS[stored]
    if drawn != stored:
        return drawn
    if stored == "tally":
        return "counter"
    keys = tuple(STATE_TYPES)
    return keys[(keys.index(stored) + 1) % len(keys)]


class ContractRules(StepChoices, RuleBasedStateMachine):
    """Every rule of the contract, with its strategies and preconditions.

    `model` maps each name that holds a context to its state type key: all that the
    choices (`StepChoices`) and the preconditions read. Each rule updates it as the step
    leaves the store, then calls `_act(rule_name, **arguments)` with the step as its
    story spells it; a subclass says what acting is. The promise of each step (what
    the store must do) is in its rule's docstring; `ContractMachine` judges it.
    """

    mode: ClassVar[str] = "store"
    terms: str
    """What the target is spoken of as (see `refimpl.contract._target.abilities`)."""
    model: dict[str, str]

    def _act(self, rule_name: str, **arguments: Any) -> None:
        """Do the step `rule_name(**arguments)`, the model already updated for it."""
        raise NotImplementedError

    @rule(name=name_picks, state=state_keys, seed=seeds, keep=keeps)
    def store(self, name: str, state: str, seed: int, keep: bool) -> None:
        """Store a new context (replacing any), keeping an outside reference or not."""
        name = self._pick(name)
        self.model[name] = state
        self._act("store", name=name, state=state, seed=seed, keep=keep)

    @precondition(lambda self: bool(self.model))
    @rule(name=name_picks, state=state_keys, seed=seeds, keep=keeps)
    def replace(self, name: str, state: str, seed: int, keep: bool) -> None:
        """Store a new context under a name that has one."""
        name = self._pick_stored(name)
        self.model[name] = state
        self._act("replace", name=name, state=state, seed=seed, keep=keep)

    @precondition(lambda self: bool(self.model))
    @rule(name=name_picks, state=state_keys, seed=seeds, keep=keeps)
    def recycle(self, name: str, state: str, seed: int, keep: bool) -> None:
        """Remove a stored context, then store a new one under the same name at the address
        the old one leaves free, as CPython's allocator would (if the old one dies)."""
        name = self._pick_stored(name)
        self.model[name] = state
        self._act("recycle", name=name, state=state, seed=seed, keep=keep)

    @precondition(lambda self: bool(self.model))
    @rule(name=name_picks)
    def store_equal(self, name: str) -> None:
        """Store a new context equal (`==`: same class, plugin and data) to the one stored,
        but not it, and keep no reference to it: a store that takes "equal" for "the same"
        keeps the old, and the new one dies (`survival`)."""
        self._act("store_equal", name=self._pick_stored(name))

    @precondition(lambda self: 0 < len(self.model) < len(self.names))
    @rule(state=state_keys, seed=seeds)
    def store_all(self, state: str, seed: int, names: tuple[str, ...] | None = None) -> None:
        """Store a context under every name that has none (or under `names`, as a story
        spells them), keeping them all: a bounded cache mistaken for a registry evicts some."""
        free = names if names is not None else self._free()
        self.model.update(dict.fromkeys(free, state))
        self._act("store_all", names=free, state=state, seed=seed)

    @precondition(lambda self: bool(self.model))
    @rule(name=name_picks)
    def mutate(self, name: str) -> None:
        """Change a stored context's data in place: no other context's data may change
        with it (one data object shared between contexts, say a default reused)."""
        self._act("mutate", name=self._pick_stored(name))

    @rule()
    def second_store(self) -> None:
        """Build a second store with the factory: it must start empty, whatever the first
        holds (instances that share state answer each other's contexts)."""
        self._act("second_store")

    @precondition(lambda self: self._has_room(2))
    @rule(pair=lookalike_pairs, state=state_keys, seed=seeds)
    def store_lookalikes(self, pair: tuple[str, str], state: str, seed: int) -> None:
        """Store a context under each of two names that differ only in case, whitespace,
        Unicode normal form or a trailing number, for two plugins that keep running (the
        contract holds both contexts to the end of the example, `drop_refs` included): each
        name must answer its own. A store that folds the two into one key answers the
        second plugin's context for the first (`no-stale`), on every run alike."""
        self.model.update(dict.fromkeys(pair, state))
        self._act("store_lookalikes", pair=pair, state=state, seed=seed)

    @precondition(lambda self: self._has_empty_pick())
    @rule(name=name_picks)
    def remove_absent(self, name: str) -> None:
        """Remove a name that holds nothing: nothing changes (a host removes every plugin's
        name at shutdown, stored or not)."""
        self._act("remove_absent", name=self._pick_empty(name))

    @precondition(able("close"))
    @rule()
    def reopen(self) -> None:
        """Close the store, then build the next from the factory: it must start empty,
        and the closed store must let go of every context it held (a close that raises is
        no verdict, as at the end of an example)."""
        self.model.clear()
        self._act("reopen")

    @precondition(able("setdefault"))
    @rule(name=name_picks, state=state_keys, seed=seeds, keep=keeps)
    def store_default(self, name: str, state: str, seed: int, keep: bool) -> None:
        """Store a context unless the name holds one, through the store's own
        `setdefault_plugin_data` (a mapping's `setdefault`), as the fixed API stores a
        default: it must return what the name holds, else store and return the new one."""
        name = self._pick(name)
        self.model.setdefault(name, state)
        self._act("store_default", name=name, state=state, seed=seed, keep=keep)

    @precondition(able("update"))
    @rule(name=name_picks, state=state_keys, seed=seeds, keep=keeps)
    def update(self, name: str, state: str, seed: int, keep: bool) -> None:
        """Store a new context (replacing any) through the mapping's `update`."""
        name = self._pick(name)
        self.model[name] = state
        self._act("update", name=name, state=state, seed=seed, keep=keep)

    @precondition(able("pop"))
    @rule(name=name_picks)
    def pop(self, name: str) -> None:
        """Pop a name through the mapping's `pop`: what it holds must come back, and go
        (the caller drops it too); with the default for a name that holds nothing, `None`
        comes back."""
        name = self._pick(name)
        self.model.pop(name, None)
        self._act("pop", name=name)

    @precondition(lambda self: able("popitem")(self) and len(self.model) == 1)
    @rule()
    def popitem(self) -> None:
        """Pop the one item the mapping holds through its `popitem`: that item must come
        back, and go (the caller drops it too)."""
        self.model.clear()
        self._act("popitem")

    @precondition(lambda self: able("clear")(self) and bool(self.model))
    @rule()
    def clear(self) -> None:
        """Clear the mapping through its `clear`: it must let go of every context."""
        self.model.clear()
        self._act("clear")

    @precondition(api_only)
    @rule(name=name_picks, state=generic_keys, seed=seeds, keep=keeps)
    def store_generic(self, name: str, state: str, seed: int, keep: bool) -> None:
        """Store a context over a generic state type (`PluginContext[list[int]]`) through
        the API's `set_plugin_data`: a typed fetch must tell it from its sibling over other
        arguments (`list[str]`)."""
        name = self._pick(name)
        self.model[name] = state
        self._act("store_generic", name=name, state=state, seed=seed, keep=keep)

    @precondition(api_only)
    @rule(name=name_picks, state=state_keys, seed=seeds, keep=keeps)
    def set_context(self, name: str, state: str, seed: int, keep: bool) -> None:
        """Store through the API's own `set_context`, which wraps the data itself."""
        name = self._pick(name)
        self.model[name] = state
        self._act("set_context", name=name, state=state, seed=seed, keep=keep)

    @precondition(lambda self: api_only(self) and self._has_empty_pick())
    @rule(name=name_picks, state=state_keys, keep=keeps)
    def get_default(self, name: str, state: str, keep: bool) -> None:
        """Fetch a name that has nothing stored: the API must create, store and return a
        default (the seed's lazy `getContext`), which the caller may keep or not."""
        name = self._pick_empty(name)
        self.model[name] = state
        self._act("get_default", name=name, state=state, keep=keep)

    @precondition(lambda self: api_only(self) and bool(self.model))
    @rule(name=name_picks)
    def fetch(self, name: str) -> None:
        """Fetch a stored context as its own type: the very object stored must come back
        (another object is `no-stale`), and the right type is never refused
        (`checked-downcast`)."""
        self._act("fetch", name=self._pick_stored(name))

    @precondition(lambda self: api_only(self) and bool(self.model))
    @rule(name=name_picks, state=state_keys)
    def fetch_wrong(self, name: str, state: str) -> None:
        """Fetch a stored context as another type: `ContextTypeError`, and nothing changes."""
        name = self._pick_stored(name)
        self._act("fetch_wrong", name=name, state=other_state(self.model[name], state))

    @precondition(lambda self: bool(self.model))
    @rule(name=name_picks)
    def remove(self, name: str) -> None:
        """Remove a stored context: the store must answer `None` and let it go. Then remove
        it again, now that the store does not hold it: by the protocol, nothing happens."""
        name = self._pick_stored(name)
        del self.model[name]
        self._act("remove", name=name)

    @rule()
    def drop_refs(self) -> None:
        """Drop every outside reference: only the store may keep contexts alive now (but for
        the contexts of plugins still running, stored by `store_lookalikes`)."""
        self._act("drop_refs")

    @rule()
    def collect(self) -> None:
        """Run the garbage collector."""
        self._act("collect")

    @rule()
    def churn(self) -> None:
        """Allocate unrelated objects of a context's size, so freed addresses get reused."""
        self._act("churn")
