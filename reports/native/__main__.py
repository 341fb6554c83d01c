"""`python -m reports.native`: the native matrix (see `reports.native`)."""

import sys

from refimpl.support.cmdline import run_cli
from reports.native import PROG, main

sys.exit(run_cli(main, PROG))
