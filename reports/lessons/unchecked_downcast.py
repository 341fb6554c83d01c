"""Lesson 3: an unchecked downcast defers the mistake; a checked one stops it."""

from __future__ import annotations

from broken_variant import UncheckedPluginAPI
from broken_variant.mutants import make_unchecked_api
from refimpl import ContextStore, ContextTypeError, PluginAPI
from refimpl.plugins.frame_log import FrameLog
from refimpl.plugins.simple_counter import CounterState
from reports.lessons._lesson import ContractCheck, Lesson, Outcome
from reports.lessons._source import Excerpt


def fetch_as_wrong_type(api: PluginAPI) -> str:
    """Store a counter, then fetch it as the log's state and use it as a log."""
    api.set_context("simple_counter", CounterState(count=3))
    context = api.get_context("simple_counter", FrameLog)
    return f"got {type(context).__name__}; its lines: {context.data.lines}"


def broken() -> Outcome:
    try:
        said = fetch_as_wrong_type(UncheckedPluginAPI(ContextStore()))
    except AttributeError as error:
        return Outcome(True, f"no error at the fetch; later, far from the cause: {error}")
    return Outcome(True, f"the wrong type was used silently: {said}")


def fixed() -> Outcome:
    try:
        said = fetch_as_wrong_type(PluginAPI(ContextStore()))
    except ContextTypeError as error:
        return Outcome(False, f"stopped at the fetch: ContextTypeError: {error}")
    return Outcome(True, f"the wrong type got through: {said}")


LESSON = Lesson(
    name="unchecked-downcast",
    title="Unchecked versus checked downcast",
    pitfall=(
        "A cast tells the compiler to trust you: if the stored object is not what you say, "
        "the mistake surfaces later, somewhere else, as garbage or a crash. A checked "
        "conversion tests the runtime type and fails at the point of the mistake, naming "
        "both types."
    ),
    run_broken=broken,
    run_fixed=fixed,
    broken_code=(UncheckedPluginAPI.get_context,),
    fixed_code=(
        Excerpt(
            PluginAPI._get_context_checked,
            (
                "stored = self._store.get_plugin_data(name)",
                "wanted = context_class(state_type)",
                "if not isinstance(stored, wanted):",
                "raise ContextTypeError(name, type(stored), wanted)",
                "return stored",
            ),
        ),
    ),
    nim=(
        "cast[PluginContext[T]](p)     # unchecked\n"
        "PluginContext[T](base)         # checked: raises ObjectConversionDefect"
    ),
    python=(
        "cast(PluginContext[T], stored)               # unchecked\n"
        "if not isinstance(stored, PluginContext[T]): raise ContextTypeError(...)"
    ),
    contract=ContractCheck(make_unchecked_api, "checked-downcast", api=True),
)
