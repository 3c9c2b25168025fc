# The two commands of the README. Each creates .venv on a fresh machine and installs what it needs.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-16)

.PHONY: run test lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	rm -f $(VENV)/.installed-* && touch $@

run: $(STAMP)
	$(BIN)/exchange-api init --demo
	$(BIN)/exchange-api serve --host 127.0.0.1 --port 8000

test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy exchange_api

pytest: $(STAMP)
	$(BIN)/pytest

# Not part of `make test`: minutes of load against PostgreSQL on 127.0.0.1:5432 (see README).
# Flags through BENCH_ARGS, e.g. make bench BENCH_ARGS="--sizes 10000,100000,1000000".
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
