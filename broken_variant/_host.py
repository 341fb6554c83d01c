"""The broken host: the same engine and plugins, wired to untracked storage."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from broken_variant._api import UncheckedPluginAPI
from broken_variant._errors import MemorySafetyViolation
from broken_variant._heap import SimulatedHeap
from broken_variant._store import UntrackedStore
from refimpl import Host, PluginAPI

__all__ = ["BrokenHost"]


class BrokenHost(Host):
    """`refimpl.Host` with the seed's bugs: an `UntrackedStore`, unchecked casts,
    unscoped APIs, and a shutdown that frees what it thinks it owns.

    The plugins are the very same code as in the fixed host. Their contexts
    die as soon as a callback returns, so the next access is a use-after-free;
    and since shutdown frees each stored address explicitly, a context CPython
    has already freed is freed twice (`DoubleFree`, the seed's crash in
    `eqdestroy`). Both are fatal: they end the run, uncontained.
    """

    store: UntrackedStore

    def __init__(
        self, store: UntrackedStore | None = None, *, sanitize: bool = False, **options: Any
    ) -> None:
        if store is None:
            store = UntrackedStore(SimulatedHeap(sanitize=sanitize))
        super().__init__(store, **options)

    def _make_api(self, name: str, may_read: Iterable[str], may_write: Iterable[str]) -> PluginAPI:
        return UncheckedPluginAPI(self.store, screen=self.screen)

    def _lets_through(self, error: BaseException) -> bool:
        """A simulated memory-safety crash ends the run, as the segfault it stands for would."""
        return isinstance(error, MemorySafetyViolation)

    def _release_contexts(self) -> None:
        for name in self.plugin_names:
            address = self.store.address_of(name)
            if address is not None:  # the manual `=destroy`, on top of CPython's own free
                self.store.heap.free(address, via=f"the pointer stored for plugin {name!r}")
            self.store.remove_plugin_data(name)
