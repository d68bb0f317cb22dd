# ablasim: two commands set everything up on a fresh machine.
#   make demo   creates .venv, installs ablasim with its dev extras, runs the bundled example end to end and leaves
#               the numba cache warm for every command (numba's default place, next to the package's modules, which
#               `.venv/bin/ablasim` run from a shell uses too; or NUMBA_CACHE_DIR when it is set)
#   make test   the whole test suite (benchmarks run once, untimed) in the same venv
#   make bench  the benchmarks for real (pytest-benchmark)
#   make lint   ruff (lint and format check) and mypy, as CI runs them

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

export MPLBACKEND ?= Agg

.PHONY: demo test bench lint venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/ablasim run examples/three_probes.toml --json out/three_probes.json
	$(PY) -c "from ablasim.cli._firstrun import compile_all; compile_all()"  # the other kernels too: later first runs start warm

test: $(STAMP)
	$(PY) -m pytest tests src/ablasim benchmarks --benchmark-disable -q

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks examples docs/figures
	$(VENV)/bin/ruff format --check src tests benchmarks examples docs/figures
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) -m pytest benchmarks --benchmark-only --benchmark-columns=min,median,max,rounds \
		--benchmark-sort=name --benchmark-group-by=group -q

clean:
	rm -rf $(VENV) .numba_cache out .pytest_cache .benchmarks
	find src -name '*.nbi' -delete -o -name '*.nbc' -delete  # numba's cache next to the modules
