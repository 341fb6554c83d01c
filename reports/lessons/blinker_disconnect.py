"""Lesson 9: a real library, blinker: a per-sender disconnect keeps a receiver alive."""

from __future__ import annotations

import weakref
from typing import Any, cast

from refimpl import PluginContext, PluginContextBase, PluginStore
from refimpl.plugins.simple_counter import CounterState
from refimpl.support.collector import gc_collect
from reports.lessons._lesson import ContractCheck, Lesson, Outcome
from reports.lessons._library import Library

BLINKER = Library("blinker", "blinker", "1.9.0")
"""The version the lesson was written for: pyproject.toml's `survey` and `dev` extras pin it."""


class PerSenderReceivers:
    """A registry on one blinker signal, as the survey drives it: each plugin's context is
    the receiver connected, strongly, for the sender `name`; removing it disconnects it
    from that sender."""

    def __init__(self) -> None:
        self.signal: Any = BLINKER.load().Signal("plugins")

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        self.remove_plugin_data(name)
        self.signal.connect(data, sender=name, weak=False)

    def get_plugin_data(self, name: str) -> PluginContextBase | None:
        return cast(PluginContextBase | None, next(iter(self.signal.receivers_for(name)), None))

    def remove_plugin_data(self, name: str) -> None:
        for receiver in list(self.signal.receivers_for(name)):
            self.signal.disconnect(receiver, sender=name)  # from this sender only


class AllSendersReceivers(PerSenderReceivers):
    """The fix: remove a receiver by disconnecting it from every sender (each context is
    connected for its one plugin name), which is what lets blinker drop it."""

    def remove_plugin_data(self, name: str) -> None:
        for receiver in list(self.signal.receivers_for(name)):
            self.signal.disconnect(receiver)  # from every sender: blinker lets go of it


def store_then_remove(store: PluginStore) -> tuple[bool, object]:
    """Store the counter's context, keep no reference to it, remove it and collect. Return
    whether it is still alive, and what the store answers for its name."""
    context = PluginContext[CounterState]("simple_counter", CounterState(count=1))
    alive = weakref.ref(context)
    store.set_plugin_data("simple_counter", context)
    del context
    store.remove_plugin_data("simple_counter")
    gc_collect()
    return alive() is not None, store.get_plugin_data("simple_counter")


def broken() -> Outcome:
    alive, answer = store_then_remove(PerSenderReceivers())
    return Outcome(
        alive,
        f"removed (the store answers {answer!r}), yet the context is "
        + ("alive: blinker's Signal.receivers still holds it" if alive else "freed"),
    )


def fixed() -> Outcome:
    alive, answer = store_then_remove(AllSendersReceivers())
    return Outcome(
        alive,
        f"removed (the store answers {answer!r}), the context is {'alive' if alive else 'freed'}",
    )


def without_the_harness() -> str:
    """The bug in blinker alone: a receiver connected strongly for one sender, disconnected
    from it and dropped, lives on."""
    import gc  # each import here, so that these lines run as shown, copied anywhere
    import weakref

    import blinker  # where it is installed: the lesson runs this only then

    def receiver(sender: object) -> None:
        """Called when the signal is sent by 'counter'."""

    signal = blinker.Signal()
    alive = weakref.ref(receiver)
    signal.connect(receiver, sender="counter", weak=False)
    signal.disconnect(receiver, sender="counter")
    del receiver
    gc.collect()
    return (
        f"receivers for 'counter': {list(signal.receivers_for('counter'))}; "
        f"the receiver is alive: {alive() is not None}; signal.receivers: {len(signal.receivers)}"
    )


LESSON = Lesson(
    name="blinker-disconnect",
    title="A real library: blinker's per-sender disconnect keeps a receiver alive",
    pitfall=(
        "blinker's `disconnect(receiver, sender)` disconnects a receiver from one sender. A "
        "receiver connected strongly (`weak=False`) is also held in the signal's `receivers`, "
        "which only a disconnect from every sender empties, so a registry that removes per "
        "sender never frees what it removed. The documentation does not say so; `make "
        "survey` found it."
    ),
    run_broken=broken,
    run_fixed=fixed,
    broken_code=(PerSenderReceivers,),
    fixed_code=(AllSendersReceivers.remove_plugin_data,),
    python="signal.disconnect(receiver, sender=name)   # signal.receivers still holds it",
    contract=ContractCheck(PerSenderReceivers, "released"),
    notes=(
        f"Written for blinker {BLINKER.pin}, as pinned in pyproject.toml (`make survey` "
        "installs it, and so does `make`, for the tests).",
    ),
    library=BLINKER,
    reproduction=without_the_harness,
)
