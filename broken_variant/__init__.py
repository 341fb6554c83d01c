"""The bug, reproduced: the same API on untracked storage, with sanitizer-style reports.

`Host` and `PluginAPI` here are the broken ones (`BrokenHost`,
`UncheckedPluginAPI`), so code written against refimpl runs unchanged.
"""

from broken_variant._api import UncheckedPluginAPI
from broken_variant._errors import DoubleFree, MemorySafetyViolation, UseAfterFree, WildPointer
from broken_variant._heap import SimulatedHeap
from broken_variant._host import BrokenHost
from broken_variant._report import SanitizerReport, StackFrame
from broken_variant._store import UntrackedStore
from refimpl.support.reuse import reuse_address

Host = BrokenHost
PluginAPI = UncheckedPluginAPI

__all__ = [
    "BrokenHost",
    "DoubleFree",
    "Host",
    "MemorySafetyViolation",
    "PluginAPI",
    "SanitizerReport",
    "SimulatedHeap",
    "StackFrame",
    "UncheckedPluginAPI",
    "UntrackedStore",
    "UseAfterFree",
    "WildPointer",
    "reuse_address",
]
