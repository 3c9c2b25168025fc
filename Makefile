# The commands of the README (`make help` lists them). Each creates .venv on a fresh machine and
# installs what it needs: serving needs the package alone; the checks need the dev extras, the hsm
# extra (tests run the PKCS#11 keyring against SoftHSM2) and the
# bench extras too (tests/bench runs a short benchmark); a stamp per set notes what is installed for
# this pyproject.toml.

# The first of python3.11, python3.12, python3.13 that runs (a pyenv shim for a version that is not
# selected is found but does not run); `make PYTHON=/path/to/python3.x` overrides it.
PYTHON ?= $(shell for p in python3.11 python3.12 python3.13; do \
	$$p -c '' >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
HASH := $(shell cat pyproject.toml sdk/pyproject.toml | sha256sum | cut -c1-16)

.DEFAULT_GOAL := help
.PHONY: help run test lint typecheck pytest bench bench-soak clean

help: ## list the targets
	@echo "make TARGET  (Python: $(or $(PYTHON),none of python3.11/3.12/3.13 found; set PYTHON=))"
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z]+):.*## /  \1\t/' | expand -t 14

run: $(VENV)/.installed-run-$(HASH) ## install the service, `exchange-api init --demo`, serve on http://127.0.0.1:8000
	$(BIN)/exchange-api init --demo
	$(BIN)/exchange-api serve --host 127.0.0.1 --port 8000

test: lint typecheck pytest ## ruff check + format check, mypy --strict, pytest (PostgreSQL too if EXCHANGE_TEST_POSTGRES_URL is set)

lint: $(VENV)/.installed-dev-$(HASH) ## ruff check and ruff format --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-dev-$(HASH) ## mypy --strict over exchange_api and the SDK
	$(BIN)/mypy exchange_api
	$(BIN)/mypy sdk/exchange_client

# Without EXCHANGE_TEST_POSTGRES_URL every database test runs on SQLite only; say so before and
# after the run, where nobody can miss it.
define postgres_banner
if [ -z "$${EXCHANGE_TEST_POSTGRES_URL:-}" ]; then \
	echo ''; \
	echo '##########################################################################'; \
	echo '##  EXCHANGE_TEST_POSTGRES_URL is not set: SQLITE ONLY.'; \
	echo '##  The PostgreSQL half of the database tests is NOT run.'; \
	echo '##  To run it: EXCHANGE_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test make test'; \
	echo '##########################################################################'; \
	echo ''; \
fi >&2
endef

# Two processes share the tests (pytest-xdist): many of them wait on servers they start, so two
# keep two cores busy. Each process has its own databases, keys and tokens (tests/conftest.py).
TEST_PROCESSES ?= 2

pytest: $(VENV)/.installed-dev-$(HASH) ## the test suite (SQLite, and PostgreSQL if EXCHANGE_TEST_POSTGRES_URL is set)
	@$(postgres_banner)
	@status=0; $(BIN)/pytest -n $(TEST_PROCESSES) || status=$$?; $(postgres_banner); exit $$status

# Not part of `make test`: minutes of load against PostgreSQL on 127.0.0.1:5432 (see README).
# Flags through BENCH_ARGS, e.g. make bench BENCH_ARGS="--sizes 10000,100000,1000000".
bench: $(VENV)/.installed-dev-$(HASH) ## the benchmark (PostgreSQL; flags through BENCH_ARGS)
	$(BIN)/python -m bench $(BENCH_ARGS)

bench-soak: $(VENV)/.installed-dev-$(HASH) ## 10 minutes, 50 keep-alive clients, mixed operations (BENCH_ARGS too)
	$(BIN)/python -m bench --soak $(BENCH_ARGS)

clean: ## remove .venv and the tools' caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "no python3.11, python3.12 or python3.13 runs here:" \
		"install one, or name one with make PYTHON=/path/to/python3.x" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# .installed-<set>-<hash of pyproject.toml>: that set is installed for this pyproject.toml.
$(VENV)/.installed-run-$(HASH): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	rm -f $(VENV)/.installed-run-* && touch $@

$(VENV)/.installed-dev-$(HASH): pyproject.toml sdk/pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,bench,hsm]' -e ./sdk
	rm -f $(VENV)/.installed-dev-* && touch $@
