"""How a step of the contract reads: a runnable line, and what it does in the target's own terms.

Every step is a call on the replaying state machine (`state.store(name='a', ...)`),
so a story replays as it is; its comment says what that step does to the code under
test, spelled as that code is used: `store['a'] = ...` for a mapping,
`store.set_plugin_data('a', ...)` for a store, `api.set_context('a', ...)` for an API.
"""

from __future__ import annotations

from typing import Any

from refimpl._context import type_label
from refimpl.contract._states import ALL_STATE_TYPES, make_state

__all__ = ["spell", "spoken", "step_line"]

NOISE = 16
"""How many unrelated contexts `churn` allocates, to take over freed addresses."""


def step_line(rule: str, arguments: dict[str, Any], terms: str) -> str:
    """The runnable line for one step, with a comment in `terms` (store, mapping, api)."""
    spelled = ", ".join(f"{key}={spell(value)}" for key, value in arguments.items())
    return f"state.{rule}({spelled})  # {_says(rule, arguments, terms)}"


def spell(value: object) -> str:
    """`repr(value)`, with every character outside ASCII in a string written as its escape
    (`'\\u00e9'`, `'e\\u0301'`), so that names that print alike read apart; a tuple's
    strings too. Still a Python literal of the same value."""
    if isinstance(value, tuple):
        inner = ", ".join(spell(item) for item in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if not isinstance(value, str) or value.isascii():
        return repr(value)
    return "".join(c if c.isascii() else _escape(c) for c in repr(value))


def _escape(character: str) -> str:
    code = ord(character)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def spoken(terms: str, operation: str, name: object, value: str = "...") -> str:
    """One call to the target as its user writes it: `operation` is `get`, `set`,
    `setdefault` or `remove` (`store.get('a')` for a mapping, `store.get_plugin_data('a')`
    for a store)."""
    if operation == "get":
        return _get(terms, name)
    if operation == "set":
        return _set(terms, name, value)
    if operation == "setdefault":
        return _setdefault(terms, name, value)
    return _remove(terms, name)


def _says(rule: str, a: dict[str, Any], terms: str) -> str:
    name = a.get("name")
    kept = "" if a.get("keep", True) else ", and nothing else keeps it"
    if rule in ("store", "replace"):
        return _set(terms, name, _context(a)) + kept
    if rule == "recycle":
        removed = _remove(terms, name)
        return f"{removed}; {_set(terms, name, _context(a))} at its old address, if freed{kept}"
    if rule == "store_equal":
        return _set(terms, name, "a new context == the one it holds, not it") + (
            ", and nothing else keeps it"
        )
    if rule == "store_all":
        first, *rest = a["names"]
        others = f", and so on up to {rest[-1]!r}" if rest else ""
        return _set(terms, first, _context(a, first)) + others + " (all kept)"
    if rule == "store_lookalikes":
        first, second = a["pair"]
        return (
            f"{_set(terms, first, _context(a, first))}; "
            f"{_set(terms, second, _context(a, second))} (both plugins keep running)"
        )
    if rule == "store_generic":
        return _set(terms, name, _context(a)) + kept
    if rule == "store_default":
        return _setdefault(terms, name, _context(a)) + kept
    if rule == "update":
        return f"store.update({{{spell(name)}: {_context(a)}}}){kept}"
    if rule == "pop":
        return (
            f"store.pop({spell(name)}) if it holds one (then dropped), "
            f"else store.pop({spell(name)}, None); if it raises, {_remove(terms, name)}"
        )
    if rule == "popitem":
        return (
            "store.popitem(), which holds one item: it must return that item (then dropped); "
            "if it raises, the item is removed as any other"
        )
    if rule == "clear":
        return "store.clear(); if it raises, each item is removed as any other"
    if rule == "mutate":
        return f"{_get(terms, name)}.data changes in place (a plugin at work)"
    if rule == "remove":
        return f"{_remove(terms, name)} twice: the second finds nothing, and does nothing"
    if rule == "remove_absent":
        return f"{_remove(terms, name)}, which holds nothing: nothing changes"
    if rule == "second_store":
        return "a second store from the same factory: it must start empty"
    if rule == "reopen":
        return "close the store, then build the next from the factory: it must start empty"
    if rule == "drop_refs":
        return "drop every reference outside the store"
    if rule == "collect":
        return "gc.collect()"
    if rule == "churn":
        return f"allocate {NOISE} unrelated objects, so that freed addresses are reused"
    if rule == "set_context":
        data = repr(make_state(a["state"], a["seed"]))
        return f"api.set_context({name!r}, {data}){kept}"
    if rule == "get_default":
        t = _type(a["state"])
        return f"api.get_context({spell(name)}, {t}) with nothing stored: a new default{kept}"
    if rule == "fetch":
        return f"api.get_context({spell(name)}, its type) must return the very context stored"
    if rule == "fetch_wrong":
        t = _type(a["state"])
        return f"api.get_context({spell(name)}, {t}), not its type: must raise ContextTypeError"
    return rule


def _type(state: str) -> str:
    return type_label(ALL_STATE_TYPES[state])


def _context(a: dict[str, Any], name: object = None) -> str:
    data = repr(make_state(a["state"], a["seed"]))
    named = spell(name if name is not None else a["name"])
    return f"PluginContext[{_type(a['state'])}]({named}, {data})"


def _set(terms: str, name: object, value: str) -> str:
    if terms.startswith("mapping"):
        return f"store[{spell(name)}] = {value}"
    return f"{_who(terms)}.set_plugin_data({spell(name)}, {value})"


def _setdefault(terms: str, name: object, value: str) -> str:
    if terms.startswith("mapping"):
        return f"store.setdefault({spell(name)}, {value})"
    return f"{_who(terms)}.setdefault_plugin_data({spell(name)}, {value})"


def _get(terms: str, name: object) -> str:
    if terms.startswith("mapping"):
        return f"store[{spell(name)}]" if "+index" in terms else f"store.get({spell(name)})"
    return f"{_who(terms)}.get_plugin_data({spell(name)})"


def _remove(terms: str, name: object) -> str:
    if terms.startswith("mapping"):
        removal = "store.pop({}, None)" if "+pop" in terms.split("/")[0] else "del store[{}]"
        return removal.format(spell(name))
    return f"{_who(terms)}.remove_plugin_data({spell(name)})"


def _who(terms: str) -> str:
    return "api" if terms.split("/")[0] == "api" else "store"
