"""Run as a child process by the ctypes lesson: follow a raw address for real.

`python -m reports.lessons._ctypes_child broken|fixed` prints whether the object
was freed, then what the address holds when cast back with ctypes. In `broken`
mode nothing keeps the object alive, so this reads freed memory: it may print an
impostor, garbage, or kill the process with a signal.
"""

from __future__ import annotations

import ctypes
import gc
import sys
import weakref


class Marker:
    """An object that says which one it is."""

    __slots__ = ("__weakref__", "tag")

    def __init__(self, tag: str) -> None:
        self.tag = tag


def follow_raw_address(keep: bool) -> None:
    original = Marker("original")
    address = id(original)  # the raw pointer
    alive = weakref.ref(original)
    kept = original if keep else None
    del original
    gc.collect()
    print("alive" if alive() is not None else "freed", flush=True)
    impostors = [Marker("impostor") for _ in range(10_000)]  # reuse the freed block
    found = ctypes.cast(address, ctypes.py_object).value  # the seed's cast[...](p)
    print(f"{type(found).__name__} {getattr(found, 'tag', '?')}", flush=True)
    del impostors, kept


if __name__ == "__main__":
    follow_raw_address(keep=sys.argv[1:] == ["fixed"])
