"""Render findings as JUnit XML that reads the right way round in a CI viewer.

Jenkins, GitLab and the GitHub test reporters show each testcase as `classname.name` with
a pass, a failure or a skip, so each name says what its outcome means:

- A fixed implementation (classname `fixed`) has one testcase per property, named for the
  promise: `ContextStore: survival holds` (`crash` reads backwards as a promise, so its
  case is `ContextStore: never crashes`). It fails when the property was violated, with
  the shrunk steps and the diagnostic. A property the contract did not judge is skipped,
  with the reason, and named for what happened: `ContextStore: checked-downcast not
  applicable` (a bare store has no typed fetch), `PluginAPI: released not judged` (an
  earlier property broke, and the contract stops at the first broken property).
- A mutant (classname `mutants`) has one testcase, its verdict, named for what happened:
  `weakref: caught by survival` passes; `weakref: ESCAPED, survival did not catch it` and
  `weakref: caught by crash, not by survival` fail, the message saying what the contract
  found instead.

  A mutant's other properties get no testcase: none of them is a promise, since a mutant
  is judged only by whether the property it declares catches it. One case per property
  would pass each property the mutant happened to hold before it was caught (`weakref:
  crash` passed, as if the mutant had proved something) and skip each one not judged,
  some eighty skips in a green run, which a CI viewer shows as checks left undone. The
  verdict carries the whole row instead (in `system-out` when it passes, in the failure
  when it does not): each property's cell, why those not judged were not, the steps and
  the diagnostic.
- A lesson (classname `lessons`) has one testcase, `untracked-pointer: shows what it
  claims`: it passes when shown, fails when it ran and did not show it, and is skipped,
  with the reason, when it could not run here (its toolchain is missing).

Three `<testsuite>`s: `fixed implementations`, `mutants` and `lessons` (a suite with no
case is left out). The counts (`tests`, `failures`, `errors`, `skipped`) are on each suite
and, summed, on `<testsuites>`. A cell this module does not know is an `error`, never a
pass. Text reaches the file only through ElementTree's escaping, then `printable` (see
`reports.report._render`).

Times are measured, never shared out. The contract judges all five properties of an
implementation in one run, so a mutant's case (its verdict) has that run's time, search
and shrinking included; a fixed implementation's promises were not timed one by one, so
their cases have none, except a broken one: the time until the contract first saw it
broken. A lesson's case has the time its run took. Each case says what its time covers,
or why it has none, in a `<property name="time">`; a suite's time is the sum of its runs.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence

from reports.output import first_line
from reports.report._authorship import JUNIT_MARK
from reports.report._model import Findings, Implementation, LessonResult
from reports.report._render import printable

__all__ = ["NOT_APPLICABLE", "SUITES", "render_junit"]

NOT_APPLICABLE = "not applicable: a bare store has no typed fetch to check"
"""Why `checked-downcast` is skipped for a bare store."""

SUITES = {"fixed": "fixed implementations", "mutants": "mutants", "lessons": "lessons"}
"""Each suite's name, by the classname of its cases."""

_PROMISES = {"crash": "never crashes"}
"""A fixed implementation's case for a property, where `<property> holds` reads wrong."""

_COUNTED = ("failure", "error", "skipped")


def render_junit(findings: Findings) -> str:
    """junit.xml for `findings`: a suite of the fixed implementations' promises, one of the
    mutants' verdicts, one of the lessons."""
    suites = ElementTree.Element("testsuites", name="ownership contract")
    suite = {name: ElementTree.Element("testsuite", name=name) for name in SUITES.values()}
    seconds = dict.fromkeys(SUITES.values(), 0.0)
    for impl in findings.implementations:
        if impl.expected is None:
            _fixed(suite[SUITES["fixed"]], impl, findings.properties)
            seconds[SUITES["fixed"]] += impl.seconds
        else:
            _mutant(suite[SUITES["mutants"]], impl, impl.expected, findings.properties)
            seconds[SUITES["mutants"]] += impl.seconds
    _lessons(suite[SUITES["lessons"]], findings.lessons)
    seconds[SUITES["lessons"]] = sum(lesson.seconds or 0.0 for lesson in findings.lessons)
    for name, element in suite.items():
        if len(element):
            element.set("time", f"{seconds[name]:.3f}")
            suites.append(element)
    suites.set("time", f"{sum(seconds.values()):.3f}")
    _count(suites)
    suites.insert(0, ElementTree.Comment(JUNIT_MARK.removeprefix("<!--").removesuffix("-->")))
    ElementTree.indent(suites)
    return printable(ElementTree.tostring(suites, encoding="unicode", xml_declaration=True)) + "\n"


def _fixed(suite: ElementTree.Element, impl: Implementation, order: Sequence[str]) -> None:
    """A case per property, named for the promise (or, when skipped, for why): passes where
    it held. Untimed, as the run judged every property at once, but a broken promise: its
    time is how long the contract took to first see it broken."""
    together = (
        f"not timed alone: one contract run judged every property of {impl.name} at once "
        f"({impl.examples} examples, {impl.seconds:.3f} s, counted once in the suite's time)"
    )
    for prop, cell in impl.cells.items():
        if cell == "not-judged":
            case = _case(suite, "fixed", f"{impl.name}: {prop} not judged", None, together)
            ElementTree.SubElement(case, "skipped", message=_not_judged(impl, order))
        elif cell == "not-applicable":
            case = _case(suite, "fixed", f"{impl.name}: {prop} not applicable", None, together)
            ElementTree.SubElement(case, "skipped", message=NOT_APPLICABLE)
        elif cell == "violated" and impl.first_failure_seconds is not None:
            seen = (
                f"until the contract first saw {prop} broken, at example "
                f"{impl.first_failure_examples} of a run that judged every property at once "
                f"({impl.seconds:.3f} s with shrinking, counted in the suite's time)"
            )
            case = _case(suite, "fixed", _promise(impl, prop), impl.first_failure_seconds, seen)
        else:
            case = _case(suite, "fixed", _promise(impl, prop), None, together)
        if cell == "violated":
            message = f"the fixed {impl.name} broke {prop}"
            if impl.violation is not None and (said := first_line(impl.violation.detail)):
                message += f": {said}"
            failure = ElementTree.SubElement(case, "failure", message=message)
            failure.text = _evidence(impl, order, row=False)
        elif cell not in ("held", "not-judged", "not-applicable"):
            ElementTree.SubElement(case, "error", message=f"no verdict: the cell is {cell}")


def _promise(impl: Implementation, prop: str) -> str:
    """The name of a fixed implementation's case for `prop`: `ContextStore: survival holds`."""
    return f"{impl.name}: {_PROMISES.get(prop, f'{prop} holds')}"


def _mutant(
    suite: ElementTree.Element, impl: Implementation, declared: str, order: Sequence[str]
) -> None:
    """One case, the verdict, named for what happened: passes when caught as declared. Its
    time is the contract's whole run on the mutant."""
    violation = impl.violation
    covers = f"the contract's whole run on {impl.name}: {impl.examples} examples"
    if impl.first_failure_seconds is not None:
        covers += (
            f", the first violation seen at example {impl.first_failure_examples} after "
            f"{impl.first_failure_seconds:.3f} s, then shrunk"
        )
    if violation is not None and violation.property == declared:
        case = _case(suite, "mutants", f"{impl.name}: caught by {declared}", impl.seconds, covers)
        ElementTree.SubElement(case, "system-out").text = _evidence(impl, order, row=True)
        return
    if violation is None:
        name = f"{impl.name}: ESCAPED, {declared} did not catch it"
        message = (
            f"{declared} did not catch {impl.name}: the contract found no broken property "
            f"({_row(impl)})"
        )
    else:
        name = f"{impl.name}: caught by {violation.property}, not by {declared}"
        message = (
            f"{impl.name} declares {declared}, but the contract found {violation.property} "
            f"broken; {declared} {_declared_cell(impl, declared, order)}"
        )
    case = _case(suite, "mutants", name, impl.seconds, covers)
    failure = ElementTree.SubElement(case, "failure", message=message)
    failure.text = _evidence(impl, order, row=True)


def _lessons(suite: ElementTree.Element, lessons: Sequence[LessonResult]) -> None:
    """A case per lesson, named for its promise: passes when shown. Its time is the
    lesson's run, when it was measured."""
    for lesson in lessons:
        if lesson.seconds is None:
            covers = "not measured"
        elif lesson.state == "not-run":
            covers = "finding that the lesson cannot run here"
        else:
            covers = "the lesson's live run: both halves, and the contract where it has one"
        name = f"{lesson.name}: shows what it claims"
        case = _case(suite, "lessons", name, lesson.seconds, covers)
        outcome = f"broken: {lesson.broken}\nfixed: {lesson.fixed}"
        if lesson.contract_property is not None:
            outcome += f"\nthe contract catches it with {lesson.contract_property}"
        if lesson.state == "not-run":
            ElementTree.SubElement(case, "skipped", message=f"not run: {lesson.not_run}")
        elif lesson.state == "not-shown":
            message = f"lesson {lesson.name} did not show what it claims: {lesson.title}"
            ElementTree.SubElement(case, "failure", message=message).text = outcome
        else:
            ElementTree.SubElement(case, "system-out").text = outcome


def _case(
    suite: ElementTree.Element, classname: str, name: str, seconds: float | None, covers: str
) -> ElementTree.Element:
    """A testcase with its time, when it has one of its own, and what that time covers
    (or why there is none) as its `time` property."""
    case = ElementTree.SubElement(suite, "testcase", classname=classname, name=name)
    if seconds is not None:
        case.set("time", f"{seconds:.3f}")
    properties = ElementTree.SubElement(case, "properties")
    ElementTree.SubElement(properties, "property", name="time", value=covers)
    return case


def _count(suites: ElementTree.Element) -> None:
    """Set `tests`, `failures`, `errors` and `skipped` on each suite, from its cases, and
    their sums on `suites`."""
    totals = dict.fromkeys(("tests", *_COUNTED), 0)
    for suite in suites.findall("testsuite"):
        cases = suite.findall("testcase")
        counts = {"tests": len(cases)}
        counts |= {tag: sum(case.find(tag) is not None for case in cases) for tag in _COUNTED}
        for tag, count in counts.items():
            totals[tag] += count
            suite.set(_attribute(tag), str(count))
    for tag, count in totals.items():
        suites.set(_attribute(tag), str(count))


def _attribute(tag: str) -> str:
    return {"failure": "failures", "error": "errors"}.get(tag, tag)


def _not_judged(impl: Implementation, order: Sequence[str]) -> str:
    broke = f"; {impl.name} broke {impl.violation.property}" if impl.violation else ""
    return f"not judged: {_STOPS} {', '.join(order)}{broke}"


_STOPS = "the contract stops at the first broken property, in the order"


def _declared_cell(impl: Implementation, declared: str, order: Sequence[str]) -> str:
    """What became of the property a mutant declares, caught by another or by none."""
    cell = impl.cells.get(declared)
    if cell is None:
        return f"is not one of the contract's properties ({', '.join(order)})"
    if cell == "not-judged":
        return f"was not judged: {_STOPS} {', '.join(order)}"
    if cell == "not-applicable":
        return "does not apply to a bare store"
    return cell.replace("-", " ")


def _row(impl: Implementation) -> str:
    """Each property's cell, in one line: `crash held, survival violated, ...`."""
    return ", ".join(f"{prop} {cell.replace('-', ' ')}" for prop, cell in impl.cells.items())


def _evidence(impl: Implementation, order: Sequence[str], *, row: bool) -> str:
    """What the contract found: the row (with the reasons for what was not judged or
    does not apply), then the steps and the diagnostic."""
    lines = []
    if row:
        lines += [
            f"{prop}: {NOT_APPLICABLE if cell == 'not-applicable' else cell.replace('-', ' ')}"
            for prop, cell in impl.cells.items()
        ]
        if "not-judged" in impl.cells.values():
            lines.append(_not_judged(impl, order))
    if impl.violation is not None:
        steps = "\n".join(f"    {step}" for step in impl.violation.steps)
        lines += ["", "Steps:", steps, "", impl.violation.detail]
    return "\n".join(lines).strip("\n") + "\n"
