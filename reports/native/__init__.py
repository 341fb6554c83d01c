"""`python -m reports.native` (`make native`): the seed's Nim hosts, compiled and run for real.

The toolchain and builds (`_nim`), what a crash says, read into data (`_crash`), the
matrix of runs (`_matrix`) and the command line with native.json's provenance (`_cli`).
"""

from reports.native._cli import PROG, SCHEMA_VERSION, main, provenance
from reports.native._crash import Abort, Report
from reports.native._matrix import (
    FRAMES,
    MODULES,
    TIMEOUT,
    Cell,
    CellSpec,
    compiler_differences,
    find_nim,
    matrix_markdown,
    outcome,
    run_cell,
    run_cells,
)
from reports.native._nim import (
    CHECKERS,
    GCC_MISSING,
    HOSTS,
    MMS,
    NIM_HIDDEN,
    NIM_MISSING,
    Compiler,
    asan_instrumented,
    build,
    find_compilers,
    gcc_version,
    toolchain_missing,
)

__all__ = [
    "CHECKERS",
    "FRAMES",
    "GCC_MISSING",
    "HOSTS",
    "MMS",
    "MODULES",
    "NIM_HIDDEN",
    "NIM_MISSING",
    "PROG",
    "SCHEMA_VERSION",
    "TIMEOUT",
    "Abort",
    "Cell",
    "CellSpec",
    "Compiler",
    "Report",
    "asan_instrumented",
    "build",
    "compiler_differences",
    "find_compilers",
    "find_nim",
    "gcc_version",
    "main",
    "matrix_markdown",
    "outcome",
    "provenance",
    "run_cell",
    "run_cells",
    "toolchain_missing",
]
