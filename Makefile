# Two commands matter on a fresh clone: `make run` and `make test` (both set up .venv first).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO := build/demo

.PHONY: setup run demo test install-check lint bench clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)  ## create .venv from the pinned requirements

demo: setup  ## write the synthetic demo submissions into build/demo/raw
	$(BIN)/sdz demo $(DEMO)/raw

run: demo  ## ingest the demo submissions into build/demo/warehouse/sdz.duckdb, then write the next round's templates
	$(BIN)/sdz run --raw $(DEMO)/raw --warehouse $(DEMO)/warehouse/sdz.duckdb
	$(BIN)/sdz templates --warehouse $(DEMO)/warehouse/sdz.duckdb

test: setup  ## the whole test suite
	$(BIN)/python -m pytest

install-check:  ## `pip install .` into a fresh venv, then demo + run from outside the repository: every mart built
	PYTHON=$(PYTHON) .ci/install-check

bench: setup  ## national-scale benchmark (300 / 1,000 / 2,850 zones); results in build/bench/results.json
	$(BIN)/python -m benchmarks.run_bench

lint: setup
	$(BIN)/ruff check pipelines schemas tests benchmarks

clean:
	rm -rf build .pytest_cache .ruff_cache
