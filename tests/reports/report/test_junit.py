"""junit.xml reads the right way round in a CI viewer, which shows `classname.name` and
pass, fail or skip: a fixed implementation's case is named for its promise and fails when
broken, or for why it was skipped; a mutant's one case is named for what happened and fails
when it escaped or was caught by another property than it declares; a lesson passes when
shown. Three suites hold them (fixed implementations, mutants, lessons), and each case has
its own measured time, or none, and says which.

Every test renders findings built by hand, so none runs the contract.
"""

from __future__ import annotations

import dataclasses
import itertools
import xml.etree.ElementTree as ElementTree

import pytest

from refimpl.contract import PROPERTIES
from reports.report import render_junit
from reports.report._junit import NOT_APPLICABLE, SUITES
from reports.report._model import Environment, Findings, Implementation, LessonResult, Violation

ORDER = "crash, survival, no-stale, checked-downcast, released"
NOT_JUDGED = f"not judged: the contract stops at the first broken property, in the order {ORDER}"
STEPS = ("state = replay()", "state.store(name='a')")
DETAIL = "\nthe store returned an equal copy, not the object stored\nheld by: nothing"


def _impl(
    name: str, target: str, expected: str | None, broken: str | None = None
) -> Implementation:
    """An implementation as `_collect` makes one: the properties before `broken` held,
    `broken` violated, the rest not judged; `checked-downcast` not applicable to a store."""
    index = len(PROPERTIES) if broken is None else PROPERTIES.index(broken)
    cells = {
        prop: "held" if at < index else "violated" if at == index else "not-judged"
        for at, prop in enumerate(PROPERTIES)
    }
    if target == "store":
        cells["checked-downcast"] = "not-applicable"
    violation = None if broken is None else Violation(broken, STEPS, DETAIL, None, None)
    kind = "fixed" if expected is None else "mutant"
    return Implementation(
        name, kind, target, "m:f", "a bug", expected, cells, violation, 10,
        None if broken is None else 3, 0.5, None if broken is None else 0.1,
    )  # fmt: skip


def _lesson(name: str, state: str, seconds: float | None = 0.25) -> LessonResult:
    return LessonResult(
        name, f"The {name} lesson", "A pitfall.", state == "shown", "it crashed", "it ran",
        "survival", "def broken(): ...", "def fixed(): ...",
        "nim is not installed" if state == "not-run" else None, seconds=seconds,
    )  # fmt: skip


def _findings(*implementations: Implementation, lessons: tuple[LessonResult, ...] = ()) -> Findings:
    environment = Environment("CPython 3.11", "Linux", {}, {}, "python -m reports")
    return Findings(environment, PROPERTIES, list(implementations), lessons=list(lessons))


def _render(findings: Findings) -> ElementTree.Element:
    """junit.xml for `findings`, parsed, after checking every count it states."""
    root = ElementTree.fromstring(render_junit(findings).encode("utf-8"))
    assert root.tag == "testsuites"
    assert _counts(root) == _stated(root), "the counts on <testsuites> are wrong"
    for suite in root.iter("testsuite"):
        assert _counts(suite) == _stated(suite), f"the counts on {suite.get('name')} are wrong"
    return root


def _counts(element: ElementTree.Element) -> dict[str, int]:
    cases = element.findall(".//testcase")
    outcomes = [_outcome(case)[0] for case in cases]
    return {
        "tests": len(cases),
        "failures": outcomes.count("failed"),
        "errors": outcomes.count("error"),
        "skipped": outcomes.count("skipped"),
    }


def _stated(element: ElementTree.Element) -> dict[str, int]:
    return {key: int(element.attrib[key]) for key in ("tests", "failures", "errors", "skipped")}


FIXED, MUTANTS, LESSONS_SUITE = SUITES["fixed"], SUITES["mutants"], SUITES["lessons"]


def _outcome(case: ElementTree.Element) -> tuple[str, str | None]:
    """A case's outcome, as a CI viewer shows it, and its message."""
    verdicts = [child for child in case if child.tag in ("failure", "error", "skipped")]
    assert len(verdicts) <= 1, "a case with two outcomes"
    if not verdicts:
        return "passed", None
    tag = verdicts[0].tag
    return {"failure": "failed"}.get(tag, tag), verdicts[0].get("message")


def _suite(root: ElementTree.Element, name: str) -> list[tuple[str, str, str, str | None]]:
    """Each case of suite `name`: classname, name, outcome and message."""
    suite = root.find(f"./testsuite[@name='{name}']")
    assert suite is not None, f"no suite {name}"
    return [
        (case.get("classname", ""), case.get("name", ""), *_outcome(case))
        for case in suite.findall("testcase")
    ]


def _only_case(root: ElementTree.Element, suite: str) -> ElementTree.Element:
    found = root.find(f"./testsuite[@name='{suite}']")
    assert found is not None
    (case,) = found.findall("testcase")
    return case


def _covers(case: ElementTree.Element) -> str:
    """What a case's time covers, as it says in its `time` property."""
    said = [prop.get("value", "") for prop in case.iterfind("properties/property[@name='time']")]
    assert len(said) == 1, "each case says once what its time covers"
    return said[0]


def test_a_fixed_implementation_that_holds_passes_a_case_named_for_each_promise() -> None:
    root = _render(_findings(_impl("PluginAPI", "api", None)))
    assert _suite(root, FIXED) == [
        ("fixed", "PluginAPI: never crashes", "passed", None),
        ("fixed", "PluginAPI: survival holds", "passed", None),
        ("fixed", "PluginAPI: no-stale holds", "passed", None),
        ("fixed", "PluginAPI: checked-downcast holds", "passed", None),
        ("fixed", "PluginAPI: released holds", "passed", None),
    ]
    assert _stated(root) == {"tests": 5, "failures": 0, "errors": 0, "skipped": 0}


def test_a_not_applicable_property_is_skipped_named_as_not_applicable() -> None:
    """A bare store has no typed fetch: its `checked-downcast` case is skipped, saying why,
    and named for it; it does not pass, as if something had been checked, nor is it named
    as a promise that holds."""
    root = _render(_findings(_impl("ContextStore", "store", None)))
    cases = _suite(root, FIXED)
    assert cases[3] == (
        "fixed", "ContextStore: checked-downcast not applicable", "skipped", NOT_APPLICABLE
    )  # fmt: skip
    assert NOT_APPLICABLE == "not applicable: a bare store has no typed fetch to check"
    assert [outcome for _, _, outcome, _ in cases] == ["passed"] * 3 + ["skipped", "passed"]
    assert _stated(root) == {"tests": 5, "failures": 0, "errors": 0, "skipped": 1}


def test_a_fixed_implementation_that_breaks_a_property_fails_that_promise() -> None:
    """The broken promise fails, its message the diagnosis, its text the steps and the
    detail; the properties after it are skipped as not judged, saying why and in what
    order the contract judges."""
    root = _render(_findings(_impl("ContextStore", "store", None, broken="no-stale")))
    diagnosis = "the store returned an equal copy, not the object stored"
    assert _suite(root, FIXED) == [
        ("fixed", "ContextStore: never crashes", "passed", None),
        ("fixed", "ContextStore: survival holds", "passed", None),
        ("fixed", "ContextStore: no-stale holds", "failed",
         f"the fixed ContextStore broke no-stale: {diagnosis}"),
        ("fixed", "ContextStore: checked-downcast not applicable", "skipped", NOT_APPLICABLE),
        ("fixed", "ContextStore: released not judged", "skipped",
         f"{NOT_JUDGED}; ContextStore broke no-stale"),
    ]  # fmt: skip
    failure = root.find(".//failure")
    assert failure is not None
    assert failure.text == f"Steps:\n    {STEPS[0]}\n    {STEPS[1]}\n\n{DETAIL}\n"
    assert _stated(root) == {"tests": 5, "failures": 1, "errors": 0, "skipped": 2}


def test_a_mutant_caught_as_declared_is_one_passing_case_named_for_what_happened() -> None:
    """`weakref: caught by survival` passes; the mutant's other properties are no cases
    of their own (none is a promise), but its output gives each one's cell and why those
    not judged were not."""
    root = _render(_findings(_impl("weakref", "store", "survival", broken="survival")))
    assert _suite(root, MUTANTS) == [("mutants", "weakref: caught by survival", "passed", None)]
    assert _stated(root) == {"tests": 1, "failures": 0, "errors": 0, "skipped": 0}
    output = _only_case(root, MUTANTS).findtext("system-out")
    assert output is not None
    assert output.startswith(
        "crash: held\nsurvival: violated\nno-stale: not judged\n"
        f"checked-downcast: {NOT_APPLICABLE}\nreleased: not judged\n"
        f"{NOT_JUDGED}; weakref broke survival\n\nSteps:\n    {STEPS[0]}\n"
    )


def test_an_escaped_mutant_fails_saying_what_the_contract_found_instead() -> None:
    root = _render(_findings(_impl("weakref", "store", "survival")))
    found = (
        "crash held, survival held, no-stale held, checked-downcast not applicable, released held"
    )
    assert _suite(root, MUTANTS) == [
        ("mutants", "weakref: ESCAPED, survival did not catch it", "failed",
         f"survival did not catch weakref: the contract found no broken property ({found})"),
    ]  # fmt: skip
    assert _stated(root) == {"tests": 1, "failures": 1, "errors": 0, "skipped": 0}


@pytest.mark.parametrize(
    ("declared", "broken", "said"),
    [
        ("no-stale", "survival", f"no-stale was not judged: {NOT_JUDGED[len('not judged: ') :]}"),
        ("survival", "released", "survival held"),
    ],
    ids=["caught before its own", "its own held"],
)
def test_a_mutant_caught_by_another_property_fails_naming_both(
    declared: str, broken: str, said: str
) -> None:
    root = _render(_findings(_impl("copying", "api", declared, broken=broken)))
    assert _suite(root, MUTANTS) == [
        ("mutants", f"copying: caught by {broken}, not by {declared}", "failed",
         f"copying declares {declared}, but the contract found {broken} broken; {said}"),
    ]  # fmt: skip
    failure = root.find(".//failure")
    assert failure is not None
    assert failure.text is not None
    assert f"{broken}: violated\n" in failure.text
    assert DETAIL in failure.text
    assert _stated(root) == {"tests": 1, "failures": 1, "errors": 0, "skipped": 0}


def test_lessons_pass_when_shown_fail_when_not_and_are_skipped_when_not_run() -> None:
    lessons = tuple(
        _lesson(f"lesson-{state}", state) for state in ("shown", "not-shown", "not-run")
    )
    root = _render(_findings(lessons=lessons))
    assert _suite(root, LESSONS_SUITE) == [
        ("lessons", "lesson-shown: shows what it claims", "passed", None),
        ("lessons", "lesson-not-shown: shows what it claims", "failed",
         "lesson lesson-not-shown did not show what it claims: The lesson-not-shown lesson"),
        ("lessons", "lesson-not-run: shows what it claims", "skipped",
         "not run: nim is not installed"),
    ]  # fmt: skip
    failure = root.find(".//failure")
    assert failure is not None
    assert failure.text == (
        "broken: it crashed\nfixed: it ran\nthe contract catches it with survival"
    )
    assert _stated(root) == {"tests": 3, "failures": 1, "errors": 0, "skipped": 1}


def test_a_cell_the_report_does_not_know_is_an_error_not_a_pass() -> None:
    impl = _impl("PluginAPI", "api", None)
    impl = dataclasses.replace(impl, cells={**impl.cells, "released": "maybe"})
    root = _render(_findings(impl))
    assert _suite(root, FIXED)[-1] == (
        "fixed", "PluginAPI: released holds", "error", "no verdict: the cell is maybe"
    )  # fmt: skip
    assert _stated(root) == {"tests": 5, "failures": 0, "errors": 1, "skipped": 0}


IMPLEMENTATIONS = {
    "fixed holds": _impl("ContextStore", "store", None),
    "fixed broken": _impl("PluginAPI", "api", None, broken="survival"),
    "mutant caught": _impl("weakref", "store", "survival", broken="survival"),
    "mutant escaped": _impl("leaky", "store", "released"),
    "mutant caught by another": _impl("lru", "store", "no-stale", broken="survival"),
}
LESSONS = {state: _lesson(f"lesson-{state}", state) for state in ("shown", "not-shown", "not-run")}


@pytest.mark.parametrize(
    "chosen",
    [
        combination
        for size in (1, 2, 5)
        for combination in itertools.combinations([*IMPLEMENTATIONS, *LESSONS], size)
    ],
    ids="+".join,
)
def test_junit_fails_exactly_when_the_report_does(chosen: tuple[str, ...]) -> None:
    """Whatever the mix, junit.xml has a failure for each problem the report names, and
    none when the report passes; `_render` checks every count."""
    findings = _findings(
        *(IMPLEMENTATIONS[name] for name in chosen if name in IMPLEMENTATIONS),
        lessons=tuple(LESSONS[name] for name in chosen if name in LESSONS),
    )
    root = _render(findings)
    assert int(root.attrib["failures"]) == len(findings.problems)
    assert int(root.attrib["errors"]) == 0


def test_the_cases_are_grouped_in_three_suites_by_what_they_judge() -> None:
    """Not a suite per implementation (32 for the catalogue): the fixed implementations'
    promises, the mutants' verdicts and the lessons, each suite holding its own kind."""
    findings = _findings(
        *IMPLEMENTATIONS.values(), _impl("copying", "store", "no-stale", broken="no-stale"),
        lessons=tuple(LESSONS.values()),
    )  # fmt: skip
    root = _render(findings)
    suites = root.findall("testsuite")
    assert [suite.get("name") for suite in suites] == [FIXED, MUTANTS, LESSONS_SUITE]
    classnames = {suite.get("name"): {case.get("classname") for case in suite} for suite in suites}
    assert classnames == {FIXED: {"fixed"}, MUTANTS: {"mutants"}, LESSONS_SUITE: {"lessons"}}
    assert [len(suite) for suite in suites] == [2 * len(PROPERTIES), 4, 3]


def test_a_suite_with_no_case_is_left_out() -> None:
    root = _render(_findings(_impl("PluginAPI", "api", None)))
    assert [suite.get("name") for suite in root.findall("testsuite")] == [FIXED]


def test_a_mutants_case_has_its_own_runs_time_and_says_what_it_covers() -> None:
    caught = dataclasses.replace(
        _impl("weakref", "store", "survival", broken="survival"), seconds=4.383
    )
    escaped = dataclasses.replace(_impl("leaky", "store", "released"), seconds=1.25)
    root = _render(_findings(caught, escaped))
    first, second = root.findall("./testsuite/testcase")
    assert (first.get("time"), second.get("time")) == ("4.383", "1.250")
    assert _covers(first) == (
        "the contract's whole run on weakref: 10 examples, the first violation seen at "
        "example 3 after 0.100 s, then shrunk"
    )
    assert _covers(second) == "the contract's whole run on leaky: 10 examples"
    suite = root.find(f"./testsuite[@name='{MUTANTS}']")
    assert suite is not None
    assert suite.get("time") == "5.633", "a suite's time is the sum of its runs"


def test_a_fixed_promise_is_not_given_a_share_of_the_run_it_was_judged_in() -> None:
    """The contract judges every property of an implementation in one run: no promise has
    a time of its own, so none gets one (not the run's time divided by five); each says
    why. A broken promise has its own: how long until the contract first saw it."""
    holds = dataclasses.replace(_impl("ContextStore", "store", None), seconds=4.5)
    broken = _impl("PluginAPI", "api", None, broken="no-stale")
    root = _render(_findings(holds, broken))
    cases = root.findall(f"./testsuite[@name='{FIXED}']/testcase")
    timed = {case.get("name"): case.get("time") for case in cases if case.get("time")}
    assert timed == {"PluginAPI: no-stale holds": "0.100"}
    assert _covers(cases[0]) == (
        "not timed alone: one contract run judged every property of ContextStore at once "
        "(10 examples, 4.500 s, counted once in the suite's time)"
    )
    assert _covers(cases[7]).startswith(
        "until the contract first saw no-stale broken, at example 3 of a run"
    )
    suite = root.find(f"./testsuite[@name='{FIXED}']")
    assert suite is not None
    assert (suite.get("time"), root.get("time")) == ("5.000", "5.000")


def test_a_lessons_case_has_its_runs_time() -> None:
    lessons = (_lesson("shown", "shown", 1.5), _lesson("unmeasured", "shown", None))
    root = _render(_findings(lessons=lessons))
    measured, unmeasured = root.findall("./testsuite/testcase")
    assert measured.get("time") == "1.500"
    assert _covers(measured) == (
        "the lesson's live run: both halves, and the contract where it has one"
    )
    assert unmeasured.get("time") is None
    assert _covers(unmeasured) == "not measured"
