"""How a step of the contract reads: a runnable line, and what it does in the target's own terms.

Every step is a call on the replaying state machine (`state.store(name='a', ...)`),
so a story replays as it is; its comment says what that step does to the code under
test, spelled as that code is used: `store['a'] = ...` for a mapping,
`store.set_plugin_data('a', ...)` for a store, `api.set_context('a', ...)` for an API.
"""

from __future__ import annotations

from typing import Any

from refimpl.contract._states import STATE_TYPES, make_state

__all__ = ["spoken", "step_line"]

NOISE = 16
"""How many unrelated contexts `churn` allocates, to take over freed addresses."""


def step_line(rule: str, arguments: dict[str, Any], terms: str) -> str:
    """The runnable line for one step, with a comment in `terms` (store, mapping, api)."""
    spelled = ", ".join(f"{key}={value!r}" for key, value in arguments.items())
    return f"state.{rule}({spelled})  # {_says(rule, arguments, terms)}"


def spoken(terms: str, operation: str, name: object, value: str = "...") -> str:
    """One call to the target as its user writes it: `operation` is `get`, `set` or
    `remove` (`store.get('a')` for a mapping, `store.get_plugin_data('a')` for a store)."""
    if operation == "get":
        return _get(terms, name)
    if operation == "set":
        return _set(terms, name, value)
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
    if rule == "mutate":
        return f"{_get(terms, name)}.data changes in place (a plugin at work)"
    if rule == "remove":
        return f"{_remove(terms, name)} twice: the second finds nothing, and does nothing"
    if rule == "second_store":
        return "a second store from the same factory: it must start empty"
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
        t = STATE_TYPES[a["state"]].__name__
        return f"api.get_context({name!r}, {t}) with nothing stored: a new default{kept}"
    if rule == "fetch":
        return f"api.get_context({name!r}, its type) must return the very context stored"
    if rule == "fetch_wrong":
        t = STATE_TYPES[a["state"]].__name__
        return f"api.get_context({name!r}, {t}), not its type: must raise ContextTypeError"
    return rule


def _context(a: dict[str, Any], name: object = None) -> str:
    t = STATE_TYPES[a["state"]].__name__
    data = repr(make_state(a["state"], a["seed"]))
    return f"PluginContext[{t}]({name if name is not None else a['name']!r}, {data})"


def _set(terms: str, name: object, value: str) -> str:
    if terms.startswith("mapping"):
        return f"store[{name!r}] = {value}"
    return f"{_who(terms)}.set_plugin_data({name!r}, {value})"


def _get(terms: str, name: object) -> str:
    if terms.startswith("mapping"):
        return f"store[{name!r}]" if "+index" in terms else f"store.get({name!r})"
    return f"{_who(terms)}.get_plugin_data({name!r})"


def _remove(terms: str, name: object) -> str:
    if terms.startswith("mapping"):
        return f"store.pop({name!r}, None)" if "+pop" in terms else f"del store[{name!r}]"
    return f"{_who(terms)}.remove_plugin_data({name!r})"


def _who(terms: str) -> str:
    return "api" if terms == "api" else "store"
