"""What a violation shows: objects described without keeping them, stacks, reference chains."""

from __future__ import annotations

import collections
import gc
import os
import types
from collections.abc import Iterable, Iterator
from itertools import islice
from types import FrameType
from typing import TypeVar

import objgraph

from refimpl.support.frames import CONTRACT_DIR, is_harness_code, is_worker_entry

__all__ = ["CONTRACT_DIR", "describe", "describe_bare", "describe_error", "held_by", "where"]

_T = TypeVar("_T")

MAX_FRAMES = 6
MAX_MESSAGE = 500
_MAX_KEY = 40
_MAX_SCAN = 100_000  # items looked at per container when naming a link
_MAX_REFERRERS = 10

_ONLY_HARNESS = (
    "    (only harness frames: the contract itself dropped the last reference, in its own "
    "code; no frame of the store or of your code was on the stack)"
)


def describe(obj: object) -> str:
    """Say what `obj` is, with its article, without keeping a reference to it.

    `a PluginContext[Counter] of plugin 'a' at 0x7f…`, `an UntrackedStore at 0x7f…`,
    `the class mypkg.Foo`, `the function mypkg.make_store`, `None`.
    """
    bare = describe_bare(obj)
    if obj is None:
        return bare
    if _is_named(obj):
        return f"the {bare}"
    return f"{'an' if bare[:1].lower() in 'aeiou' else 'a'} {bare}"


def describe_bare(obj: object) -> str:
    """`describe(obj)` without its article, for the caller's own: f"the {describe_bare(x)}".

    `PluginContext[Counter] of plugin 'a' at 0x7f…`, `class mypkg.Foo`, `function f`.
    Never raises, whatever `obj`'s attributes do.
    """
    try:
        if obj is None:
            return "None"
        if isinstance(obj, type):
            return f"class {_qualified(obj)}"
        if isinstance(obj, types.FunctionType):
            return f"function {_qualified(obj)}"
        if isinstance(obj, types.MethodType):
            return f"method {_qualified(obj.__func__)} of {describe(obj.__self__)}"
        if isinstance(obj, types.BuiltinFunctionType):
            owner = obj.__self__
            if owner is None or isinstance(owner, types.ModuleType):
                return f"built-in function {_qualified(obj)}"
            return f"built-in method {obj.__qualname__} of {describe(owner)}"
        return f"{_kind(obj)} at {id(obj):#x}"
    except Exception:  # a hostile attribute must not hide the violation being reported
        return f"{type(obj).__name__} at {id(obj):#x}"


def _is_named(obj: object) -> bool:
    """Whether `obj` is one of a kind (a class, a function), so takes "the", not "a"."""
    return isinstance(obj, type | types.FunctionType | types.MethodType | types.BuiltinFunctionType)


def _qualified(named: object) -> str:
    """`module.Qualname`, or just `Qualname` for builtins."""
    module = getattr(named, "__module__", None)
    qualname = str(getattr(named, "__qualname__", type(named).__name__))
    return qualname if module in (None, "builtins") else f"{module}.{qualname}"


def _kind(obj: object) -> str:
    """The type's name, and the plugin for a context: `PluginContext[Counter] of plugin 'a'`."""
    try:
        owner = getattr(obj, "plugin_name", None)
    except Exception:
        owner = None
    plugin = f" of plugin {owner!r}" if isinstance(owner, str) else ""
    return f"{type(obj).__name__}{plugin}"


def describe_error(error: BaseException) -> str:
    """`Type: message` (the message cut at MAX_MESSAGE characters), or `Type:` and the
    sanitizer report when the error carries one. Never raises."""
    name = type(error).__name__
    try:
        formatted = getattr(getattr(error, "report", None), "format", None)
        if callable(formatted):
            return f"{name}:\n{formatted()}"
        message = str(error)
    except Exception as failure:
        return f"{name}: (its message could not be read: {type(failure).__name__})"
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE] + "…"
    return f"{name}: {message}"


def where(frame: FrameType | None) -> str:
    """The stack from `frame` outwards, innermost first, as report lines.

    Only the store's and the user's frames are shown (at most MAX_FRAMES, numbered from
    #0): the harness's own (this package, Hypothesis, pytest, multiprocessing, threading,
    weakref) are left out, and so is what a worker has below its entry (`WORKER_ENTRY`).
    When nothing is left, one line says so.
    """
    lines: list[str] = []
    while frame is not None and len(lines) < MAX_FRAMES:
        code = frame.f_code
        if is_worker_entry(code):
            break
        if not is_harness_code(code):
            lines.append(
                f"    #{len(lines)} in {code.co_qualname} "
                f"{_short(code.co_filename)}:{frame.f_lineno}"
            )
        frame = frame.f_back
    return "\n".join(lines) or _ONLY_HARNESS


def _short(filename: str) -> str:
    """A path relative to the working directory when it is inside it."""
    relative = os.path.relpath(filename) if os.path.isabs(filename) else filename
    return filename if relative.startswith("..") else relative


def held_by(obj: object, owner: object) -> str:
    """Say who keeps `obj` alive, naming each reference on the way; never raises and
    keeps no reference once it returns.

    The chain from `owner` (found with `objgraph.find_backref_chain`), e.g.
    `held by: LeakyStore._history -> list[3] -> PluginContext[Counter] of plugin 'a'`;
    else the direct referrers, e.g. `no chain from the store was found; it is
    referenced by: dict['a'], list[0]`.
    """
    try:
        return _held_by(obj, owner)
    except Exception as error:  # the violation matters more than who holds it
        return f"who holds it could not be worked out ({type(error).__name__}: {error})"


def _held_by(obj: object, owner: object) -> str:
    text = _chain_text(obj, owner)
    if not text and gc.get_freeze_count():
        # The collector does not show frozen objects' references, and the contract freezes
        # what each example starts with (a class attribute, a module global, an lru_cache):
        # searched again among all of them (slower), and the next example refreezes them.
        gc.unfreeze()
        text = _chain_text(obj, owner)
    if text:
        return text
    referrers = gc.get_referrers(obj)
    labels: list[str] = []
    for referrer in referrers:  # a loop, not a comprehension: that would put obj in a cell
        labels.append(_safe_link([referrer, obj], 0)[0])
    del referrers
    labels.sort()
    if len(labels) > _MAX_REFERRERS:
        labels[_MAX_REFERRERS:] = [f"and {len(labels) - _MAX_REFERRERS} more"]
    return "no chain from the store was found; it is referenced by: " + (
        ", ".join(labels) or "nothing the collector tracks"
    )


def _chain_text(obj: object, owner: object) -> str:
    """The chain from `owner` to `obj` as `held by: ...`, or "" when none is found."""
    chain = objgraph.find_backref_chain(obj, lambda candidate: candidate is owner, max_depth=8)
    text = "held by: " + " -> ".join(_links(chain)) if len(chain) > 1 else ""
    del chain
    return text


def _links(chain: list[object]) -> Iterator[str]:
    """Each link of `chain` (owner first) named with how it refers to the next one."""
    index = 0
    while index < len(chain) - 1:
        label, index = _safe_link(chain, index)
        yield label
    yield _kind(chain[-1])


def _safe_link(chain: list[object], index: int) -> tuple[str, int]:
    """`_link`, degraded to the type's name when a key or attribute misbehaves."""
    try:
        return _link(chain, index)
    except Exception:
        return type(chain[index]).__name__, index + 1


def _link(chain: list[object], index: int) -> tuple[str, int]:
    """Name how `chain[index]` refers to `chain[index + 1]`, and the index of the next
    link to name (past any link folded into this one, like an instance's `__dict__`)."""
    container, target = chain[index], chain[index + 1]
    after = chain[index + 2] if index + 2 < len(chain) else None
    node = _node(container)
    kind = type(container)
    if isinstance(container, dict):
        for key, value in _scan(dict.items(container)):
            if value is target:
                return f"{node}[{_shortened(repr(key))}]", index + 1
            if key is target:
                return f"{node} (a key)", index + 1
    for position, item in enumerate(_scan(_sequence(container))):
        if item is target:
            return f"{node}[{position}]", index + 1
    if isinstance(container, set | frozenset):
        return f"{node} (a member)", index + 1
    if isinstance(container, types.FunctionType) and target is container.__closure__:
        for position, cell in enumerate(container.__closure__ or ()):
            if cell is after:
                variable = container.__code__.co_freevars[position]
                return f"{node} (closure variable {variable!r})", index + 3
    namespace = _namespace(container)
    if namespace is not None:
        if namespace is target and after is not None:
            name = _key_of(namespace, after)
            if name is not None:
                return f"{node}.{name}", index + 2
        name = _key_of(namespace, target)
        if name is not None:
            return f"{node}.{name}", index + 1
    for name in _member_names(container, target):
        return f"{node}.{name}", index + 1
    if kind is target:
        return f"{node}.__class__", index + 1
    return node, index + 1


def _node(obj: object) -> str:
    """A short name for one link of a chain: its type, or what it is when it is named."""
    if isinstance(obj, type):
        return f"class {obj.__qualname__}"
    if isinstance(obj, types.FunctionType):
        return f"function {obj.__qualname__}"
    if isinstance(obj, types.MethodType):
        return f"method {obj.__func__.__qualname__}"
    if isinstance(obj, types.ModuleType):
        return f"module {obj.__name__}"
    return type(obj).__name__


def _scan(items: Iterable[_T]) -> Iterator[_T]:
    return islice(items, _MAX_SCAN)


def _sequence(obj: object) -> Iterator[object]:
    """The items of a list, tuple or deque (their own, whatever a subclass says)."""
    if isinstance(obj, list):
        return list.__iter__(obj)
    if isinstance(obj, tuple):
        return tuple.__iter__(obj)
    if isinstance(obj, collections.deque):
        return collections.deque.__iter__(obj)
    return iter(())


def _shortened(text: str) -> str:
    return text if len(text) <= _MAX_KEY else text[: _MAX_KEY - 1] + "…"


def _namespace(obj: object) -> dict[object, object] | None:
    """The dict that really holds `obj`'s attributes (a class's, under its mappingproxy),
    read through the interpreter's own descriptor, never a `__dict__` property."""
    for klass in type(obj).__mro__:
        descriptor = klass.__dict__.get("__dict__")
        if isinstance(descriptor, types.GetSetDescriptorType | types.MemberDescriptorType):
            namespace = descriptor.__get__(obj, type(obj))
            if isinstance(namespace, types.MappingProxyType):
                (namespace,) = gc.get_referents(namespace)
            return namespace if type(namespace) is dict else None
    return None


def _key_of(namespace: dict[object, object], value: object) -> str | None:
    for key, item in _scan(dict.items(namespace)):
        if item is value:
            return key if isinstance(key, str) else repr(key)
    return None


_ATTRIBUTES: dict[type, tuple[str, ...]] = {  # the built-in ones that are not slots
    types.BuiltinMethodType: ("__self__",),
    types.CellType: ("cell_contents",),
    types.FunctionType: ("__defaults__", "__kwdefaults__"),
}


def _member_names(obj: object, target: object) -> Iterator[str]:
    """The names under which `obj` holds `target` in its slots or built-in attributes."""
    for klass in type(obj).__mro__:
        for name, descriptor in list(klass.__dict__.items()):
            if isinstance(descriptor, types.MemberDescriptorType) and klass is not object:
                try:
                    if descriptor.__get__(obj, klass) is target:
                        yield name
                except AttributeError:  # an empty slot
                    pass
        for name in _ATTRIBUTES.get(klass, ()):
            if getattr(obj, name, None) is target:
                yield name
