"""The registries the survey runs: what each is (`Registry`), the factory that builds a
fresh one, and what its documentation promises, with the line that says so (`REGISTRIES`).

The factories are module-level and re-exported by `reports.survey`, so the contract's
worker imports each back by the path `reports.survey:make_...` (`factory_spec`: the
shortest path that finds it)."""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import os
import platform
import shelve
import tempfile
import weakref
from collections import ChainMap, OrderedDict, UserDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final

from refimpl.contract import PROPERTIES
from reports.survey._adapters import (
    _CacheAPI,
    _NapariPlugins,
    _Plugins,
    _Processors,
    _Receivers,
    _Utilities,
)

__all__ = [
    "DJANGO_LOCATION",
    "REGISTRIES",
    "STDLIB",
    "VERDICTS",
    "Registry",
    "make_bidict",
    "make_blinker_strong",
    "make_blinker_weak",
    "make_boltons_lri",
    "make_cachebox_cache",
    "make_cachebox_lru",
    "make_cachelib_simple",
    "make_cachetools_cache",
    "make_cachetools_lfu",
    "make_cachetools_lru",
    "make_case_insensitive_dict",
    "make_chain_map",
    "make_ci_multidict",
    "make_dict",
    "make_diskcache",
    "make_django_locmem",
    "make_dogpile_memory",
    "make_expiring_dict",
    "make_lru_dict",
    "make_markdown_registry",
    "make_multidict",
    "make_napari_plugins",
    "make_oobtree",
    "make_ordered_dict",
    "make_pluggy",
    "make_pylru",
    "make_shelf",
    "make_sorted_dict",
    "make_sqlitedict",
    "make_user_dict",
    "make_weak_value_dictionary",
    "make_writeback_shelf",
    "make_zict_lru",
    "make_zope_utilities",
]

VERDICTS: Final = ("holds", *PROPERTIES)
"""What a registry's documentation can promise: every property holds, or the one it gives up."""
STDLIB = "stdlib"


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
