"""Whose code a stack frame runs: the harness's, or the store's and its user's.

The harness is the contract (`refimpl/contract/`), the test tools that drive it
(Hypothesis, pytest, pluggy, xdist) and the standard library's process and thread
plumbing. A stack shown to a user (a violation's detail, a sanitizer report's "freed
here") keeps only the other frames: those are the ones a user can act on.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import traceback
import types

__all__ = [
    "CONTRACT_DIR",
    "WORKER_ENTRY",
    "format_exception",
    "is_harness",
    "is_harness_code",
    "is_worker_entry",
]

_SUPPORT_DIR = os.path.dirname(os.path.abspath(__file__))
CONTRACT_DIR = os.path.join(os.path.dirname(_SUPPORT_DIR), "contract")
"""The contract's own directory: code from it is the harness's."""
WORKER_ENTRY = (os.path.join(CONTRACT_DIR, "_worker.py"), "serve")
"""The file and function a contract worker runs in: a worker is forked from the caller, so
the frames below it are the caller's at the fork, no part of what the store did."""
_GC_FILE = os.path.join(_SUPPORT_DIR, "collector.py")
_STDLIB_DIR = os.path.dirname(os.path.abspath(threading.__file__))
_TOOLS = frozenset(
    {"hypothesis", "_hypothesis_pytestplugin", "_hypothesis_globals", "_pytest", "pytest"}
    | {"pluggy", "xdist", "execnet"}
)
_STDLIB_PLUMBING = frozenset({"multiprocessing", "threading", "weakref", "_weakrefset", "runpy"})


def is_harness_code(code: types.CodeType) -> bool:
    """Whether `code` is the harness's: from a harness file (`is_harness`), or the
    `python -c` line that multiprocessing starts a worker with."""
    return is_harness(code.co_filename) or (
        code.co_filename == "<string>"
        and any(name.startswith("multiprocessing") for name in code.co_names)
    )


def is_worker_entry(code: types.CodeType) -> bool:
    """Whether `code` is `WORKER_ENTRY`'s."""
    return code.co_name == WORKER_ENTRY[1] and os.path.abspath(code.co_filename) == WORKER_ENTRY[0]


@functools.lru_cache(maxsize=1024)
def is_harness(filename: str) -> bool:
    """Whether code from `filename` belongs to the harness rather than to the store or user."""
    if filename.startswith("<frozen "):  # e.g. "<frozen runpy>"
        return filename[len("<frozen ") : -1].split(".")[0] in _STDLIB_PLUMBING
    if filename.startswith("<"):  # "<string>", "<stdin>": someone's own code
        return False
    path = os.path.abspath(filename)
    if path == _GC_FILE or path.startswith(CONTRACT_DIR + os.sep):
        return True
    parts = path.split(os.sep)
    for index, part in enumerate(parts[:-1]):
        if part in ("site-packages", "dist-packages"):
            return _top_level(parts[index + 1]) in _TOOLS
    if path.startswith(_STDLIB_DIR + os.sep):
        return _top_level(path[len(_STDLIB_DIR) + 1 :].split(os.sep)[0]) in _STDLIB_PLUMBING
    return any(path.startswith(folder) for folder in _tool_folders())  # e.g. a source checkout


def format_exception(error: BaseException | None, tb: types.TracebackType | None = None) -> str:
    """`traceback.format_exception(error)` without the harness's frames (`is_harness`),
    in `error` and in the errors it was raised from or during; `tb` when given is
    `error`'s traceback."""
    if error is None:
        return ""
    shown = traceback.TracebackException(type(error), error, tb or error.__traceback__)
    seen: set[int] = set()
    part: traceback.TracebackException | None = shown
    while part is not None and id(part) not in seen:
        seen.add(id(part))
        kept = [frame for frame in part.stack if not is_harness(frame.filename)]
        part.stack = traceback.StackSummary.from_list(kept)
        part = part.__cause__ or part.__context__
    return "".join(shown.format())


def _tool_folders() -> list[str]:
    """Where the test tools in use were imported from, wherever they are installed."""
    folders: list[str] = []
    for name in _TOOLS:
        for folder in getattr(sys.modules.get(name), "__path__", ()):
            folders.append(os.path.join(os.path.abspath(folder), ""))
    return folders


def _top_level(name: str) -> str:
    return name.removesuffix(".py")
