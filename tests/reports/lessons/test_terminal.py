"""The lessons read as terminal text: plain when piped or with NO_COLOR (no Markdown marks),
highlighted on a terminal; the closing table fits in 100 columns, nothing cut, under
columns that say what they mean, and the last line says what happened in plain words."""

from __future__ import annotations

import inspect
import io
import os
import pty
import re
import subprocess
import sys
import time
from collections.abc import Sequence

import pytest

from refimpl.contract import PROPERTIES, ContractMachine
from reports.lessons import LESSONS, Lesson, LessonRun, Outcome
from reports.lessons._glossary import (
    ARGUMENTS,
    PROPERTIES_SAID,
    STEPS,
    explain_story,
    story_lines,
    words_in,
)
from reports.lessons._summary import COLUMNS, summary_line, summary_table
from reports.lessons._terminal import Block, Terminal, wants_color

STORY = (
    "from refimpl.contract import replay; state = replay('m:f', judged=('crash', 'survival'))",
    "state.store(name='a', state='counter', seed=0, keep=True)  # store.set_plugin_data('a', "
    "PluginContext[Counter]('a', Counter(count=0)))",
    "state.recycle(name='a', state='counter', seed=0, keep=False)  # store.remove_plugin_data("
    "'a'); store.set_plugin_data('a', PluginContext[Counter]('a', Counter(count=0))) at its "
    "old address, if freed, and nothing else keeps it",
)
ESCAPE = "\x1b["


def _run(
    lesson: Lesson, broken: str, *, shown: bool = True, not_run: str | None = None
) -> LessonRun:
    fixed = Outcome(not shown, "held")
    prop = lesson.contract.catches if lesson.contract else None
    return LessonRun(lesson, Outcome(shown, broken), fixed, prop, (), not_run=not_run)


def test_plain_text_has_no_markdown_and_drops_code_span_backticks() -> None:
    out = io.StringIO()
    Terminal(out, color=False, width=80).write(
        [
            Block("title", "1. A title"),
            Block("text", "Frees the context the moment `set_context` returns. " * 4),
            Block("code", "# a comment\ndef f() -> None:\n    pass", "python"),
            Block("terms", terms=(("keep=", "whether the contract keeps a reference"),)),
        ]
    )
    text = out.getvalue()
    assert "`" not in text
    assert "```" not in text
    assert "**" not in text
    assert not [line for line in text.splitlines() if line.startswith("#")]
    assert "    # a comment\n    def f() -> None:\n        pass\n" in text
    assert "the moment set_context returns" in text
    assert max(len(line) for line in text.splitlines()) <= 80
    assert ESCAPE not in text


def test_code_is_highlighted_when_colour_is_wanted() -> None:
    out = io.StringIO()
    Terminal(out, color=True, width=80).write([Block("code", "def f() -> None: pass", "python")])
    assert ESCAPE in out.getvalue()
    assert re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue()).strip() == "def f() -> None: pass"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("tty", "no_color", "choice", "wanted"),
    [
        (True, None, "auto", True),
        (False, None, "auto", False),
        (True, "1", "auto", False),
        (True, "", "auto", True),  # NO_COLOR set but empty: as unset (no-color.org)
        (False, None, "always", True),
        (True, None, "never", False),
    ],
)
def test_colour_only_on_a_terminal_without_no_color(
    tty: bool, no_color: str | None, choice: str, wanted: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TERM", raising=False)
    if no_color is None:
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        monkeypatch.setenv("NO_COLOR", no_color)
    stream = _Tty() if tty else io.StringIO()
    assert wants_color(stream, choice) is wanted


def _on_a_terminal(arguments: Sequence[str], **environment: str) -> str:
    """What `python -m reports.lessons ARGUMENTS` writes to a pseudo-terminal."""
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS")}
    env.update(TERM="xterm-256color", **environment)
    process = subprocess.Popen(
        [sys.executable, "-m", "reports.lessons", *arguments],
        stdout=follower, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    os.close(follower)
    chunks = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the follower side closed: the process is done
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=60) == 0
    return b"".join(chunks).decode("utf-8", "replace")


def test_on_a_terminal_the_code_is_highlighted_unless_no_color() -> None:
    assert ESCAPE in _on_a_terminal(["--verbose", "cycles"])
    assert ESCAPE not in _on_a_terminal(["--verbose", "cycles"], NO_COLOR="1")


def test_the_closing_table_fits_in_100_columns_and_cuts_nothing() -> None:
    long = "a very long account of what went wrong, " * 6 + "and a-word-longer-than-any-column-" * 3
    runs = [_run(lesson, long) for lesson in LESSONS]
    table = summary_table(runs)
    lines = table.splitlines()
    assert lines[0].split() == [word for column in COLUMNS for word in column.split()]
    assert max(len(line) for line in lines) <= 100
    assert "..." not in table
    assert "\u2026" not in table
    start, end = lines[0].index("what the bug did"), lines[0].index("caught by")
    rows: list[list[str]] = []
    for line in lines[1:]:
        if line[:3].strip():  # a lesson's first line; the others continue its text
            rows.append([])
        rows[-1].append(line[start:end])
    assert len(rows) == len(LESSONS)
    for row in rows:  # the whole text, in its column, in order
        assert "".join("".join(row).split()) == "".join(long.split())
    assert [line.split()[1] for line in lines[1:] if line[:3].strip()] == [
        lesson.name for lesson in LESSONS
    ]


def test_the_table_says_not_run_and_no_where_it_must() -> None:
    lesson = LESSONS[0]
    not_run = _run(lesson, "x", not_run="blinker is not installed here: pip install 'blinker==1'")
    failed = _run(lesson, "nothing happened", shown=False)
    rows = summary_table([not_run, failed]).splitlines()
    assert rows[1].split()[2:7] == ["-", "-", "not", "run", "here:"]
    assert "pip install 'blinker==1'" in " ".join(summary_table([not_run]).split())
    assert rows[-1].split()[2:4] == ["NO", "NO"]


@pytest.mark.parametrize(
    ("states", "said"),
    [
        (["shown"] * 3, "All 3 lessons ran: in each, the bug showed and the fix held."),
        (["shown"], "The lesson ran: the bug showed and the fix held."),
        (
            ["shown", "not-run", "not-run"],
            "1 of 3 lessons showed their bug and their fix; 2 could not run here: "
            "untracked-pointer, untracked-pointer (why: above).",
        ),
        (
            ["shown", "not-shown"],
            "1 of 2 lessons showed their bug and their fix; 1 did NOT show what it claims: "
            "untracked-pointer.",
        ),
    ],
)
def test_the_summary_line_says_what_happened_in_plain_words(states: list[str], said: str) -> None:
    lesson = LESSONS[0]
    runs = [
        _run(lesson, "x", shown=state != "not-shown", not_run="why" if state == "not-run" else None)
        for state in states
    ]
    assert summary_line(runs) == said


def test_every_step_of_the_contract_has_a_glossary_entry() -> None:
    rules = {
        name
        for name, value in inspect.getmembers(ContractMachine)
        if getattr(value, "hypothesis_stateful_rule", None) is not None
    }
    assert rules == set(STEPS), "a step the glossary does not explain, or one gone"


def test_every_property_of_the_contract_has_a_glossary_entry() -> None:
    assert set(PROPERTIES_SAID) == set(PROPERTIES), "a property the glossary does not explain"
    told = explain_story(STORY, caught="survival")
    assert "  survival " in told
    assert told.index("  survival ") < told.index("  state. "), "the property comes first"


def test_a_story_reads_with_its_comments_above_and_its_words_explained() -> None:
    lines = story_lines(STORY, width=60)
    assert lines[:2] == [
        "from refimpl.contract import replay",
        "state = replay('m:f', judged=('crash', 'survival'))",
    ]
    assert lines[-1] == "state.recycle(name='a', state='counter', seed=0, keep=False)"
    assert all(len(line) <= 60 for line in lines if line.startswith("#"))
    assert words_in(STORY) == [
        "state.", "name=", "state=", "seed=", "keep=", "judged=", "store", "recycle",
    ]  # fmt: skip
    told = explain_story(STORY)
    for word in ("state.", "keep=", "seed=", "judged=", "recycle"):
        assert f"  {word} " in told, word
    assert ARGUMENTS["keep="] in " ".join(told.split())
    compile("\n".join(lines), "story", "exec")  # still Python
