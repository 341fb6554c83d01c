"""The engine (the seed's backstorie): registers plugins and runs their lifecycle."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from refimpl._api import PluginAPI
from refimpl._plugin import KeyEvent, PluginModule
from refimpl._protocol import PluginStore
from refimpl._screen import Screen
from refimpl._store import ContextStore
from refimpl.validate import check_name

__all__ = ["Host", "PluginFailure", "RunSummary"]


@dataclass(frozen=True, slots=True)
class PluginFailure:
    """A plugin callback that raised: which plugin, in which phase, what and where.

    `error` is anything a callback raised: an exception the host contained
    (`BaseException`s such as `GeneratorExit` or `asyncio.CancelledError` included),
    or a `KeyboardInterrupt` / `SystemExit` it recorded before shutting down and
    raising it on.
    """

    plugin: str
    phase: str
    error: BaseException
    traceback: str


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What one `Host.run` did: frames run, wall seconds, plugins disabled so far."""

    frames: int
    seconds: float
    failed: tuple[str, ...]


@dataclass(slots=True)
class _Slot:
    name: str  # the plain `str` the host checked, never the module's own object
    module: PluginModule
    api: PluginAPI
    enabled: bool = True
    failures: list[PluginFailure] = field(default_factory=list)


_PROCESS_EXITS = (KeyboardInterrupt, SystemExit)
"""What a callback may raise that is the process's to act on, not the plugin's fault:
the host finishes its duties (`shutdown`), then raises it on."""


def _check_limit(name: str, value: object, *, integral: bool) -> None:
    if value is None:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (integral and not isinstance(value, int))
        or not value >= 0
    ):
        raise ValueError(f"{name} must be a non-negative number, got {value!r}")


class Host:
    """Runs plugins frame by frame against one store, drawing on a layered screen.

    `Host(store=None)` uses a new `ContextStore`. Each plugin gets its own
    `PluginAPI`, scoped to its name (see `register_plugin`), which refuses every
    call once the host is shut down.

    The host always finishes its duties. A callback that raises anything else
    than `KeyboardInterrupt` or `SystemExit` (any `Exception`, and `BaseException`s
    such as `GeneratorExit` or `asyncio.CancelledError`) is contained: that plugin
    is disabled, its error recorded in `failures`, and the others run on. A
    `KeyboardInterrupt` or `SystemExit`, raised by a callback or arriving while
    `run`, `dispatch_event` or `register_plugin` works (Ctrl-C), makes the host
    shut down (every plugin's `shutdown`, every context released) and is then
    raised on: the only exceptions the host re-raises. One raised by a callback
    is recorded in `failures` first, but does not disable its plugin: being a
    request to end the process, not a fault, it leaves that plugin's `shutdown`
    to run with the others'.

    Limits: `BrokenHost` lets its simulated memory-safety crashes through, as
    the segfault they stand for would (`_lets_through`).

    Example:
        >>> from refimpl.plugins import simple_counter
        >>> host = Host()
        >>> host.register_plugin(simple_counter.make_plugin())
        >>> host.run(frames=3).frames, host.screen_text()
        (3, 'Frame: 3')
    """

    def __init__(
        self,
        store: PluginStore | None = None,
        *,
        fps: float = 60.0,
        screen: Screen | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps!r}")
        self.store: PluginStore = store if store is not None else ContextStore()
        self.fps = fps
        self.screen = screen if screen is not None else Screen()
        self.frame_count = 0
        self._clock = clock
        self._sleep = sleep
        self._slots: dict[str, _Slot] = {}
        self._shut_down = False
        self._released: set[str] = set()
        self._written: set[str] = set()  # every name a plugin's API stored a context under

    # -- registration ------------------------------------------------------------

    def register_plugin(
        self, module: PluginModule, *, may_read: Iterable[str] = (), may_write: Iterable[str] = ()
    ) -> None:
        """Add `module` and run its `init`.

        Its API reaches only its own context, plus the contexts of the plugins
        named in `may_read` (read) and `may_write` (read and write). Every name is
        checked and made a plain `str` first (`check_name`). Raises `TypeError`
        for a module that is not a `PluginModule`, `ValueError` for a bad or
        already registered name, `RuntimeError` after `shutdown`.
        """
        if not isinstance(module, PluginModule):
            raise TypeError(f"register_plugin needs a PluginModule, got {type(module).__name__}")
        name = check_name(module.name)
        if name in self._slots:
            raise ValueError(f"plugin {name!r} is already registered")
        if self._shut_down:
            raise RuntimeError(f"cannot register plugin {name!r}: the host is shut down")
        for phase in ("init", "update", "render", "handle_event", "shutdown"):
            callback = getattr(module, phase)
            if callback is not None and not callable(callback):
                raise TypeError(
                    f"plugin {name!r}: {phase} must be callable or None, "
                    f"got {type(callback).__name__}"
                )
        if isinstance(may_read, str) or isinstance(may_write, str):
            raise TypeError(
                f"plugin {name!r}: may_read and may_write take a list of plugin names, not one str"
            )
        may_read = tuple(check_name(other) for other in may_read)
        may_write = tuple(check_name(other) for other in may_write)
        slot = _Slot(name, module, self._make_api(name, may_read, may_write))
        self._slots[name] = slot
        if module.init is not None:
            with self._shut_down_on_exit():
                self._call(slot, "init", module.init, slot.api)

    def _make_api(self, name: str, may_read: Iterable[str], may_write: Iterable[str]) -> PluginAPI:
        return PluginAPI(
            self.store,
            owner=name,
            may_read=may_read,
            may_write=may_write,
            screen=self.screen,
            written=self._written,
        )

    # -- running -----------------------------------------------------------------

    def run(self, frames: int | None = None, seconds: float | None = None) -> RunSummary:
        """Run frames (each: every plugin's `update`, then a fresh screen and every `render`).

        `run(frames=N)` runs N frames as fast as it can, with `dt = 1/fps`.
        `run(seconds=S)` runs paced at `fps` for S wall seconds, with the real
        `dt`; given both, it stops at whichever comes first. Raises `ValueError`
        when neither is given or one is negative, `RuntimeError` after
        `shutdown`. On Ctrl-C (`KeyboardInterrupt`) or `SystemExit` the host
        shuts down, then raises it on.
        """
        if frames is None and seconds is None:
            raise ValueError("run needs frames=N or seconds=S")
        _check_limit("frames", frames, integral=True)
        _check_limit("seconds", seconds, integral=False)
        if self._shut_down:
            raise RuntimeError("cannot run: the host is shut down")
        start = previous = self._clock()
        period = 1.0 / self.fps
        ran = 0
        with self._shut_down_on_exit():
            while frames is None or ran < frames:
                if seconds is None:
                    dt = period
                else:
                    now = self._clock()
                    if ran * period >= seconds or now - start >= seconds:
                        break
                    wait = start + ran * period - now
                    if wait > 0:
                        self._sleep(wait)
                    now = self._clock()
                    dt, previous = now - previous, now
                self._frame(dt)
                ran += 1
        return RunSummary(ran, self._clock() - start, self.failed_plugins())

    def _frame(self, dt: float) -> None:
        self.frame_count += 1
        for slot in self._live_slots():
            if slot.module.update is not None:
                self._call(slot, "update", slot.module.update, slot.api, dt)
        self.screen.clear()
        for slot in self._live_slots():
            if slot.module.render is not None:
                self._call(slot, "render", slot.module.render, slot.api)

    def dispatch_event(self, event: KeyEvent) -> bool:
        """Offer `event` to each plugin in registration order; True once one handles it.

        Raises `TypeError` for an event that is not a `KeyEvent`, `RuntimeError`
        after `shutdown`.
        """
        if not isinstance(event, KeyEvent):
            raise TypeError(f"dispatch_event needs a KeyEvent, got {type(event).__name__}")
        if self._shut_down:
            raise RuntimeError("cannot dispatch an event: the host is shut down")
        with self._shut_down_on_exit():
            for slot in self._live_slots():
                handler = slot.module.handle_event
                if handler is not None and self._call(
                    slot, "handle_event", handler, slot.api, event
                ):
                    return True
        return False

    def shutdown(self) -> None:
        """Run every enabled plugin's `shutdown`, close every plugin's API, then
        release every context, each exactly once.

        Whatever a `shutdown` callback raises, the other plugins' shutdowns still
        run and every context is released. A `KeyboardInterrupt` or `SystemExit`
        from a callback is recorded in `failures` and raised on once all that is
        done (the first, if several); anything else is contained as in every
        other phase. Calling
        it again runs no callback twice and releases nothing twice: it only
        retries a release the store refused the first time.
        """
        exit_request: BaseException | None = None
        if not self._shut_down:
            self._shut_down = True
            try:
                for slot in self._live_slots():
                    if slot.module.shutdown is not None:
                        try:
                            self._call(slot, "shutdown", slot.module.shutdown, slot.api)
                        except _PROCESS_EXITS as error:
                            exit_request = exit_request or error
            finally:
                for slot in self._slots.values():
                    slot.api.close()
                self._release_contexts()
        else:
            self._release_contexts()
        if exit_request is not None:
            raise exit_request

    def _release_contexts(self) -> None:
        """Remove from the store each plugin's context, and every context a plugin's API
        stored under another name it was granted, once: a name whose removal succeeded
        is never removed again. A removal that raises does not stop the others; the
        first such error is raised once they are done."""
        first_error: BaseException | None = None
        # A copy: a thread may still be writing through an API the host closed.
        granted = sorted(set(self._written) - self._slots.keys())
        for name in [*self._slots, *granted]:
            if name in self._released:
                continue
            try:
                self.store.remove_plugin_data(name)
            except BaseException as error:  # finish the others first
                first_error = first_error or error
            else:
                self._released.add(name)
        if first_error is not None:
            raise first_error

    @contextmanager
    def _shut_down_on_exit(self) -> Iterator[None]:
        """On `KeyboardInterrupt` or `SystemExit` inside the block, shut down, then raise it on."""
        try:
            yield
        except _PROCESS_EXITS:
            self.shutdown()
            raise

    # -- containment -------------------------------------------------------------

    def _live_slots(self) -> list[_Slot]:
        return [slot for slot in self._slots.values() if slot.enabled]

    def _call(
        self, slot: _Slot, phase: str, callback: Callable[..., object], *args: object
    ) -> bool:
        """Run one callback; contain whatever it raises but `KeyboardInterrupt`,
        `SystemExit` and what `_lets_through` names. A `KeyboardInterrupt` or
        `SystemExit` is recorded, the plugin left enabled, then raised on."""
        try:
            return bool(callback(*args))
        except _PROCESS_EXITS as error:
            slot.failures.append(PluginFailure(slot.name, phase, error, traceback.format_exc()))
            raise
        except BaseException as error:  # GeneratorExit, CancelledError: the plugin's, too
            if self._lets_through(error):
                raise
            slot.enabled = False
            slot.failures.append(PluginFailure(slot.name, phase, error, traceback.format_exc()))
            return False

    def _lets_through(self, error: BaseException) -> bool:
        """Whether `error` ends the run uncontained: never, in the fixed host."""
        return False

    # -- inspection --------------------------------------------------------------

    @property
    def plugin_names(self) -> list[str]:
        """Names of the registered plugins, in registration order."""
        return list(self._slots)

    @property
    def failures(self) -> list[PluginFailure]:
        """Everything a plugin callback raised, in the order it happened: each contained
        error, and each `KeyboardInterrupt` or `SystemExit` raised on."""
        return [failure for slot in self._slots.values() for failure in slot.failures]

    def failed_plugins(self) -> tuple[str, ...]:
        """Names of the plugins disabled by an error (never by an exit request)."""
        return tuple(name for name, slot in self._slots.items() if not slot.enabled)

    def screen_text(self) -> str:
        """Return what the last frame drew (see `Screen.text`)."""
        return self.screen.text()
