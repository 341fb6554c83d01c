"""Adapters for the surveyed registries that are not mutable mappings: each gives the
contract's three calls (`set_plugin_data`, `get_plugin_data`, `remove_plugin_data`) and
calls the library's documented API and nothing else."""

from __future__ import annotations

import warnings
from typing import Any


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
