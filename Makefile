# Everything a fresh machine needs is installed here, into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DB ?= usagelens.duckdb

.PHONY: setup run demo serve test lint bench-ingest bench-quick clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

## Set up, load the demo tenant (once) and serve on http://127.0.0.1:8000
run: setup
	$(BIN)/usagelens demo --db $(DB)
	$(BIN)/usagelens serve --db $(DB)

demo: setup
	$(BIN)/usagelens demo --db $(DB)

serve: setup
	$(BIN)/usagelens serve --db $(DB)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## Set up and run every check and test
test: lint
	$(BIN)/pytest

bench-ingest: setup
	$(BIN)/python -m bench.ingest

## usagelens against DuckDB raw scan, PostgreSQL and chDB on ~1M events; writes bench/RESULTS.md
bench-quick: setup
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench.baselines

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
