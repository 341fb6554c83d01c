"""The mutant catalogue: stores and APIs with exactly one ownership bug each.

The contract is only as good as what it catches. Each `Mutant` names its bug
in one line and the property that must catch it; `tests/refimpl/contract/test_contract.py`
asserts that the contract does, with that property, in a short story.
"""

from __future__ import annotations

import copy
import ctypes
import os
import pickle
import threading
import typing
import weakref
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeVar, cast

from broken_variant._api import UncheckedPluginAPI
from broken_variant._store import UntrackedStore
from refimpl import (
    ContextStore,
    ContextTypeError,
    PluginAPI,
    PluginContext,
    PluginContextBase,
    context_class,
)
from refimpl.validate import build_default, check_context, check_name

__all__ = ["MUTANTS", "Mutant"]

T = TypeVar("T")


class _DictStore:
    """Shared plumbing: a checked dict of contexts; each mutant overrides one thing."""

    def __init__(self) -> None:
        self._contexts: dict[str, Any] = {}

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        check_context(check_name(name), data)
        self._contexts[name] = data

    def get_plugin_data(self, name: str) -> PluginContextBase | None:
        return cast(PluginContextBase | None, self._contexts.get(check_name(name)))

    def remove_plugin_data(self, name: str) -> None:
        self._contexts.pop(check_name(name), None)


class RawPointerStore(_DictStore):
    """Keeps `id()` and casts it back with `ctypes`: a real raw pointer, as in the seed,
    which reads freed memory once the context is gone."""

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        check_context(check_name(name), data)
        self._contexts[name] = id(data)

    def get_plugin_data(self, name: str) -> PluginContextBase | None:
        address = self._contexts.get(check_name(name))
        if address is None:
            return None
        return cast(PluginContextBase, ctypes.cast(address, ctypes.py_object).value)


class WeakrefStore(_DictStore):
    """Keeps a `weakref.ref` to each context: nothing keeps it alive."""

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        check_context(check_name(name), data)
        self._contexts[name] = weakref.ref(data)

    def get_plugin_data(self, name: str) -> PluginContextBase | None:
        ref = self._contexts.get(check_name(name))
        return None if ref is None else cast(PluginContextBase | None, ref())


class WeakValueStore(_DictStore):
    """Keeps contexts in a `weakref.WeakValueDictionary`: entries vanish with their last
    outside reference."""

    def __init__(self) -> None:
        self._contexts = cast(dict[str, Any], weakref.WeakValueDictionary())


class CopyingStore(_DictStore):
    """Stores a copy of each context, so a fetch never returns the object stored."""

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        super().set_plugin_data(name, copy.copy(data))


class LeakyStore(_DictStore):
    """Remembers every context it ever held (an 'undo history') and never lets go."""

    def __init__(self) -> None:
        super().__init__()
        self._history: list[PluginContextBase] = []

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        super().set_plugin_data(name, data)
        self._history.append(data)


class IdDedupStore(_DictStore):
    """Skips storing an object whose `id()` it has seen before, taking `id()` for identity;
    CPython reuses the address of a freed context, so a new context is silently dropped."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: set[int] = set()

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        check_context(check_name(name), data)
        if id(data) in self._seen:
            return  # "already stored"
        self._seen.add(id(data))
        self._contexts[name] = data


class LruStore(_DictStore):
    """A bounded cache (two entries, least recently used evicted): a registry is not a cache."""

    CAPACITY: ClassVar[int] = 2

    def __init__(self) -> None:
        self._contexts = OrderedDict()

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        super().set_plugin_data(name, data)
        contexts = cast(OrderedDict[str, Any], self._contexts)
        contexts.move_to_end(name)
        while len(contexts) > self.CAPACITY:
            contexts.popitem(last=False)


class SharedClassDictStore(_DictStore):
    """Keeps contexts in a mutable class attribute, shared by every store instance."""

    _shared: ClassVar[dict[str, Any]] = {}

    def __init__(self) -> None:
        self._contexts = self._shared


class ClearingRemoveStore(_DictStore):
    """`remove_plugin_data` clears the whole table instead of one entry."""

    def remove_plugin_data(self, name: str) -> None:
        check_name(name)
        self._contexts.clear()


_python = ctypes.PyDLL(None)  # its own function objects: `ctypes.pythonapi`'s are shared
_incref = _python.Py_IncRef
_incref.argtypes = [ctypes.c_void_p]
_incref.restype = None
_decref = _python.Py_DecRef
_decref.argtypes = [ctypes.c_void_p]
_decref.restype = None


class CaseFoldingStore(_DictStore):
    """Files each context under its name case-folded (`'Tally'` and `'tally'` are one key),
    as a case-insensitive registry does: two plugins whose names differ only in case share
    one context."""

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        super().set_plugin_data(check_name(name).casefold(), data)

    def get_plugin_data(self, name: str) -> PluginContextBase | None:
        return super().get_plugin_data(check_name(name).casefold())

    def remove_plugin_data(self, name: str) -> None:
        super().remove_plugin_data(check_name(name).casefold())


class IdentityNameStore:
    """Finds a name by identity (`is`), not equality: an equal name built anew (read from
    a file, a socket, a join) is not found, and a second entry is added beside the first."""

    def __init__(self) -> None:
        self._entries: list[tuple[str, PluginContextBase]] = []

    def _index(self, name: str) -> int | None:
        return next((i for i, (n, _) in enumerate(self._entries) if n is name), None)

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        check_context(check_name(name), data)
        index = self._index(name)
        if index is None:
            self._entries.append((name, data))
        else:
            self._entries[index] = (name, data)

    def get_plugin_data(self, name: str) -> PluginContextBase | None:
        index = self._index(name)
        return None if index is None else self._entries[index][1]

    def remove_plugin_data(self, name: str) -> None:
        index = self._index(name)
        if index is not None:
            del self._entries[index]


class LastIndexStore:
    """Keeps names and contexts in two parallel lists; a search that fails answers `-1`,
    and removing a name that holds nothing removes the last entry, another plugin's."""

    def __init__(self) -> None:
        self._names: list[str] = []
        self._contexts: list[PluginContextBase] = []

    def _find(self, name: str) -> int:
        return next((i for i, n in enumerate(self._names) if n == name), -1)

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        name = check_name(name)
        check_context(name, data)
        index = self._find(name)
        if index >= 0:
            self._contexts[index] = data
        else:
            self._names.append(name)
            self._contexts.append(data)

    def get_plugin_data(self, name: str) -> PluginContextBase | None:
        index = self._find(check_name(name))
        return None if index < 0 else self._contexts[index]

    def remove_plugin_data(self, name: str) -> None:
        index = self._find(check_name(name))
        if self._names:  # "nothing to remove" was meant to be the empty store only
            del self._names[index]
            del self._contexts[index]


_SAVED: dict[str, bytes] = {}
"""`PersistingStore`'s file: what the last store closed saved, by the path it saved to."""


class PersistingStore(_DictStore):
    """Saves its contexts when closed and loads them in the next store opened on the same
    file (pickled): one store answers with contexts stored in another, as copies."""

    PATH: ClassVar[str] = "plugins.pickle"

    def __init__(self) -> None:
        super().__init__()
        saved = _SAVED.get(self.PATH)
        if saved is not None:
            self._contexts = pickle.loads(saved)

    def close(self) -> None:
        _SAVED[self.PATH] = pickle.dumps(self._contexts)


class LayeredDefaultStore(_DictStore):
    """Also files each default `setdefault_plugin_data` creates in a layer of defaults,
    which `remove_plugin_data` does not reach: a removed default is still answered."""

    def __init__(self) -> None:
        super().__init__()
        self._defaults: dict[str, PluginContextBase] = {}

    def get_plugin_data(self, name: str) -> PluginContextBase | None:
        found = super().get_plugin_data(name)
        return found if found is not None else self._defaults.get(name)

    def setdefault_plugin_data(self, name: str, data: PluginContextBase) -> PluginContextBase:
        name = check_name(name)
        found = self._contexts.get(name)
        if found is not None:
            return cast(PluginContextBase, found)
        self.set_plugin_data(name, data)
        self._defaults[name] = data
        return data


class PopitemKeepingDict(dict[str, Any]):
    """A dict whose `popitem` keeps a reference to what it pops (as lru-dict's C `LRU.popitem`
    leaks it): an item popped is never freed."""

    def __init__(self) -> None:
        super().__init__()
        self._popped: list[tuple[str, Any]] = []

    def popitem(self) -> tuple[str, Any]:
        item = super().popitem()
        self._popped.append(item)
        return item


class WarmingUpStore:
    """A correct store that installs a faster getter on itself at its second write, over a
    new copy of its table (a warm-up): the getter it replaced still reads the old table."""

    def __init__(self) -> None:
        self._table: dict[str, PluginContextBase] = {}
        self.get_plugin_data: Callable[[str], PluginContextBase | None] = self._table.get
        self.writes = 0

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        self.writes += 1
        self._table[name] = data
        if self.writes == 2:
            self._table = dict(self._table)
            self.get_plugin_data = self._table.get

    def remove_plugin_data(self, name: str) -> None:
        self._table.pop(name, None)


class OverReleaseStore(_DictStore):
    """Keeps addresses and counts references by hand with `Py_IncRef`/`Py_DecRef`, as a C
    extension does, and releases a replaced context once too often: it is freed while its
    owner still holds it."""

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        check_context(check_name(name), data)
        _incref(id(data))
        old = self._contexts.get(name)
        self._contexts[name] = id(data)
        if old is not None:
            _decref(old)
            _decref(old)  # the bug: the reference was released already

    def get_plugin_data(self, name: str) -> PluginContextBase | None:
        address = self._contexts.get(check_name(name))
        if address is None:
            return None
        return cast(PluginContextBase, ctypes.cast(address, ctypes.py_object).value)

    def remove_plugin_data(self, name: str) -> None:
        address = self._contexts.pop(check_name(name), None)
        if address is not None:
            _decref(address)


class SegfaultStore(_DictStore):
    """Follows a null pointer (`ctypes.string_at(0)`) when a context is removed: the process
    dies of SIGSEGV."""

    def remove_plugin_data(self, name: str) -> None:
        super().remove_plugin_data(name)
        ctypes.string_at(0)


class AbortStore(_DictStore):
    """Calls `os.abort()` when a name is stored over, as a failed C `assert` would: the
    process dies of SIGABRT."""

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        if check_name(name) in self._contexts:
            os.abort()
        super().set_plugin_data(name, data)


class ThreadedWeakStore(WeakrefStore):
    """Serves every call from its own worker thread (as `sqlitedict` does), and keeps only a
    `weakref` to each context."""

    def __init__(self) -> None:
        super().__init__()
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        self._thread.submit(super().set_plugin_data, name, data).result()

    def get_plugin_data(self, name: str) -> PluginContextBase | None:
        return self._thread.submit(super().get_plugin_data, name).result()

    def remove_plugin_data(self, name: str) -> None:
        self._thread.submit(super().remove_plugin_data, name).result()


class ExitingStore(_DictStore):
    """Calls `os._exit(0)` when a context is removed: the process ends with status 0, as
    if all was well."""

    def remove_plugin_data(self, name: str) -> None:
        os._exit(0)


class HangingStore(_DictStore):
    """Waits forever for a lock it already holds when a context is removed."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def remove_plugin_data(self, name: str) -> None:
        with self._lock:
            self._lock.acquire()


class PicklingStore(_DictStore):
    """Keeps each context pickled, as `shelve` or a disk cache does, and answers a fresh
    copy unpickled on every fetch: never the object stored."""

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        check_context(check_name(name), data)
        self._contexts[name] = pickle.dumps(data)

    def get_plugin_data(self, name: str) -> PluginContextBase | None:
        pickled = self._contexts.get(check_name(name))
        return None if pickled is None else cast(PluginContextBase, pickle.loads(pickled))


class BoundedLruStore(LruStore):
    """A bounded cache with room for six contexts, least recently used evicted: a registry
    with more plugins than that loses some."""

    CAPACITY: ClassVar[int] = 6


class EqualDedupStore(_DictStore):
    """Ignores a context equal (`==`) to the one it holds under that name, as "already
    registered" (zope.interface's `registerUtility` does), keeping the old object."""

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        check_context(check_name(name), data)
        if self._contexts.get(name) == data:
            return
        self._contexts[name] = data


class HotReloadStore(_DictStore):
    """Carries a plugin's state across a reload: storing a context of the same type
    over another moves the old context's data into the new one."""

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        check_context(check_name(name), data)
        old = self._contexts.get(name)
        if type(old) is type(data):
            cast(Any, data).data = cast(Any, old).data
        self._contexts[name] = data


class RefusingStore(_DictStore):
    """Refuses to store under a name it already holds (`ValueError`), as a plugin manager
    that registers each name once does: a context cannot be replaced."""

    def set_plugin_data(self, name: str, data: PluginContextBase) -> None:
        if check_name(name) in self._contexts:
            raise ValueError(f"plugin name already registered: {name!r}")
        super().set_plugin_data(name, data)


class CovariantAPI(PluginAPI):
    """Accepts a stored `PluginContext[Child]` as a `PluginContext[Parent]`: the downcast
    checks that the stored state type is a subclass, where Nim's conversion is exact."""

    def get_context(self, name: str, state_type: type[T]) -> PluginContext[T]:
        stored = self.get_plugin_data(name)
        if stored is None or typing.get_origin(state_type) is not None:  # generics: exact
            return super().get_context(name, state_type)
        if not issubclass(getattr(type(stored), "state_type", object), state_type):
            raise ContextTypeError(name, type(stored), context_class(state_type))
        return cast(PluginContext[T], stored)


class DataCheckAPI(PluginAPI):
    """Checks the stored context's *data* with `isinstance`, not the context's class, so a
    `PluginContext[Tally]` passes for a `PluginContext[Counter]` (a `Tally` is a `Counter`)."""

    def get_context(self, name: str, state_type: type[T]) -> PluginContext[T]:
        stored = self.get_plugin_data(name)
        if stored is None or typing.get_origin(state_type) is not None:  # generics: exact
            return super().get_context(name, state_type)
        if not isinstance(getattr(stored, "data", None), state_type):
            raise ContextTypeError(name, type(stored), context_class(state_type))
        return cast(PluginContext[T], stored)


class SharedDefaultAPI(PluginAPI):
    """Builds each type's default state once and hands that one object to every plugin
    that asks (the shared mutable default): one plugin's change is every plugin's."""

    def __init__(self, store: Any) -> None:
        super().__init__(store)
        self._defaults: dict[type, Any] = {}

    def get_context(self, name: str, state_type: type[T]) -> PluginContext[T]:
        if self.get_plugin_data(name) is None:
            shared = self._defaults.setdefault(state_type, build_default(name, state_type))
            self.set_plugin_data(name, context_class(state_type)(name, shared))
        return super().get_context(name, state_type)


class ReusedWrapperAPI(PluginAPI):
    """`set_context` puts the new data into the context already stored under the name,
    when it has the same type, instead of wrapping it in a new one."""

    def set_context(self, name: str, data: T) -> PluginContext[T]:
        stored = self.get_plugin_data(name)
        wanted = context_class(type(data))
        if type(stored) is wanted:
            reused: PluginContext[T] = cast(Any, stored)
            reused.data = data
            return reused
        return super().set_context(name, data)


class SilentResetAPI(PluginAPI):
    """Answers a wrong-type fetch with a fresh default context instead of raising."""

    def get_context(self, name: str, state_type: type[T]) -> PluginContext[T]:
        try:
            return super().get_context(name, state_type)
        except ContextTypeError:
            return context_class(state_type)(name, build_default(name, state_type))


class CachingAPI(PluginAPI):
    """Caches typed fetches by (name, type) and never invalidates the cache."""

    def __init__(self, store: Any) -> None:
        super().__init__(store)
        self._cache: dict[tuple[str, type], PluginContextBase] = {}

    def get_context(self, name: str, state_type: type[T]) -> PluginContext[T]:
        key = (name, state_type)
        if key not in self._cache:
            self._cache[key] = super().get_context(name, state_type)
        return cast(PluginContext[T], self._cache[key])


class ErasedGenericsAPI(PluginAPI):
    """Compares state types with their arguments erased (`list[int]` as `list`), so a
    stored `PluginContext[list[int]]` passes for a `PluginContext[list[str]]`."""

    def get_context(self, name: str, state_type: type[T]) -> PluginContext[T]:
        stored = self.get_plugin_data(name)
        stored_type = getattr(type(stored), "state_type", None)
        if stored is not None and _erased(stored_type) is _erased(state_type):
            return cast(PluginContext[T], stored)
        return super().get_context(name, state_type)


def _erased(state_type: object) -> object:
    return typing.get_origin(state_type) or state_type


class BoundGetterAPI(PluginAPI):
    """Takes the store's getter once, when built, and asks it ever after (as `PluginAPI`
    once did): a store that installs a faster getter later is read through the old one."""

    def __init__(self, store: Any) -> None:
        super().__init__(store)
        self._getter = store.get_plugin_data

    def get_plugin_data(self, name: str) -> PluginContextBase | None:
        return cast(PluginContextBase | None, self._getter(check_name(name)))


def make_unchecked_api() -> UncheckedPluginAPI:
    """The seed's API: a raw-pointer store and an unchecked cast, on a fixed store."""
    return UncheckedPluginAPI(ContextStore())


def make_silent_reset_api() -> SilentResetAPI:
    """`SilentResetAPI` on a fixed store."""
    return SilentResetAPI(ContextStore())


def make_caching_api() -> CachingAPI:
    """`CachingAPI` on a fixed store."""
    return CachingAPI(ContextStore())


def make_covariant_api() -> CovariantAPI:
    """`CovariantAPI` on a fixed store."""
    return CovariantAPI(ContextStore())


def make_data_check_api() -> DataCheckAPI:
    """`DataCheckAPI` on a fixed store."""
    return DataCheckAPI(ContextStore())


def make_shared_default_api() -> SharedDefaultAPI:
    """`SharedDefaultAPI` on a fixed store."""
    return SharedDefaultAPI(ContextStore())


def make_reused_wrapper_api() -> ReusedWrapperAPI:
    """`ReusedWrapperAPI` on a fixed store."""
    return ReusedWrapperAPI(ContextStore())


def make_erased_generics_api() -> ErasedGenericsAPI:
    """`ErasedGenericsAPI` on a fixed store."""
    return ErasedGenericsAPI(ContextStore())


def make_bound_getter_api() -> BoundGetterAPI:
    """`BoundGetterAPI` on a correct store that rebinds its getter (`WarmingUpStore`)."""
    return BoundGetterAPI(WarmingUpStore())


def _summary(thing: object) -> str:
    """The first paragraph of `thing`'s docstring, on one line."""
    doc = (getattr(thing, "__doc__", None) or "").split("\n\n")[0]
    return " ".join(doc.split())


@dataclass(frozen=True, slots=True)
class Mutant:
    """One known-bad store or API: its bug, and the property that must catch it."""

    name: str
    kind: Literal["store", "api"]
    factory: Callable[[], Any]
    bug: str
    catches: str
    timeout: float | None = 5.0
    """The seconds one call may take before the contract judges the mutant hung."""


MUTANTS: tuple[Mutant, ...] = (
    Mutant("untracked", "store", UntrackedStore,
           "Keeps only the address (`id()`) of each context, as the seed kept a raw pointer.",
           "survival"),
    Mutant("raw-pointer", "store", RawPointerStore, _summary(RawPointerStore), "survival"),
    Mutant("weakref", "store", WeakrefStore, _summary(WeakrefStore), "survival"),
    Mutant("weak-value-dict", "store", WeakValueStore, _summary(WeakValueStore), "survival"),
    Mutant("copying", "store", CopyingStore, _summary(CopyingStore), "no-stale"),
    Mutant("leaky", "store", LeakyStore, _summary(LeakyStore), "released"),
    Mutant("id-dedup", "store", IdDedupStore, _summary(IdDedupStore), "survival"),
    Mutant("lru", "store", LruStore, _summary(LruStore), "survival"),
    Mutant("shared-class-dict", "store", SharedClassDictStore,
           _summary(SharedClassDictStore), "no-stale"),
    Mutant("clearing-remove", "store", ClearingRemoveStore, _summary(ClearingRemoveStore),
           "survival"),
    Mutant("unchecked-cast", "api", make_unchecked_api,
           "`get_context` returns whatever is stored, unchecked (the seed's cast).",
           "checked-downcast"),
    Mutant("silent-reset", "api", make_silent_reset_api, _summary(SilentResetAPI),
           "checked-downcast"),
    Mutant("stale-cache-api", "api", make_caching_api, _summary(CachingAPI),
           "checked-downcast"),
    Mutant("over-release", "store", OverReleaseStore, _summary(OverReleaseStore), "released"),
    Mutant("threaded-weak", "store", ThreadedWeakStore, _summary(ThreadedWeakStore),
           "survival"),
    Mutant("pickling", "store", PicklingStore, _summary(PicklingStore), "no-stale"),
    Mutant("bounded-lru", "store", BoundedLruStore, _summary(BoundedLruStore), "survival"),
    Mutant("equal-dedup", "store", EqualDedupStore, _summary(EqualDedupStore), "survival"),
    Mutant("hot-reload", "store", HotReloadStore, _summary(HotReloadStore), "survival"),
    Mutant("refusing", "store", RefusingStore, _summary(RefusingStore), "no-stale"),
    Mutant("covariant-downcast", "api", make_covariant_api, _summary(CovariantAPI),
           "checked-downcast"),
    Mutant("data-check-downcast", "api", make_data_check_api, _summary(DataCheckAPI),
           "checked-downcast"),
    Mutant("shared-default", "api", make_shared_default_api, _summary(SharedDefaultAPI),
           "survival"),
    Mutant("reused-wrapper", "api", make_reused_wrapper_api, _summary(ReusedWrapperAPI),
           "no-stale"),
    Mutant("segfault", "store", SegfaultStore, _summary(SegfaultStore), "crash"),
    Mutant("abort", "store", AbortStore, _summary(AbortStore), "crash"),
    Mutant("exit", "store", ExitingStore, _summary(ExitingStore), "crash"),
    Mutant("hang", "store", HangingStore, _summary(HangingStore), "crash", timeout=2.0),
    Mutant("case-folding", "store", CaseFoldingStore, _summary(CaseFoldingStore), "survival"),
    Mutant("identity-names", "store", IdentityNameStore, _summary(IdentityNameStore),
           "no-stale"),
    Mutant("last-index", "store", LastIndexStore, _summary(LastIndexStore), "no-stale"),
    Mutant("persisting", "store", PersistingStore, _summary(PersistingStore), "no-stale"),
    Mutant("layered-default", "store", LayeredDefaultStore, _summary(LayeredDefaultStore),
           "no-stale"),
    Mutant("popitem-keeps", "store", PopitemKeepingDict, _summary(PopitemKeepingDict),
           "released"),
    Mutant("erased-generics", "api", make_erased_generics_api, _summary(ErasedGenericsAPI),
           "checked-downcast"),
    Mutant("bound-getter", "api", make_bound_getter_api, _summary(BoundGetterAPI),
           "no-stale"),
)  # fmt: skip
"""Every mutant, in the order reports list them."""
