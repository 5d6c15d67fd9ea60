# Everything a fresh machine needs is installed here, into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DB ?= usagelens.duckdb
SIZE ?= 10M
# The dashboard's bundle, built from web/ into the package that serves it (gitignored).
WEB_BUILT := src/usagelens/dashboard/assets/.built
WEB_MODULES := web/node_modules/.installed
WEB_SOURCES := web/tsconfig.json web/build.mjs \
	$(wildcard web/src/*.ts web/styles/*.css web/pages/*.html)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup web chromium postgres run demo serve test lint bench-ingest bench bench-quick bench-data clean

setup: $(VENV)/.installed $(WEB_BUILT)

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

## Build the dashboard (TypeScript and Chart.js, bundled by esbuild) into the package
web: $(WEB_BUILT)

$(WEB_BUILT): $(WEB_MODULES) $(WEB_SOURCES)
	cd web && npm run --silent build

# The exact versions of package-lock.json, installed again only when it changes.
$(WEB_MODULES): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $@

## Debian's PostgreSQL server, which the benchmark's baseline b) starts a throwaway cluster of
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || [ -x /usr/local/bin/initdb ] || { \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends postgresql; }

## Debian's Chromium, which the dashboard's browser tests drive (never a downloaded browser)
chromium:
	@[ -x /usr/bin/chromium ] || { $(SUDO) apt-get update && \
		$(SUDO) apt-get install -y --no-install-recommends chromium; }

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
	cd web && npm run --silent typecheck

## Set up and run every check and test
test: lint chromium
	$(BIN)/pytest

bench-ingest: setup
	$(BIN)/python -m bench.ingest

## Issue 5's benchmark at one size (SIZE=1M|10M|100M): dataset, load, query mix, baselines a/b/c;
## writes bench/results/$(SIZE).json and bench/RESULTS.md
bench: setup postgres
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench.run --size $(SIZE)

## The same at 1M events
bench-quick: setup postgres
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench.run --size 1M

## The benchmark's dataset alone (deterministic, cached in bench/data/)
bench-data: setup
	$(BIN)/python -m bench.dataset --size $(SIZE)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache web/node_modules src/usagelens/dashboard/assets
