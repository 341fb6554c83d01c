"""`python -m reports.bench`: the benchmarks (see `reports.bench`)."""

import sys

from refimpl.support.cmdline import run_cli
from reports.bench import PROG, main

sys.exit(run_cli(main, PROG))
