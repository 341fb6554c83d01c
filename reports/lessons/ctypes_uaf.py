"""Lesson 11: a real use-after-free in CPython, through ctypes, in a child process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from reports.lessons._ctypes_child import follow_raw_address
from reports.lessons._lesson import Lesson, Outcome


def run_child(mode: str) -> tuple[int, str]:
    """Run the child in `mode`; return its exit status and what it printed."""
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONFAULTHANDLER"}
    done = subprocess.run(
        [sys.executable, "-m", "reports.lessons._ctypes_child", mode],
        capture_output=True, text=True, timeout=60, env=environment,
    )  # fmt: skip
    return done.returncode, done.stdout.strip()


def _describe(status: int, printed: str) -> tuple[bool, str]:
    lines = printed.splitlines()
    if status < 0:
        name = signal.Signals(-status).name
        return True, f"the process died with {name} after printing {lines}"
    if lines[-1:] != ["Marker original"] or lines[:1] != ["alive"]:
        return True, f"the process read freed memory and got {lines[-1:] or ['nothing']}"
    return False, "the object was alive and the address held it: " + " / ".join(lines)


def broken() -> Outcome:
    failed, said = _describe(*run_child("broken"))
    return Outcome(failed, said)


def fixed() -> Outcome:
    failed, said = _describe(*run_child("fixed"))
    return Outcome(failed, said)


LESSON = Lesson(
    name="ctypes-uaf",
    title="A real use-after-free, through ctypes",
    pitfall=(
        "Everything else here is simulated; this one is not. `ctypes` can turn an `id()` "
        "back into an object without any check, exactly like the seed's cast. Once the "
        "object is freed, that reads freed memory: an impostor, garbage, or a segfault. "
        "It runs in a child process so that the harness survives."
    ),
    run_broken=broken,
    run_fixed=fixed,
    broken_code=(follow_raw_address,),
    fixed_code=(follow_raw_address,),
    nim="let ctx = cast[PluginContext[T]](p)   # p may point at freed memory",
    python="ctypes.cast(address, ctypes.py_object).value   # so may address",
    notes=("The fixed half is the same code with `keep=True`: an owner keeps the object alive.",),
)
