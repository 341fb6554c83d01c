"""`python -m reports.bench` (`make bench`): what the fix costs and how fast the harness finds bugs.

Timings through pytest-benchmark (`_timing`, running `bench_ownership.py`), memory
through tracemalloc (`_memory`), the harness's cost (`_harness`), the targets and the
table (`_table`), the command line (`_cli`); `reports.bench.fuzz` measures what
remembering failures and sharding cost.
"""

from reports.bench._cli import PROG, SCHEMA_VERSION, main
from reports.bench._memory import memory_per_context
from reports.bench._table import table
from reports.bench._timing import BENCH_FILE, BenchmarksFailed, run_benchmarks

__all__ = [
    "BENCH_FILE",
    "PROG",
    "SCHEMA_VERSION",
    "BenchmarksFailed",
    "main",
    "memory_per_context",
    "run_benchmarks",
    "table",
]
