"""`python -m reports.survey`: the survey's table (see `reports.survey`). The factories are
those of `reports.survey`, imported by name, so each worker imports them back by path."""

import sys

from refimpl.support.cmdline import run_cli
from reports.survey import PROG, main

sys.exit(run_cli(main, PROG))
