# Two commands on a fresh machine:  `make demo` runs the host,  `make test` runs every check.
# Each does its own setup: a virtual environment in .venv with the package, its test extras, the
# development-only Stripe sandbox (its own distribution beside the plugin, never in the production wheel)
# and the miniature Intellectra that embeds the host (examples/intellectra-host, `intellectra-host serve`).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
APP    := plugins/zapier/app
SANDBOX := plugins/stripe_connect/sandbox
HOST_APP := examples/intellectra-host

.PHONY: demo run test lint typecheck pytest pytest-postgres host-app-example zapier-app bench docs clean

# One pip run, so the `dev` extra's intellectra-stripe-sandbox (and the example's dependency on this
# package) resolve to the local folders, never an index's.
$(BIN)/.installed: pyproject.toml $(SANDBOX)/pyproject.toml $(HOST_APP)/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/pip install --quiet -e ./$(SANDBOX) -e '.[test,dev,postgres]' -e './$(HOST_APP)[test]'
	touch $@

demo run: $(BIN)/.installed  ## serve the host with the Stripe sandbox and demo tenants
	$(BIN)/intellectra-integrations serve --sandbox --port $${PORT:-8000}

test: $(BIN)/.installed lint typecheck pytest pytest-postgres host-app-example zapier-app  ## everything CI checks

lint: $(BIN)/.installed
	$(BIN)/ruff check .

typecheck: $(BIN)/.installed
	$(BIN)/mypy

pytest: $(BIN)/.installed  ## the whole suite on the embedded default (SQLite)
	$(BIN)/python -m pytest

pytest-postgres: $(BIN)/.installed  ## the host and plugin suites again on PostgreSQL
	INTELLECTRA_TEST_DB=postgres $(BIN)/python -m pytest tests/core tests/plugins

host-app-example: $(BIN)/.installed  ## the miniature Intellectra's tests (its story in Chromium), then on PostgreSQL
	cd $(HOST_APP) && $(CURDIR)/$(BIN)/python -m pytest
	cd $(HOST_APP) && INTELLECTRA_TEST_DB=postgres $(CURDIR)/$(BIN)/python -m pytest -m "not chromium"

zapier-app:  ## the Zapier app's own tests (node --test) against a live host
	cd $(APP) && npm ci --no-audit --no-fund --loglevel=error && PATH="$(CURDIR)/$(BIN):$$PATH" npm test

bench: $(BIN)/.installed  ## benchmarks: a table of ratios against same-run baselines (bench/README.md)
	$(BIN)/python -m bench

docs: $(BIN)/.installed
	$(BIN)/intellectra-integrations docs hooks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts
