"""The pytest plugin: inert without --store; with it, one item that runs the contract."""

from __future__ import annotations

import itertools

import pytest

from refimpl.contract import ContractViolation
from refimpl.contract.pytest_plugin import FAILURE_MESSAGE, REFUSED_MESSAGE

pytest_plugins = ["pytester"]


def test_without_store_the_plugin_adds_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_one():\n    assert sorted([2, 1]) == [1, 2]\n")
    result = pytester.runpytest_subprocess("-q")
    result.assert_outcomes(passed=1)
    assert "ownership contract" not in result.stdout.str()


def test_fixed_store_passes(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYPOTHESIS_PROFILE", "dev")  # 100 examples: test_contract runs 500
    result = pytester.runpytest_subprocess("-q", "--store", "refimpl:ContextStore")
    result.assert_outcomes(passed=1)
    assert result.ret == 0


def printed_steps(lines: list[str]) -> list[str]:
    """The steps a failing contract item printed: the indented lines after `Steps:`."""
    start = lines.index("Steps:") + 1
    steps = itertools.takewhile(lambda line: line.startswith("    "), lines[start:])
    return [line.removeprefix("    ") for line in steps]


def test_untracked_store_fails_with_the_property_and_steps(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HYPOTHESIS_PROFILE", "ci")  # derandomized, however the suite was run
    result = pytester.runpytest_subprocess("--store", "broken_variant:UntrackedStore")
    assert result.ret == 1
    result.assert_outcomes(failed=1)
    head = FAILURE_MESSAGE.format(spec="broken_variant:UntrackedStore", property="survival")
    result.stdout.fnmatch_lines(["*ownership-contract*", head, "Steps:", "*state = replay(*"])
    # Several stories are equally short (store and keep, then drop_refs; or store without
    # keeping): which one Hypothesis shrinks to depends on its search. Whichever it
    # printed, run as Python it must show the same violation.
    steps = printed_steps(result.stdout.lines)
    assert steps[0] == "from refimpl.contract import replay; state = replay(" + (
        "'broken_variant:UntrackedStore')"
    )
    with pytest.raises(ContractViolation) as replayed:
        exec("\n".join(steps), {})
    assert replayed.value.property == "survival"


def test_header_names_the_store_and_the_hypothesis_settings(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--store", "refimpl:ContextStore", "--co")
    result.stdout.fnmatch_lines(["ownership contract: --store=refimpl:ContextStore; hypothesis *"])


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("refimpl", "is not of the form package.module:factory"),
        ("no_such_module:Store", "cannot import 'no_such_module'"),
        ("refimpl:NoSuchStore", "module 'refimpl' has no 'NoSuchStore'"),
        ("refimpl.contract:PROPERTIES", "'PROPERTIES' is a tuple, not callable"),
    ],
)
def test_a_bad_store_value_is_one_usage_error_line(
    pytester: pytest.Pytester, value: str, problem: str
) -> None:
    result = pytester.runpytest_subprocess("--store", value)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: --store={value}: *{problem}*"])
    assert "Traceback" not in result.stderr.str()


@pytest.mark.parametrize(
    ("spec", "how"),
    [
        ("broken_variant.mutants:SegfaultStore", "killed by signal 11 (SIGSEGV)"),
        ("broken_variant.mutants:ExitingStore", "exited with status 0"),
    ],
)
def test_a_store_that_ends_the_process_is_one_failed_item_naming_how(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, spec: str, how: str
) -> None:
    monkeypatch.setenv("HYPOTHESIS_PROFILE", "ci")
    result = pytester.runpytest_subprocess("--store", spec, "--store-timeout", "2")
    assert result.ret == 1, "a store that ends the process must never look like a pass"
    result.assert_outcomes(failed=1)
    head = FAILURE_MESSAGE.format(spec=spec, property="crash")
    result.stdout.fnmatch_lines([head, "Steps:", "*state = replay(*", f"*{how}*"])


@pytest.mark.parametrize(
    ("factory", "problem"),
    [
        ("lambda: None", "the factory returned None, which has no set_plugin_data, "
         "get_plugin_data, remove_plugin_data"),
    ],
)  # fmt: skip
def test_a_factory_that_cannot_build_a_store_is_one_short_failure(
    pytester: pytest.Pytester, factory: str, problem: str
) -> None:
    pytester.makepyfile(badstore=f"make = {factory}\n")
    result = pytester.runpytest_subprocess("--store", "badstore:make", "-p", "no:cacheprovider")
    assert result.ret == 1
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [REFUSED_MESSAGE.format(spec="badstore:make", problem=f"*{problem}*")]
    )
    assert "site-packages" not in result.stdout.str(), "no pytest internals in the report"


def test_a_bad_store_timeout_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess(
        "--store", "refimpl:ContextStore", "--store-timeout", "soon", "--co"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--store-timeout*'soon' is not a number of seconds*"])
