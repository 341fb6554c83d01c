"""What a violation's detail says: stacks without the harness, objects by name, and who
holds a leaked context, naming each reference on the way."""

from __future__ import annotations

import gc
import re
import sys
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import settings

import refimpl.contract
import refimpl.contract._properties as contract_machine
from broken_variant.mutants import LeakyStore
from refimpl import PluginContext, PluginContextBase
from refimpl.contract import run_contract
from refimpl.contract._evidence import (
    MAX_FRAMES,
    MAX_MESSAGE,
    describe,
    describe_bare,
    describe_error,
    held_by,
    where,
)

FEW = settings(max_examples=30, derandomize=True, database=None, deadline=None)
HYPOTHESIS_FILE = "/x/site-packages/hypothesis/core.py"
CONTRACT_FILE = str(Path(refimpl.contract.__file__).parent / "_machine.py")
STORE_FILE = "/x/site-packages/mystore/core.py"
USER_FILE = "/home/dev/project/tests/test_user.py"


class Tally:
    """A plugin's state."""


def context(name: str) -> PluginContextBase:
    return PluginContext[Tally](name, Tally())


def compiled(namespace: dict[str, Any], filename: str, source: str) -> None:
    """Define `source`'s functions in `namespace` as if they lived in `filename`."""
    exec(compile(source, filename, "exec"), namespace)


def fake_stack() -> dict[str, Any]:
    """user_step (the user's test) -> run (Hypothesis) -> step (the contract) ->
    store_set (the store), which reports where it is."""
    namespace: dict[str, Any] = {"where": where, "sys": sys}
    compiled(namespace, STORE_FILE, "def store_set():\n    return where(sys._getframe())\n")
    compiled(namespace, CONTRACT_FILE, "def step():\n    return store_set()\n")
    compiled(namespace, HYPOTHESIS_FILE, "def run(test):\n    return test()\n")
    compiled(namespace, USER_FILE, "def user_step():\n    return run(step)\n")
    return namespace


def test_where_keeps_the_store_and_the_user_and_drops_the_harness() -> None:
    lines = fake_stack()["user_step"]().splitlines()
    assert lines[0] == f"    #0 in store_set {STORE_FILE}:2"
    assert lines[1] == f"    #1 in user_step {USER_FILE}:2"
    assert lines[2].startswith("    #2 in test_where_keeps_the_store_and_the_user_and_drops")
    assert not [line for line in lines if "hypothesis" in line or "_machine" in line]


def test_where_counts_its_frames_after_leaving_the_harness_out() -> None:
    namespace: dict[str, Any] = {"where": where, "sys": sys}
    compiled(namespace, HYPOTHESIS_FILE, "def harness(n):\n    return user(n - 1)\n")
    compiled(
        namespace,
        USER_FILE,
        "def user(n):\n    return harness(n) if n else where(sys._getframe())\n",
    )
    lines = namespace["user"](2 * MAX_FRAMES).splitlines()
    assert lines == [f"    #{n} in user {USER_FILE}:2" for n in range(MAX_FRAMES)]


def test_where_says_so_when_only_the_harness_is_on_the_stack() -> None:
    namespace: dict[str, Any] = {"where": where, "sys": sys}
    compiled(namespace, HYPOTHESIS_FILE, "def drop(out):\n    out.append(where(sys._getframe()))\n")
    said: list[str] = []
    thread = threading.Thread(target=namespace["drop"], args=(said,))  # no test frame below
    thread.start()
    thread.join()
    assert len(said) == 1
    assert "\n" not in said[0]
    assert said[0].startswith("    (only harness frames: the contract itself dropped")


class Store:
    """A store under test."""


def a_function() -> None:
    """A function to describe."""


def test_describe_names_a_class_by_its_qualified_name() -> None:
    text = describe(Store)
    assert text == f"the class {__name__}.Store"
    assert "at 0x" not in text
    assert describe(int) == "the class int"
    assert describe_bare(Store) == f"class {__name__}.Store"


def test_describe_names_a_function_by_its_qualified_name() -> None:
    assert describe(a_function) == f"the function {__name__}.a_function"
    assert describe(len) == "the built-in function len"


def test_describe_keeps_a_contexts_shape_and_bare_drops_the_article() -> None:
    kept = context("a")
    assert re.fullmatch(r"a PluginContext\[Tally\] of plugin 'a' at 0x[0-9a-f]+", describe(kept))
    assert describe_bare(kept) == describe(kept).removeprefix("a ")
    assert describe(Store()).startswith("a Store at 0x")
    assert describe(None) == "None"


def test_describe_keeps_no_reference() -> None:
    kept = context("a")
    alive = weakref.ref(kept)
    describe(kept)
    describe_bare(kept)
    del kept
    gc.collect()
    assert alive() is None


def test_describe_error_cuts_a_long_message() -> None:
    long = describe_error(ValueError("x" * 5 * MAX_MESSAGE))
    assert long == "ValueError: " + "x" * MAX_MESSAGE + "…"
    assert describe_error(ValueError("short")) == "ValueError: short"


class History:
    def __init__(self, contexts: list[PluginContextBase]) -> None:
        self._history = contexts


class Signal:
    def __init__(self, receivers: dict[str, PluginContextBase]) -> None:
        self.receivers = receivers


class Slotted:
    __slots__ = ("current",)

    def __init__(self, current: PluginContextBase) -> None:
        self.current = current


def keeping(kept: PluginContextBase) -> Callable[[], PluginContextBase]:
    def get() -> PluginContextBase:
        return kept

    return get


@pytest.mark.parametrize("with_dict", [False, True], ids=["inline", "materialized"])
def test_held_by_names_the_attribute_and_the_list_index(with_dict: bool) -> None:
    contexts = [context("a"), context("b"), context("c")]
    owner = History(contexts)
    if with_dict:
        vars(owner)  # the instance's own __dict__ becomes a link of the chain, folded
    leaked = contexts[1]
    assert held_by(leaked, owner) == (
        "held by: History._history -> list[1] -> PluginContext[Tally] of plugin 'b'"
    )


def test_held_by_names_the_dict_key() -> None:
    owner = Signal({"a": context("a"), "b": context("b")})
    assert held_by(owner.receivers["b"], owner) == (
        "held by: Signal.receivers -> dict['b'] -> PluginContext[Tally] of plugin 'b'"
    )


def test_held_by_names_a_slot_and_a_closure_variable() -> None:
    slotted = Slotted(context("a"))
    assert held_by(slotted.current, slotted) == (
        "held by: Slotted.current -> PluginContext[Tally] of plugin 'a'"
    )
    get = keeping(context("b"))
    assert held_by(get(), get) == (
        "held by: function keeping.<locals>.get (closure variable 'kept') -> "
        "PluginContext[Tally] of plugin 'b'"
    )


class Hostile:
    """A key that fails at everything but hashing."""

    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("no eq")

    __hash__ = object.__hash__


class HostileDict:
    """An object whose `__dict__` property fails, and says when it was asked."""

    asked: ClassVar[list[str]] = []

    @property
    def __dict__(self) -> dict[str, Any]:  # type: ignore[override]
        HostileDict.asked.append("__dict__")
        raise RuntimeError("no __dict__")


def test_held_by_degrades_to_the_type_name_on_a_hostile_key() -> None:
    owner = {Hostile(): context("a")}
    (leaked,) = owner.values()
    assert held_by(leaked, owner) == "held by: dict -> PluginContext[Tally] of plugin 'a'"


def test_held_by_never_runs_a_dict_property() -> None:
    owner = HostileDict()
    owner.kept = [context("a")]  # type: ignore[attr-defined]
    leaked = owner.kept[0]  # type: ignore[attr-defined]
    HostileDict.asked.clear()
    said = held_by(leaked, owner)
    assert HostileDict.asked == []
    assert said == "held by: HostileDict -> list[0] -> PluginContext[Tally] of plugin 'a'"


def test_held_by_lists_the_direct_referrers_without_a_chain_and_keeps_nothing() -> None:
    keep = [context("a")]
    leaked = keep[0]
    assert held_by(leaked, object()) == (
        "no chain from the store was found; it is referenced by: list[0]"
    )
    alive = weakref.ref(leaked)
    del leaked, keep
    gc.collect()
    assert alive() is None


@pytest.mark.slow
@pytest.mark.parametrize("isolate", [True, False], ids=["isolated", "in-process"])
def test_who_holds_a_context_is_worked_out_for_the_reported_example_only(
    isolate: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search of the whole heap: run at every shrinking attempt it cost seconds per
    attempt in a big process, for details nobody reads. The worker is forked from this
    process, so it counts its calls too (in a file: it shares no memory with this one)."""
    calls = tmp_path / "held_by calls"
    calls.touch()
    real = held_by

    def counted(obj: object, owner: object) -> str:
        with calls.open("a") as log:
            log.write("called\n")
        return real(obj, owner)

    monkeypatch.setattr(contract_machine, "held_by", counted)
    run = run_contract(LeakyStore, settings=FEW, isolate=isolate)
    assert run.violation is not None
    assert run.violation.property == "released", run.violation
    assert "held by: LeakyStore." in run.violation.detail, run.violation.detail
    assert run.examples > 3  # it searched and shrank
    assert calls.read_text().splitlines() == ["called"]  # the final replay's, only
