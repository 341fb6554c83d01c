"""Render findings as JUnit XML that reads the right way round in a CI viewer.

Jenkins, GitLab and the GitHub test reporters show each testcase as `classname.name` with
a pass, a failure or a skip, so each name says what its outcome means:

- A fixed implementation (classname `fixed`) has one testcase per property, named for the
  promise: `ContextStore: survival holds` (`crash` reads backwards as a promise, so its
  case is `ContextStore: never crashes`). It fails when the property was violated, with
  the shrunk steps and the diagnostic; it is skipped, with the reason, when the property
  was not judged (an earlier one broke, and the contract stops at the first broken
  property) or does not apply (`checked-downcast` on a bare store).
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

Each implementation and the lessons are a `<testsuite>`; the counts (`tests`,
`failures`, `errors`, `skipped`) are on each suite and, summed, on `<testsuites>`. A cell
this module does not know is an `error`, never a pass. Text reaches the file only
through ElementTree's escaping, then `printable` (see `reports.report._render`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence

from reports.output import first_line
from reports.report._model import Findings, Implementation, LessonResult
from reports.report._render import printable

__all__ = ["NOT_APPLICABLE", "render_junit"]

NOT_APPLICABLE = "not applicable: a bare store has no typed fetch to check"
"""Why `checked-downcast` is skipped for a bare store."""

_PROMISES = {"crash": "never crashes"}
"""A fixed implementation's case for a property, where `<property> holds` reads wrong."""

_COUNTED = ("failure", "error", "skipped")


def render_junit(findings: Findings) -> str:
    """junit.xml for `findings`: per implementation a suite, then one for the lessons."""
    suites = ElementTree.Element("testsuites", name="ownership contract")
    for impl in findings.implementations:
        suite = ElementTree.SubElement(
            suites, "testsuite", name=impl.name, time=f"{impl.seconds:.3f}"
        )
        if impl.expected is None:
            _fixed(suite, impl, findings.properties)
        else:
            _mutant(suite, impl, impl.expected, findings.properties)
    if findings.lessons:
        _lessons(suites, findings.lessons)
    _count(suites)
    ElementTree.indent(suites)
    return printable(ElementTree.tostring(suites, encoding="unicode", xml_declaration=True)) + "\n"


def _fixed(suite: ElementTree.Element, impl: Implementation, order: Sequence[str]) -> None:
    """A case per property, named for the promise: passes where it held."""
    time = f"{impl.seconds / max(len(impl.cells), 1):.3f}"
    for prop, cell in impl.cells.items():
        promise = _PROMISES.get(prop, f"{prop} holds")
        case = _case(suite, "fixed", f"{impl.name}: {promise}", time)
        if cell == "violated":
            message = f"the fixed {impl.name} broke {prop}"
            if impl.violation is not None and (said := first_line(impl.violation.detail)):
                message += f": {said}"
            failure = ElementTree.SubElement(case, "failure", message=message)
            failure.text = _evidence(impl, order, row=False)
        elif cell == "not-judged":
            ElementTree.SubElement(case, "skipped", message=_not_judged(impl, order))
        elif cell == "not-applicable":
            ElementTree.SubElement(case, "skipped", message=NOT_APPLICABLE)
        elif cell != "held":
            ElementTree.SubElement(case, "error", message=f"no verdict: the cell is {cell}")


def _mutant(
    suite: ElementTree.Element, impl: Implementation, declared: str, order: Sequence[str]
) -> None:
    """One case, the verdict, named for what happened: passes when caught as declared."""
    violation = impl.violation
    if violation is not None and violation.property == declared:
        case = _case(suite, "mutants", f"{impl.name}: caught by {declared}", impl.seconds)
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
    case = _case(suite, "mutants", name, impl.seconds)
    failure = ElementTree.SubElement(case, "failure", message=message)
    failure.text = _evidence(impl, order, row=True)


def _lessons(suites: ElementTree.Element, lessons: Sequence[LessonResult]) -> None:
    """A case per lesson, named for its promise: passes when shown."""
    suite = ElementTree.SubElement(suites, "testsuite", name="lessons")
    for lesson in lessons:
        case = _case(suite, "lessons", f"{lesson.name}: shows what it claims", None)
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
    suite: ElementTree.Element, classname: str, name: str, seconds: str | float | None
) -> ElementTree.Element:
    case = ElementTree.SubElement(suite, "testcase", classname=classname, name=name)
    if seconds is not None:
        case.set("time", seconds if isinstance(seconds, str) else f"{seconds:.3f}")
    return case


def _count(suites: ElementTree.Element) -> None:
    """Set `tests`, `failures`, `errors` and `skipped` on each suite, from its cases, and
    their sums on `suites`."""
    totals = dict.fromkeys(("tests", *_COUNTED), 0)
    for suite in suites.iter("testsuite"):
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
