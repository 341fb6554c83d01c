"""`python -m reports.survey` (`make survey`): the contract on real registries, beside their docs.

Each entry is a registry from the standard library or PyPI, the verdict its own
documentation implies ("holds", or the contract property it gives up, such as a cache
that hands back copies: `no-stale`), and one line of that documentation with its address.
The survey runs the contract on each (the active Hypothesis profile, each store isolated
in a worker) and prints, per registry, what the docs promise, what the contract found,
and whether the two agree; for each disagreement the shrunk story and the first line of
its evidence. It writes `survey.json` into the output folder (atomically). It is a
survey, not a test: it exits 0 with disagreements and libraries not installed (a row
says so; `make survey` installs them all), 1 when the contract could not judge a
registry at all (an error row), and 2 for a bad argument, before anything runs.

Mutable mappings are handed to the contract as they are; the libraries whose registry is
not a mapping (a cache API of get/set/delete, a plugin manager, a priority registry, a
signal, a component registry) get a few-line adapter here that calls their documented API
and nothing else.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib
import importlib.metadata
import json
import os
import platform
import re
import shelve
import shutil
import sys
import tempfile
import time
import warnings
import weakref
from collections import ChainMap, OrderedDict, UserDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Final

from hypothesis import settings as Settings

from refimpl.contract import PROPERTIES, load_profile, run_contract
from refimpl.support.cmdline import raise_if_interrupted
from reports.output import (
    DEFAULT_OUT,
    UnusableFolder,
    output_folder,
    project_commit,
    write_text_atomically,
)
from reports.output.measured import record_run
from reports.report._findings import Survey, SurveyRow

__all__ = [
    "PROG",
    "REGISTRIES",
    "SCHEMA_VERSION",
    "VERDICTS",
    "Outcome",
    "Registry",
    "main",
    "report",
    "select",
    "survey",
    "table",
]

PROG = "python -m reports.survey"
SCHEMA_VERSION = 1
"""The `"schema"` of the survey.json written now; bump it whenever its shape changes. Its
provenance keys (`commit`, `dirty`: `project_commit`) came later, optional: a report reads
a survey.json without them as of unknown provenance, so stale."""
TIMEOUT = 10.0
"""Seconds one call into a registry may take before the contract calls it hung: the
disk-backed ones commit to SQLite or dbm files on some calls."""
VERDICTS: Final = ("holds", *PROPERTIES)
"""What a registry's documentation can promise: every property holds, or the one it gives up."""
STDLIB = "stdlib"


# -- the entries ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Registry:
    """One registry to survey.

    `name` says what is run (`cachetools.LRUCache(maxsize=4)`); `library` where it comes
    from (a PyPI distribution, or the standard library); `version_of` the distribution
    name that `importlib.metadata` knows it by, or a callable returning the version;
    `factory` a module-level function building a fresh registry (or a context manager
    yielding one), importable by path; `documented` the verdict its documentation
    implies (one of `VERDICTS`); `citation` one line of that documentation, quoted or
    paraphrased, found at `url`."""

    name: str
    library: str
    version_of: str | Callable[[], str]
    factory: Callable[[], Any]
    documented: str
    citation: str
    url: str

    def __post_init__(self) -> None:
        if self.documented not in VERDICTS:
            raise ValueError(f"{self.name}: documented must be one of {VERDICTS}")

    def version(self) -> str | None:
        """The installed version, or None when the library is not installed."""
        if callable(self.version_of):
            return self.version_of()
        try:
            return importlib.metadata.version(self.version_of)
        except importlib.metadata.PackageNotFoundError:
            return None


def _module(name: str) -> Any:
    """Import a third-party module untyped (none of these ship type information mypy
    reads, and none is needed to call their documented API)."""
    return importlib.import_module(name)


# Adapters, for the registries that are not mutable mappings: each calls the library's
# documented API and nothing else.


class _CacheAPI:
    """A cache of `set(key, value)`, `get(key)` and `delete(key)` (cachelib, Django, dogpile)."""

    def __init__(self, cache: Any, missing: object = None) -> None:
        self.cache, self.missing = cache, missing

    def set_plugin_data(self, name: str, data: object) -> None:
        self.cache.set(name, data)

    def get_plugin_data(self, name: str) -> Any:
        value = self.cache.get(name)
        return None if value is self.missing else value

    def remove_plugin_data(self, name: str) -> None:
        self.cache.delete(name)


class _Plugins:
    """pluggy: `register(plugin, name)`, `get_plugin(name)`, `unregister(name=...)`."""

    def __init__(self, manager: Any) -> None:
        self.manager = manager

    def set_plugin_data(self, name: str, data: object) -> None:
        self.manager.register(data, name=name)

    def get_plugin_data(self, name: str) -> Any:
        return self.manager.get_plugin(name)

    def remove_plugin_data(self, name: str) -> None:
        self.manager.unregister(name=name)


class _Receivers:
    """blinker: the registry is one signal's receivers by sender. A context is the
    receiver connected for the sender `name` (`connect(data, sender=name, weak=...)`), a
    fetch is the receiver `receivers_for(name)` yields, and a removal disconnects it from
    that sender (`disconnect(receiver, sender=name)`)."""

    def __init__(self, signal: Any, weak: bool) -> None:
        self.signal, self.weak = signal, weak

    def set_plugin_data(self, name: str, data: object) -> None:
        self.remove_plugin_data(name)
        self.signal.connect(data, sender=name, weak=self.weak)

    def get_plugin_data(self, name: str) -> Any:
        return next(iter(self.signal.receivers_for(name)), None)

    def remove_plugin_data(self, name: str) -> None:
        for receiver in list(self.signal.receivers_for(name)):
            self.signal.disconnect(receiver, sender=name)


class _Utilities:
    """zope.interface: named utilities of one interface, `registerUtility(data, provided,
    name)`, `queryUtility(provided, name=...)`, `unregisterUtility(provided=..., name=...)`."""

    def __init__(self, components: Any, provided: Any) -> None:
        self.components, self.provided = components, provided

    def set_plugin_data(self, name: str, data: object) -> None:
        self.components.registerUtility(data, self.provided, name)

    def get_plugin_data(self, name: str) -> Any:
        return self.components.queryUtility(self.provided, name=name)

    def remove_plugin_data(self, name: str) -> None:
        self.components.unregisterUtility(provided=self.provided, name=name)


class _Processors:
    """Python-Markdown's registry of extension processors: `register(item, name,
    priority)` (replacing any item of that name), `registry[name]` for a `name in
    registry`, `deregister(name, strict=False)`."""

    def __init__(self, registry: Any) -> None:
        self.registry = registry

    def set_plugin_data(self, name: str, data: object) -> None:
        self.registry.register(data, name, 0)

    def get_plugin_data(self, name: str) -> Any:
        # A Registry has no get(): `in` and `[name]` are its documented reads.
        return self.registry[name] if name in self.registry else None  # noqa: SIM401

    def remove_plugin_data(self, name: str) -> None:
        self.registry.deregister(name, strict=False)


class _NapariPlugins:
    """napari-plugin-engine: `register(plugin, name=...)`, its `plugins` dict of name to
    plugin, and `unregister(name)` for a name it holds (it warns of any other). A context
    implements no hook, which `register` warns of each time: that warning is silenced."""

    def __init__(self, manager: Any) -> None:
        self.manager = manager

    def set_plugin_data(self, name: str, data: object) -> None:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Module .* has no hooks", UserWarning)
            self.manager.register(data, name=name)

    def get_plugin_data(self, name: str) -> Any:
        return self.manager.plugins.get(name)

    def remove_plugin_data(self, name: str) -> None:
        if name in self.manager.plugins:
            self.manager.unregister(name)


# Factories: module-level, so that the contract's worker imports them by path.


def make_dict() -> dict[str, Any]:
    return {}


def make_ordered_dict() -> OrderedDict[str, Any]:
    return OrderedDict()


def make_weak_value_dictionary() -> weakref.WeakValueDictionary[str, Any]:
    return weakref.WeakValueDictionary()


@contextlib.contextmanager
def _folder(library: str) -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix=f"survey-{library}-") as folder:
        yield folder


@contextlib.contextmanager
def make_shelf() -> Iterator[shelve.Shelf[Any]]:
    with _folder("shelve") as folder, shelve.open(os.path.join(folder, "shelf")) as shelf:
        yield shelf


@contextlib.contextmanager
def make_writeback_shelf() -> Iterator[shelve.Shelf[Any]]:
    with (
        _folder("shelve") as folder,
        shelve.open(os.path.join(folder, "shelf"), writeback=True) as shelf,
    ):
        yield shelf


def make_cachetools_cache() -> Any:
    return _module("cachetools").Cache(maxsize=1024)


def make_cachetools_lru() -> Any:
    return _module("cachetools").LRUCache(maxsize=4)


def make_cachelib_simple() -> _CacheAPI:
    return _CacheAPI(_module("cachelib").SimpleCache())


@contextlib.contextmanager
def make_diskcache() -> Iterator[Any]:
    with _folder("diskcache") as folder, _module("diskcache").Cache(folder) as cache:
        yield cache


@contextlib.contextmanager
def make_sqlitedict() -> Iterator[Any]:
    sqlitedict = _module("sqlitedict")
    with (
        _folder("sqlitedict") as folder,
        sqlitedict.SqliteDict(os.path.join(folder, "registry.sqlite")) as registry,
    ):
        yield registry


def make_boltons_lri() -> Any:
    return _module("boltons.cacheutils").LRI(max_size=4)


def make_lru_dict() -> Any:
    return _module("lru").LRU(4)


def make_dogpile_memory() -> _CacheAPI:
    dogpile = _module("dogpile.cache")
    region = dogpile.make_region().configure("dogpile.cache.memory")
    return _CacheAPI(region, missing=_module("dogpile.cache.api").NO_VALUE)


DJANGO_LOCATION = "reports.survey"
"""The `LOCATION` of the Django cache: one in-process store per location, shared by every
`LocMemCache` built with it."""


def make_django_locmem() -> _CacheAPI:
    locmem = _module("django.core.cache.backends.locmem")
    return _CacheAPI(locmem.LocMemCache(DJANGO_LOCATION, {}))


def make_pluggy() -> _Plugins:
    return _Plugins(_module("pluggy").PluginManager("survey"))


def make_blinker_weak() -> _Receivers:
    return _Receivers(_module("blinker").Signal("survey"), weak=True)


def make_blinker_strong() -> _Receivers:
    return _Receivers(_module("blinker").Signal("survey"), weak=False)


def make_zope_utilities() -> _Utilities:
    interface = _module("zope.interface.interface")
    provided = interface.InterfaceClass("IPluginContext", (interface.Interface,))
    return _Utilities(_module("zope.interface.registry").Components("survey"), provided)


def make_chain_map() -> ChainMap[str, Any]:
    return ChainMap()


def make_user_dict() -> UserDict[str, Any]:
    return UserDict()


def make_case_insensitive_dict() -> Any:
    return _module("requests.structures").CaseInsensitiveDict()


def make_multidict() -> Any:
    return _module("multidict").MultiDict()


def make_ci_multidict() -> Any:
    return _module("multidict").CIMultiDict()


def make_sorted_dict() -> Any:
    return _module("sortedcontainers").SortedDict()


def make_bidict() -> Any:
    return _module("bidict").bidict()


def make_oobtree() -> Any:
    return _module("BTrees.OOBTree").OOBTree()


def make_cachebox_cache() -> Any:
    return _module("cachebox").Cache(maxsize=0)


def make_cachebox_lru() -> Any:
    return _module("cachebox").LRUCache(maxsize=4)


def make_cachetools_lfu() -> Any:
    return _module("cachetools").LFUCache(maxsize=4)


def make_pylru() -> Any:
    return _module("pylru").lrucache(4)


def make_expiring_dict() -> Any:
    return _module("expiringdict").ExpiringDict(max_len=4, max_age_seconds=3600)


def make_zict_lru() -> Any:
    return _module("zict").LRU(4, {})


def make_markdown_registry() -> _Processors:
    return _Processors(_module("markdown.util").Registry())


def make_napari_plugins() -> _NapariPlugins:
    return _NapariPlugins(_module("napari_plugin_engine").PluginManager("survey"))


def _python() -> str:
    return platform.python_version()


REGISTRIES: Final[tuple[Registry, ...]] = (
    Registry(
        "dict", STDLIB, _python, make_dict, "holds",
        "d[key] = value sets d[key] to value; d[key] returns the item of d with key key",
        "https://docs.python.org/3.11/library/stdtypes.html#mapping-types-dict",
    ),
    Registry(
        "collections.OrderedDict", STDLIB, _python, make_ordered_dict, "holds",
        "a dict subclass that has methods specialized for rearranging dictionary order",
        "https://docs.python.org/3.11/library/collections.html#collections.OrderedDict",
    ),
    Registry(
        "collections.ChainMap", STDLIB, _python, make_chain_map, "holds",
        "Lookups search the underlying mappings successively until a key is found. In "
        "contrast, writes, updates, and deletions only operate on the first mapping.",
        "https://docs.python.org/3.11/library/collections.html#collections.ChainMap",
    ),
    Registry(
        "collections.UserDict", STDLIB, _python, make_user_dict, "holds",
        "Class that simulates a dictionary. The instance's contents are kept in a regular "
        "dictionary, which is accessible via the data attribute",
        "https://docs.python.org/3.11/library/collections.html#collections.UserDict",
    ),
    Registry(
        "weakref.WeakValueDictionary", STDLIB, _python, make_weak_value_dictionary, "survival",
        "Mapping class that references values weakly. Entries in the dictionary will be "
        "discarded when no strong reference to the value exists any more.",
        "https://docs.python.org/3.11/library/weakref.html#weakref.WeakValueDictionary",
    ),
    Registry(
        "shelve.open(path)", STDLIB, _python, make_shelf, "no-stale",
        "the values in a shelf can be anything the pickle module can handle (a fetch "
        "unpickles a copy; writeback is off by default)",
        "https://docs.python.org/3.11/library/shelve.html#shelve.open",
    ),
    Registry(
        "shelve.open(path, writeback=True)", STDLIB, _python, make_writeback_shelf, "holds",
        "If writeback is True, all entries accessed are also cached in memory, and written "
        "back on sync() and close()",
        "https://docs.python.org/3.11/library/shelve.html#shelve.open",
    ),
    Registry(
        "cachetools.Cache(maxsize=1024)", "cachetools", "cachetools",
        make_cachetools_cache, "holds",
        "Mutable mapping to serve as a simple cache or cache base class (it discards items "
        "only when full)",
        "https://cachetools.readthedocs.io/en/stable/#cachetools.Cache",
    ),
    Registry(
        "sortedcontainers.SortedDict", "sortedcontainers", "sortedcontainers",
        make_sorted_dict, "holds",
        "Sorted dict is a sorted mutable mapping.",
        "https://grantjenks.com/docs/sortedcontainers/sorteddict.html",
    ),
    Registry(
        "bidict.bidict", "bidict", "bidict", make_bidict, "survival",
        "put(key, val): If key is already associated with val, this is a no-op (values are "
        "the inverse's keys: an equal value is the one it holds)",
        "https://bidict.readthedocs.io/en/main/api.html#bidict.MutableBidict.put",
    ),
    Registry(
        "BTrees.OOBTree.OOBTree", "BTrees", "BTrees", make_oobtree, "holds",
        "The first two letters of the module name specify the types of the keys and values "
        "in mappings: O for any object",
        "https://btrees.readthedocs.io/en/latest/overview.html",
    ),
    Registry(
        "multidict.MultiDict", "multidict", "multidict", make_multidict, "holds",
        "d[key] = value: Set d[key] to value. Replace all items where key is equal to key "
        "with single item (key, value).",
        "https://multidict.aio-libs.org/en/stable/multidict/#multidict.MultiDict",
    ),
    Registry(
        "cachebox.Cache(maxsize=0)", "cachebox", "cachebox", make_cachebox_cache, "holds",
        "Thread-safe hashmap with no eviction policy (maxsize=0: unbounded)",
        "https://awolverp.github.io/cachebox/algorithms/#cache",
    ),
    Registry(
        "cachetools.LRUCache(maxsize=4)", "cachetools", "cachetools",
        make_cachetools_lru, "survival",
        "Least Recently Used (LRU) cache implementation: discards the least recently used "
        "items first to make space when necessary",
        "https://cachetools.readthedocs.io/en/stable/#cachetools.LRUCache",
    ),
    Registry(
        "cachelib.SimpleCache()", "cachelib", "cachelib", make_cachelib_simple, "no-stale",
        "SimpleSerializer, the default serializer for SimpleCache, works on top of "
        "pickle.loads and pickle.dumps",
        "https://cachelib.readthedocs.io/en/stable/serializers/",
    ),
    Registry(
        "diskcache.Cache(directory)", "diskcache", "diskcache", make_diskcache, "no-stale",
        "Disk objects serialize values: numbers, strings and bytes natively, every other "
        "value with pickle",
        "https://grantjenks.com/docs/diskcache/tutorial.html#disk",
    ),
    Registry(
        "sqlitedict.SqliteDict(path)", "sqlitedict", "sqlitedict", make_sqlitedict, "no-stale",
        "By default Pickle is used internally to (de)serialize the values.",
        "https://github.com/piskvorky/sqlitedict#serialization",
    ),
    Registry(
        "requests.structures.CaseInsensitiveDict", "requests", "requests",
        make_case_insensitive_dict, "no-stale",
        "A case-insensitive dict-like object. [...] querying and contains testing is case "
        "insensitive",
        "https://github.com/psf/requests/blob/v2.34.2/src/requests/structures.py",
    ),
    Registry(
        "multidict.CIMultiDict", "multidict", "multidict", make_ci_multidict, "no-stale",
        "Create a case insensitive multidict instance. The behavior is the same as of "
        "MultiDict but key comparisons are case insensitive",
        "https://multidict.aio-libs.org/en/stable/multidict/#multidict.CIMultiDict",
    ),
    Registry(
        "boltons.cacheutils.LRI(max_size=4)", "boltons", "boltons", make_boltons_lri, "survival",
        "The LRI implements the basic Least Recently Inserted strategy to caching",
        "https://boltons.readthedocs.io/en/latest/cacheutils.html#boltons.cacheutils.LRI",
    ),
    Registry(
        "lru.LRU(4)", "lru-dict", "lru-dict", make_lru_dict, "survival",
        "A fixed size dict like container which evicts Least Recently Used (LRU) items "
        "once size limit is exceeded",
        "https://github.com/amitdev/lru-dict#readme",
    ),
    Registry(
        "cachetools.LFUCache(maxsize=4)", "cachetools", "cachetools",
        make_cachetools_lfu, "survival",
        "Least Frequently Used (LFU) cache implementation: discards the items used least "
        "often to make space when necessary",
        "https://cachetools.readthedocs.io/en/stable/#cachetools.LFUCache",
    ),
    Registry(
        "cachebox.LRUCache(maxsize=4)", "cachebox", "cachebox", make_cachebox_lru, "survival",
        "when full, the key that has not been touched for the longest time is removed",
        "https://awolverp.github.io/cachebox/algorithms/#lrucache",
    ),
    Registry(
        "pylru.lrucache(4)", "pylru", "pylru", make_pylru, "survival",
        "size: the maximum number of key/value pairs you want the cache to hold",
        "https://github.com/jlhutch/pylru#lrucache",
    ),
    Registry(
        "expiringdict.ExpiringDict(max_len=4)", "expiringdict", "expiringdict",
        make_expiring_dict, "survival",
        "ExpiringDict can not store more than max_len elements - the oldest will be deleted.",
        "https://github.com/mailgun/expiringdict#readme",
    ),
    Registry(
        "zict.LRU(4, {})", "zict", "zict", make_zict_lru, "survival",
        "Evict Least Recently Used Elements. n: Number of elements to keep",
        "https://zict.readthedocs.io/en/latest/#zict.LRU",
    ),
    Registry(
        "dogpile.cache memory region", "dogpile.cache", "dogpile.cache",
        make_dogpile_memory, "holds",
        "MemoryBackend places the value as given into the dictionary; values remain until "
        "explicitly removed",
        "https://dogpilecache.sqlalchemy.org/en/latest/api.html#memory-backends",
    ),
    Registry(
        "Django LocMemCache", "Django", "django", make_django_locmem, "no-stale",
        "cache any Python object that can be pickled; the local-memory cache is shared by "
        "every instance of one LOCATION",
        "https://docs.djangoproject.com/en/5.2/topics/cache/#local-memory-caching",
    ),
    Registry(
        "pluggy.PluginManager", "pluggy", "pluggy", make_pluggy, "no-stale",
        "register(plugin, name): if the plugin is already registered, raises a ValueError "
        "(so does a name already taken)",
        "https://pluggy.readthedocs.io/en/stable/api_reference.html#pluggy.PluginManager.register",
    ),
    Registry(
        "napari_plugin_engine.PluginManager", "napari-plugin-engine", "napari-plugin-engine",
        make_napari_plugins, "no-stale",
        "register(namespace, name): Raises ValueError if the plugin name or namespace is "
        "already registered.",
        "https://napari-plugin-engine.readthedocs.io/en/latest/api.html"
        "#napari_plugin_engine.PluginManager.register",
    ),
    Registry(
        "markdown.util.Registry", "Markdown", "markdown", make_markdown_registry, "holds",
        'If an item is registered with a "name" which already exists, the existing item is '
        "replaced with the new item.",
        "https://python-markdown.github.io/reference/markdown/util/"
        "#markdown.util.Registry.register",
    ),
    Registry(
        "blinker.Signal.connect(weak=True)", "blinker", "blinker", make_blinker_weak, "survival",
        "weak: track the receiver with a weakref; it is disconnected when garbage collected "
        "(the default)",
        "https://blinker.readthedocs.io/en/stable/#blinker.Signal.connect",
    ),
    Registry(
        "blinker.Signal.connect(weak=False)", "blinker", "blinker", make_blinker_strong, "holds",
        "weak=False keeps the receiver; disconnect(receiver, sender) disconnects it from "
        "being called when the signal is sent by sender",
        "https://blinker.readthedocs.io/en/stable/#blinker.Signal.disconnect",
    ),
    Registry(
        "zope.interface Components (utilities)", "zope.interface", "zope.interface",
        make_zope_utilities, "holds",
        "registerUtility(component, provided, name) registers the component; "
        "queryUtility(provided, name) looks it up",
        "https://zopeinterface.readthedocs.io/en/latest/api/components.html",
    ),
)  # fmt: skip


# -- running -------------------------------------------------------------------------


NOT_INSTALLED = "not installed (make survey installs it)"


@dataclass(frozen=True, slots=True)
class Outcome(SurveyRow):
    """What the survey found for one registry: a row of survey.json as the report reads it
    (`SurveyRow`), and the `factory` the contract ran, by import path.

    `status` is `agrees`, `disagrees`, `not-installed` or `error` (the contract could not
    judge it: `note` says why); `found` is the contract's verdict (`holds` or a property),
    `None` when it did not run; `steps` and `detail` are the violation's."""

    factory: str = ""

    @property
    def agrees(self) -> bool:
        return self.status == "agrees"


def _spec(registry: Registry) -> str:
    factory = registry.factory
    return f"{factory.__module__}:{factory.__qualname__}"


def run_one(
    registry: Registry, *, settings: Settings | None = None, timeout: float = TIMEOUT
) -> Outcome:
    """Run the contract on one registry and compare its verdict with the documented one.
    `settings=None` is the active Hypothesis profile, as `run_contract` takes it."""
    base = Outcome(
        name=registry.name,
        library=registry.library,
        version=registry.version(),
        documented=registry.documented,
        citation=registry.citation,
        url=registry.url,
        status="error",
        factory=_spec(registry),
    )
    if base.version is None:
        return replace(base, status="not-installed", note=NOT_INSTALLED)
    started = time.perf_counter()
    try:
        run = run_contract(registry.factory, settings=settings, timeout=timeout)
    except Exception as error:  # refused by the contract, or a harness failure: a row
        first = (str(error).strip().splitlines() or [""])[0]
        return replace(
            base,
            seconds=round(time.perf_counter() - started, 2),
            note=f"{type(error).__name__}: {first}",
        )
    found = "holds" if run.violation is None else run.violation.property
    return replace(
        base,
        status="agrees" if found == registry.documented else "disagrees",
        found=found,
        examples=run.examples,
        seconds=round(run.seconds, 2),
        steps=() if run.violation is None else tuple(run.violation.steps),
        detail="" if run.violation is None else run.violation.detail,
    )


def survey(
    registries: Sequence[Registry],
    *,
    progress: Callable[[str], None] = lambda line: None,
    run: Callable[[Registry], Outcome] | None = None,
) -> list[Outcome]:
    """Run every registry in turn (with `run`, `run_one` by default), saying how each went
    as it ends."""
    run = run or run_one
    outcomes: list[Outcome] = []
    for number, registry in enumerate(registries, 1):
        progress(f"[{number}/{len(registries)}] {registry.name} ... ")
        outcome = run(registry)
        outcomes.append(outcome)
        progress(f"{_verdict(outcome)} ({outcome.seconds:.1f} s)\n")
        raise_if_interrupted()
    return outcomes


def _verdict(outcome: Outcome) -> str:
    if outcome.status == "not-installed":
        return "not installed"
    if outcome.status == "error":
        return "error"
    return f"{outcome.found}" + ("" if outcome.agrees else " (DISAGREES)")


# -- what it shows -------------------------------------------------------------------


def summary(outcomes: Sequence[Outcome]) -> str:
    """One line: "18 registries: 16 agree, 2 disagree" (and what did not run), as the
    report says it (`Survey.summary`)."""
    rows: list[SurveyRow] = list(outcomes)
    return Survey(rows).summary


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _found_cell(outcome: Outcome) -> str:
    if outcome.status == "not-installed":
        return NOT_INSTALLED
    if outcome.status == "error":
        return "error"
    return f"{outcome.found}"


def _judgement(outcome: Outcome) -> str:
    return {"agrees": "agrees", "disagrees": "DISAGREES"}.get(outcome.status, "")


def table(outcomes: Sequence[Outcome], width: int | None = None) -> str:
    """The survey as a plain-text table (its last column, the docs' line, cut to fit in
    `width` columns: the terminal's by default), each disagreement's story and each
    error below it, and the summary line last."""
    header = ("registry", "library", "documented", "found", "", "the docs say")
    rows = [
        (
            outcome.name,
            f"{outcome.library} {outcome.version or ''}".strip(),
            outcome.documented,
            _found_cell(outcome),
            _judgement(outcome),
            outcome.citation,
        )
        for outcome in outcomes
    ]
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(6)]
    room = (width or shutil.get_terminal_size((160, 24)).columns) - sum(widths[:5]) - 2 * 5
    widths[5] = min(widths[5], max(room, 40))
    lines = [
        "  ".join(
            _short(cell, size).ljust(size) for cell, size in zip(row, widths, strict=True)
        ).rstrip()
        for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * size for size in widths).rstrip())
    for outcome in outcomes:
        if outcome.status == "disagrees":
            first = (outcome.detail.strip().splitlines() or [""])[0]
            lines += [
                "",
                f"{outcome.name}: the docs imply {outcome.documented}, the contract found "
                f"{outcome.found}",
                f"  docs: {outcome.citation} ({outcome.url})",
                f"  {first}" if first else "  (no detail)",
                "  steps:",
                *(f"    {step}" for step in outcome.steps),
            ]
        elif outcome.status == "error":
            lines += ["", f"{outcome.name}: the contract could not judge it: {outcome.note}"]
    lines += ["", summary(outcomes)]
    return "\n".join(lines)


def report(outcomes: Sequence[Outcome], *, profile: str, command: str) -> dict[str, Any]:
    """The survey as the JSON object written to survey.json:

    `{"schema": 1, "date", "commit", "dirty", "command", "profile", "machine": {"python",
    "system", "machine"}, "registries": [row, ...], "summary": {"registries", "agree",
    "disagree", "not_installed", "errors", "line"}}`: `commit` is the project's commit
    and `dirty` whether its tree had uncommitted changes (both null without git); each row
    an `Outcome` (`name`, `library`, `version` or null, `documented`, `citation`, `url`,
    `status`, `found` or null, `examples`, `seconds`, `steps` (a list), `detail`, `note`,
    `factory`)."""
    registries = []
    for outcome in outcomes:
        row = asdict(outcome)
        row["steps"] = list(outcome.steps)
        registries.append(row)
    commit, dirty = project_commit()
    return {
        "schema": SCHEMA_VERSION,
        "date": datetime.date.today().isoformat(),
        "commit": commit,
        "dirty": dirty,
        "command": command,
        "profile": profile,
        "machine": {
            "python": platform.python_version(),
            "system": platform.system(),
            "machine": platform.machine(),
        },
        "registries": registries,
        "summary": {
            "registries": len(outcomes),
            "agree": sum(outcome.status == "agrees" for outcome in outcomes),
            "disagree": sum(outcome.status == "disagrees" for outcome in outcomes),
            "not_installed": sum(outcome.status == "not-installed" for outcome in outcomes),
            "errors": sum(outcome.status == "error" for outcome in outcomes),
            "line": summary(outcomes),
        },
    }


# -- the command line ----------------------------------------------------------------


def _aliases(registry: Registry) -> set[str]:
    """What selects `registry` on the command line, case aside: its name, its name before
    the parenthesis (`cachetools.LRUCache`), its first word (`cachetools`, `shelve`) and its
    library."""
    name = registry.name.casefold()
    first = re.split(r"[.( ]", name, maxsplit=1)[0]
    return {name, name.partition("(")[0].strip(), first, registry.library.casefold()}


def select(
    names: Sequence[str] | None, registries: Sequence[Registry] = REGISTRIES
) -> list[Registry]:
    """The registries `--only` names, in survey order (all of them for no names): a name
    selects every entry it is an alias of (see `_aliases`). Raises `ValueError` naming
    what selects nothing."""
    if not names:
        return list(registries)
    wanted = [name.casefold() for name in names]
    unknown = [
        name
        for name, folded in zip(names, wanted, strict=True)
        if not any(folded in _aliases(registry) for registry in registries)
    ]
    if unknown:
        known = ", ".join(registry.name for registry in registries)
        raise ValueError(f"no registry named {', '.join(map(repr, unknown))} (known: {known})")
    return [r for r in registries if any(folded in _aliases(r) for folded in wanted)]


def main(argv: Sequence[str] | None = None) -> int:
    """Survey, print the table, write survey.json; exit 0 (disagreements included), 1 when
    a registry could not be judged, 2 for a bad argument."""
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only",
        nargs="+",
        action="extend",
        metavar="NAME",
        help="survey only these registries (a name, its part before '(', or a library)",
    )
    parser.add_argument(
        "--out",
        default=str(DEFAULT_OUT),
        metavar="DIR",
        help="the folder to write survey.json into; made if missing, but not its parent "
        "(default: reports/out)",
    )
    args = parser.parse_args(argv)
    try:
        chosen = select(args.only)
    except ValueError as unknown:
        parser.error(f"argument --only: {unknown}")
    try:
        out = output_folder(args.out, ["survey.json"])
    except UnusableFolder as refused:
        parser.error(f"argument --out: {refused}")
    try:
        profile = load_profile()
    except ValueError as bad:
        parser.error(str(bad))

    def progress(text: str) -> None:
        sys.stderr.write(text)
        sys.stderr.flush()

    outcomes = survey(chosen, progress=progress)
    command = "make survey" if not args.only else f"{PROG} --only {' '.join(args.only)}"
    result = report(outcomes, profile=profile, command=command)
    write_text_atomically(out / "survey.json", json.dumps(result, indent=2) + "\n")
    print(table(outcomes))
    print(f"survey: wrote {out / 'survey.json'}", file=sys.stderr)
    record_run(
        "survey",
        f"```text\n{table(outcomes, width=1000)}\n```",
        command=command,
        out=out,
        full=not args.only,
    )
    return 1 if any(outcome.status == "error" for outcome in outcomes) else 0
