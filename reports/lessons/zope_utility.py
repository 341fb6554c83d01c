"""Lesson 10: a real library, zope.interface: an equal but distinct utility is ignored."""

from __future__ import annotations

import weakref
from typing import Any, cast

from refimpl import PluginContext, PluginContextBase, PluginStore
from refimpl.plugins.simple_counter import CounterState
from refimpl.support.collector import gc_collect
from reports.lessons._lesson import ContractCheck, Lesson, Outcome
from reports.lessons._library import Library

ZOPE = Library("zope.interface", "zope.interface", "8.7")
"""The version the lesson was written for: pyproject.toml's `survey` and `dev` extras pin it."""


class UtilityRegistry:
    """A registry of named utilities (zope.interface's `Components`), as the survey drives
    it: each plugin's context is the utility registered under the plugin's name."""

    def __init__(self) -> None:
        interface = ZOPE.load("zope.interface.interface")
        self.provided: Any = interface.InterfaceClass("IPluginContext", (interface.Interface,))
        self.components: Any = ZOPE.load("zope.interface.registry").Components("plugins")

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        self.components.registerUtility(data, self.provided, name)  # ignored if == the old

    def get_plugin_data(self, name: str) -> PluginContextBase | None:
        return cast(
            PluginContextBase | None, self.components.queryUtility(self.provided, name=name)
        )

    def remove_plugin_data(self, name: str) -> None:
        self.components.unregisterUtility(provided=self.provided, name=name)


class ReplacingUtilityRegistry(UtilityRegistry):
    """The fix: unregister what the name holds before registering the new context, so that
    an equal one is registered too, not taken for the one already there."""

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        self.components.unregisterUtility(provided=self.provided, name=name)  # the old goes
        self.components.registerUtility(data, self.provided, name)


class CounterContext(PluginContext[CounterState]):
    """A counter's context that equals another of its plugin with equal data, as a plugin
    author's dataclass would."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return (self.plugin_name, self.data) == (other.plugin_name, other.data)

    def __hash__(self) -> int:
        return hash(self.plugin_name)


def store_an_equal_context(store: PluginStore) -> tuple[bool, bool]:
    """Store the counter's context, then a new one equal to it (`==`), which the plugin goes
    on with, keeping no other reference. Return whether the store answers the new one, and
    whether the new one is alive once collected."""
    store.set_plugin_data("simple_counter", CounterContext("simple_counter", CounterState()))
    new = CounterContext("simple_counter", CounterState())  # == the old one, not it
    alive = weakref.ref(new)
    store.set_plugin_data("simple_counter", new)
    answers_new = store.get_plugin_data("simple_counter") is new
    del new
    gc_collect()
    return answers_new, alive() is not None


def broken() -> Outcome:
    answers_new, alive = store_an_equal_context(UtilityRegistry())
    return Outcome(not (answers_new and alive), _said(answers_new, alive))


def fixed() -> Outcome:
    answers_new, alive = store_an_equal_context(ReplacingUtilityRegistry())
    return Outcome(not (answers_new and alive), _said(answers_new, alive))


def _said(answers_new: bool, alive: bool) -> str:
    answered = "the new context" if answers_new else "the old context, ignoring the new, equal one"
    return f"the registry answers {answered}, and the new one is {'alive' if alive else 'freed'}"


def without_the_harness() -> str:
    """The bug in zope.interface alone: a component equal to the one registered under a
    name, registered under that name, is ignored."""
    from dataclasses import dataclass  # each import here: these lines run as shown, anywhere

    from zope.interface import Interface  # where it is installed: run only then
    from zope.interface.registry import Components

    class IContext(Interface):  # type: ignore[misc]  # zope.interface ships no types
        """What a plugin's context provides."""

    @dataclass
    class Context:
        count: int

    registry = Components()
    registry.registerUtility(Context(0), IContext, "counter")
    new = Context(0)  # equal to the registered one, but another object
    registry.registerUtility(new, IContext, "counter")
    found = registry.queryUtility(IContext, name="counter")
    return f"queryUtility answers the new object: {found is new}; an equal one: {found == new}"


LESSON = Lesson(
    name="zope-utility",
    title="A real library: zope.interface ignores an equal but distinct utility",
    pitfall=(
        "zope.interface's `registerUtility` returns early when the component it holds under "
        "that name compares equal (`==`, not `is`) to the new one. A plugin that stores a "
        "fresh context equal to its old one goes on with the new object while the registry "
        "answers the old, and the new one, held by nobody else, is freed. The documentation "
        "does not say so; `make survey` found it."
    ),
    run_broken=broken,
    run_fixed=fixed,
    broken_code=(UtilityRegistry,),
    fixed_code=(ReplacingUtilityRegistry.set_plugin_data,),
    python="if reg[:2] == (component, info): return   # zope's registerUtility: == is not `is`",
    contract=ContractCheck(UtilityRegistry, "survival"),
    notes=(
        f"Written for zope.interface {ZOPE.pin}, as pinned in pyproject.toml (`make survey` "
        "installs it, and so does `make`, for the tests).",
    ),
    library=ZOPE,
    reproduction=without_the_harness,
)
