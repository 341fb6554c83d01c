"""The words of the contract's stories, in plain language: what `state.`, each step and each
argument mean, so that a student can read `state.recycle(name='a', state='counter', seed=0,
keep=True)` the first time they meet one."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Sequence

__all__ = [
    "ARGUMENTS",
    "PROPERTIES_SAID",
    "STEPS",
    "explain",
    "explain_story",
    "story_lines",
    "words_in",
]

ARGUMENTS: dict[str, str] = {
    "state.": "the contract, replaying the story on a fresh store (the first two lines make "
    "it); each state.STEP(...) line is one step, and the comment above it says what that "
    "step does to the store",
    "api=True": "the story drives an API (get_context, set_context), not a bare store",
    "name=": "the plugin name the step uses ('a', 'b', ... are plugins of their own)",
    "pair=": "two plugin names that differ only in case, spacing, Unicode form or a number",
    "state=": "the kind of state the new context holds: 'counter' is Counter, 'tally' "
    "Tally (a different kind), 'journal' Journal, 'settings' Settings",
    "seed=": "the value that state starts with: Counter(count=seed), Journal(['line seed'])",
    "keep=": "True: the contract keeps its own reference to the new context, as a running "
    "plugin would; False: it keeps none, so only the store can keep the context alive",
    "judged=": "the properties this replay checks: the search found a later property first, "
    "then looked for these earlier ones, so the story stops at the first of them",
}
"""What the story's words other than its steps mean, in the order they are explained."""

STEPS: dict[str, str] = {
    "store": "store a new context under a name (replacing any)",
    "replace": "store a new context under a name that already has one",
    "recycle": "remove a context, then store a new one at the address the old one left "
    "free, as CPython's allocator would if the old one died",
    "store_equal": "store a new context equal (==) to the one stored, but not it, keeping "
    "no reference to it",
    "store_all": "store a context under every name that has none, keeping them all",
    "store_lookalikes": "store a context under each of two look-alike names, for two "
    "plugins that keep running: each name must answer its own",
    "store_default": "store a context unless the name has one (the store's setdefault)",
    "store_generic": "store a context over a generic type such as list[int]",
    "update": "store a new context through the mapping's update()",
    "mutate": "change a stored context's data in place, as a plugin at work does",
    "set_context": "store through the API's own set_context",
    "get_default": "fetch a name that has nothing: the API must make, store and return a default",
    "fetch": "fetch a context as its own type: the very object stored must come back",
    "fetch_wrong": "fetch a context as another type: it must raise ContextTypeError and "
    "change nothing",
    "remove": "remove a stored context (twice: the second finds nothing)",
    "remove_absent": "remove a name that holds nothing: nothing may change",
    "pop": "pop a name through the mapping's pop()",
    "popitem": "pop the one item through the mapping's popitem()",
    "clear": "empty the mapping through its clear()",
    "second_store": "make a second store with the factory: it must start empty",
    "reopen": "close the store and make the next: it must start empty and let go of all",
    "drop_refs": "drop every reference the contract holds: only the store may keep "
    "contexts alive now",
    "collect": "run the garbage collector (gc.collect())",
    "churn": "allocate unrelated objects, so that freed addresses are taken again",
}
"""What each step of the contract (a rule of its state machine) does, in a few words."""

PROPERTIES_SAID: dict[str, str] = {
    "crash": "the property that the code under test never ends the process it runs in (a "
    "signal, abort(), os._exit) nor leaves a call unanswered",
    "survival": "the property that a context the store holds stays alive, with its data, "
    "after every other reference to it is dropped",
    "no-stale": "the property that a fetch answers exactly the object last stored under that "
    "name, or None after removal: not a copy, not an older one, not another plugin's",
    "checked-downcast": "the property that a fetch as the wrong type raises ContextTypeError "
    "and changes nothing",
    "released": "the property that a removed or replaced context is freed once nobody else "
    "holds it, and never while someone does",
}
"""What each contract property promises, for a student meeting its name after "catches it
with" (the README's table says the same at more length)."""

_STEP = re.compile(r"^state\.(\w+)\(")


def words_in(steps: Sequence[str], caught: str | None = None) -> list[str]:
    """The story's words that the glossary explains, in the order it explains them: the
    property it `caught` the bug with (when given), `state.` and the arguments, then each
    step the story takes, once."""
    text = "\n".join(steps)
    found = [word for word in ARGUMENTS if word in text]
    taken = dict.fromkeys(m.group(1) for line in steps if (m := _STEP.match(line)))
    named = [caught] if caught in PROPERTIES_SAID else []
    return named + found + [step for step in taken if step in STEPS]


def explain(words: Iterable[str]) -> list[tuple[str, str]]:
    """Each word with what it means (a property as `survival`, a step's name as `recycle`,
    an argument as `keep=`)."""
    return [
        (word, ARGUMENTS.get(word) or STEPS.get(word) or PROPERTIES_SAID[word]) for word in words
    ]


def story_lines(steps: Sequence[str], width: int = 96) -> list[str]:
    """The story as lines to read: its first line split at `;` (the import, then the
    replay), and each step's comment on the lines above it, wrapped within `width`
    (a step itself is never cut). Still runnable Python."""
    if not steps:
        return []
    setup, *rest = steps
    lines = [part.strip() for part in setup.split("; ", 1)]
    for step in rest:
        code, _, comment = step.partition("  # ")
        if comment:
            wrapped = textwrap.wrap(
                comment, max(width - 2, 20), break_long_words=False, break_on_hyphens=False
            )
            lines += [f"# {part}" for part in wrapped]
        lines.append(code)
    return lines


def explain_story(steps: Sequence[str], width: int = 96, caught: str | None = None) -> str:
    """The story as `story_lines` give it, then what each of its words means (the property
    it `caught` the bug with first, when given), as plain text within `width` (a notebook
    prints it); "" for no story."""
    if not steps:
        return ""
    terms = explain(words_in(steps, caught))
    column = max(len(word) for word, _ in terms) + 2
    meanings = [
        textwrap.fill(
            meaning,
            width,
            initial_indent=f"  {word.ljust(column)}",
            subsequent_indent=" " * (column + 2),
            break_on_hyphens=False,
        )
        for word, meaning in terms
    ]
    return "\n".join([*story_lines(steps, width), "", "How to read it:", *meanings])
