"""The engine (the seed's backstorie): registers plugins and runs their lifecycle."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from refimpl._api import PluginAPI
from refimpl._plugin import KeyEvent, PluginModule
from refimpl._protocol import PluginStore
from refimpl._screen import Screen
from refimpl._store import ContextStore
from refimpl._validate import check_name

__all__ = ["Host", "PluginFailure", "RunSummary"]


@dataclass(frozen=True, slots=True)
class PluginFailure:
    """A plugin callback that raised: which plugin, in which phase, what and where."""

    plugin: str
    phase: str
    error: Exception
    traceback: str


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What one `Host.run` did: frames run, wall seconds, plugins disabled so far."""

    frames: int
    seconds: float
    failed: tuple[str, ...]


@dataclass(slots=True)
class _Slot:
    module: PluginModule
    api: PluginAPI
    enabled: bool = True
    failures: list[PluginFailure] = field(default_factory=list)


def _is_fatal(error: BaseException) -> bool:
    """A simulated crash (a class with `fatal = True`) ends the run like a segfault would."""
    return getattr(type(error), "fatal", False) is True


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
    `PluginAPI`, scoped to its name (see `register_plugin`). A callback that
    raises is contained: that plugin is disabled, its error recorded in
    `failures`, and the others run on. An exception whose class sets
    `fatal = True` (a simulated memory-safety crash) is not contained.

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

    # -- registration ------------------------------------------------------------

    def register_plugin(
        self, module: PluginModule, *, may_read: Iterable[str] = (), may_write: Iterable[str] = ()
    ) -> None:
        """Add `module` and run its `init`.

        Its API reaches only its own context, plus the contexts of the plugins
        named in `may_read` (read) and `may_write` (read and write). Raises
        `TypeError` for a module that is not a `PluginModule`, `ValueError` for a
        bad or already registered name, `RuntimeError` after `shutdown`.
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
        may_read, may_write = tuple(may_read), tuple(may_write)
        for other in (*may_read, *may_write):
            check_name(other)
        slot = _Slot(module, self._make_api(name, may_read, may_write))
        self._slots[name] = slot
        if module.init is not None:
            self._call(slot, "init", module.init, slot.api)

    def _make_api(self, name: str, may_read: Iterable[str], may_write: Iterable[str]) -> PluginAPI:
        return PluginAPI(
            self.store, owner=name, may_read=may_read, may_write=may_write, screen=self.screen
        )

    # -- running -----------------------------------------------------------------

    def run(self, frames: int | None = None, seconds: float | None = None) -> RunSummary:
        """Run frames (each: every plugin's `update`, then a fresh screen and every `render`).

        `run(frames=N)` runs N frames as fast as it can, with `dt = 1/fps`.
        `run(seconds=S)` runs paced at `fps` for S wall seconds, with the real
        `dt`; given both, it stops at whichever comes first. Raises `ValueError`
        when neither is given or one is negative.
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
        """Offer `event` to each plugin in registration order; True once one handles it."""
        if not isinstance(event, KeyEvent):
            raise TypeError(f"dispatch_event needs a KeyEvent, got {type(event).__name__}")
        for slot in self._live_slots():
            handler = slot.module.handle_event
            if handler is not None and self._call(slot, "handle_event", handler, slot.api, event):
                return True
        return False

    def shutdown(self) -> None:
        """Run every enabled plugin's `shutdown`, then release their contexts. Idempotent."""
        if self._shut_down:
            return
        self._shut_down = True
        for slot in self._live_slots():
            if slot.module.shutdown is not None:
                self._call(slot, "shutdown", slot.module.shutdown, slot.api)
        self._release_contexts()

    def _release_contexts(self) -> None:
        for name in self._slots:
            self.store.remove_plugin_data(name)

    # -- containment -------------------------------------------------------------

    def _live_slots(self) -> list[_Slot]:
        return [slot for slot in self._slots.values() if slot.enabled]

    def _call(
        self, slot: _Slot, phase: str, callback: Callable[..., object], *args: object
    ) -> bool:
        try:
            return bool(callback(*args))
        except Exception as error:
            if _is_fatal(error):
                raise
            slot.enabled = False
            slot.failures.append(
                PluginFailure(slot.module.name, phase, error, traceback.format_exc())
            )
            return False

    # -- inspection --------------------------------------------------------------

    @property
    def plugin_names(self) -> list[str]:
        """Names of the registered plugins, in registration order."""
        return list(self._slots)

    @property
    def failures(self) -> list[PluginFailure]:
        """Every contained plugin error, in the order they happened."""
        return [failure for slot in self._slots.values() for failure in slot.failures]

    def failed_plugins(self) -> tuple[str, ...]:
        """Names of the plugins disabled by an error."""
        return tuple(name for name, slot in self._slots.items() if not slot.enabled)

    def screen_text(self) -> str:
        """Return what the last frame drew (see `Screen.text`)."""
        return self.screen.text()
