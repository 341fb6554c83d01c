"""The code a lesson shows is the code it runs: the broken half shows the one store (or API,
or function) it runs and runs no other broken store unseen; the fixed half shows only the
lines that fix the bug, with the whole source one flag away. Checked by tracing each half
as it runs (`sys.setprofile`)."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from types import FrameType
from typing import Any

import pytest

from refimpl import ContextStore, PluginAPI
from reports.lessons import LESSONS, Excerpt, Lesson, Outcome
from reports.lessons._source import owner, shown_object, source_of

STORE_METHODS = {"set_plugin_data", "get_plugin_data", "remove_plugin_data"}
IN_A_CHILD = {"ctypes-uaf": "its shown function runs in the child process it starts"}
"""Lessons whose shown code runs in another process, where this process cannot trace it."""
HARDENING = ("type(name) is str", "__hash__", "_SPECIALISED", "_check_access", "first_error")
"""Lines of the fixed code that guard against other mistakes than the lesson's."""


def _traced(half: Callable[[], Outcome]) -> tuple[set[types.CodeType], set[type]]:
    """Run `half`; return the code objects that ran, and the classes whose store methods
    ran (an API's own, `PluginAPI`'s, left out)."""
    ran: set[types.CodeType] = set()
    stores: set[type] = set()

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event != "call":
            return
        ran.add(frame.f_code)
        if frame.f_code.co_name in STORE_METHODS:
            self = frame.f_locals.get("self")
            if self is not None and not isinstance(self, PluginAPI):
                stores.add(type(self))

    sys.setprofile(profile)
    try:
        half()
    finally:
        sys.setprofile(None)
    return ran, stores


def _codes(item: object) -> set[types.CodeType]:
    """The code objects of a shown function, or of a shown class's own functions."""
    obj = shown_object(item)
    if isinstance(obj, type):
        return {f.__code__ for f in vars(obj).values() if isinstance(f, types.FunctionType)}
    return {obj.__code__}  # type: ignore[attr-defined]


TRACED = [
    pytest.param(lesson, marks=[pytest.mark.native] if lesson.needs_nim else [], id=lesson.name)
    for lesson in LESSONS
    if lesson.name not in IN_A_CHILD
]


@pytest.mark.parametrize("lesson", TRACED)
def test_each_half_runs_the_code_it_shows(lesson: Lesson) -> None:
    for which, half, shown in (
        ("broken", lesson.run_broken, lesson.broken_code),
        ("fixed", lesson.run_fixed, lesson.fixed_code),
    ):
        ran, _ = _traced(half)
        for item in shown:
            assert _codes(item) & ran, (
                f"{lesson.name}: the {which} half shows {owner(item)} code it never runs"
            )


@pytest.mark.parametrize("lesson", TRACED)
def test_the_broken_half_shows_the_one_store_it_runs_and_runs_no_other(lesson: Lesson) -> None:
    owners = {owner(item) for item in lesson.broken_code}
    assert len(owners) == 1, f"{lesson.name}: the broken half shows {sorted(owners)}"
    _, stores = _traced(lesson.run_broken)
    broken_stores = {store.__name__ for store in stores if store is not ContextStore}
    assert len(broken_stores) <= 1, f"{lesson.name}: the broken half runs {broken_stores}"
    shown = shown_object(lesson.broken_code[0])
    if isinstance(shown, type) and set(dir(shown)) >= STORE_METHODS:  # it shows a store
        assert broken_stores == owners, f"{lesson.name}: shows {owners}, runs {broken_stores}"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.name)
def test_the_fixed_half_shows_only_what_fixes_it_and_all_of_it_is_a_flag_away(
    lesson: Lesson,
) -> None:
    shown, full = lesson.source("fixed"), lesson.source("fixed", full=True)
    code = [line for line in shown.splitlines() if line.strip() and not line.startswith("#")]
    if shown != lesson.source("broken"):  # one code run two ways is shown once, whole
        assert len(code) <= 16, f"{lesson.name}: the fix shows {len(code)} lines"
    for guard in HARDENING:
        assert guard not in shown, f"{lesson.name}: the fix shows {guard!r}, another concern"
    for line in shown.splitlines()[1:]:  # each line shown is in the full source, or elided
        assert line.strip() in ("", "...") or line in full, line
    if any(isinstance(item, Excerpt) for item in lesson.fixed_code):
        assert len(full) > len(shown)
        assert "the lines that fix it" in shown


def test_an_excerpt_whose_line_is_not_in_its_source_exactly_once_says_so() -> None:
    with pytest.raises(ValueError, match="is in 0 lines"):
        source_of(Excerpt(ContextStore.set_plugin_data, ("no such line",)))
    with pytest.raises(ValueError, match=r"'name' is in \d+ lines of its source, not 1"):
        source_of(Excerpt(ContextStore.set_plugin_data, ("name",)))
