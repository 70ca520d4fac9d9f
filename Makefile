# redfed: `make run` serves a local instance, `make test` runs the whole suite.
# Both create .venv and install what they need the first time (and after pyproject.toml changes).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUN_STAMP  := $(VENV)/.installed-run
DEV_STAMP  := $(VENV)/.installed-dev

.PHONY: run test test-sqlite test-postgres lint bench migrations browser-deps clean help

help:
	@echo "make run    - set up and serve redfed on http://localhost:8000 (SQLite, first admin account)"
	@echo "make test   - set up and run the test suite (SQLite; also PostgreSQL if REDFED_TEST_DATABASE_URL is set)"
	@echo "make lint   - ruff, import-linter (layers) and mypy"
	@echo "make bench  - run the benchmarks in bench/ (they print figures)"

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(RUN_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install -q -e .
	@touch $@

$(DEV_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install -q -e ".[dev]"
	@touch $@ $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/redfed run

# The browser test drives Debian's Chromium (no browser download): install it when missing,
# with a small CJK font so Chinese pages render in screenshots.
browser-deps:
	@if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "Installing Debian's chromium for the browser test..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null) \
		|| echo "chromium could not be installed: the browser test will be skipped"; \
	fi

test: $(DEV_STAMP) browser-deps
	$(BIN)/pytest
	@if [ -n "$$REDFED_TEST_DATABASE_URL" ]; then \
		echo "== the same suite on PostgreSQL ($$REDFED_TEST_DATABASE_URL) =="; \
		$(BIN)/pytest -m "not browser"; \
	fi

test-sqlite: $(DEV_STAMP)
	REDFED_TEST_DATABASE_URL= $(BIN)/pytest

test-postgres: $(DEV_STAMP)
	REDFED_TEST_DATABASE_URL=$${REDFED_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} $(BIN)/pytest -m "not browser"

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/lint-imports
	$(BIN)/mypy src/redfed/activitypub src/redfed/federation src/redfed/services

bench: $(DEV_STAMP)
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# Create a migration after changing models (review it before committing).
migrations: $(DEV_STAMP)
	$(BIN)/python scripts/makemigrations.py

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
