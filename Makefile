# The two fresh-machine commands (README): `make serve` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test lint format unit integration bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	$(BIN)/voxify setup
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/voxify serve $(ARGS)

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check voxify deployments tests loadtests
	$(BIN)/ruff format --check voxify deployments tests loadtests
	$(BIN)/mypy voxify deployments

format: $(STAMP)
	$(BIN)/ruff format voxify deployments tests loadtests
	$(BIN)/ruff check --fix voxify deployments tests loadtests

unit: $(STAMP)
	$(BIN)/pytest tests/unit

integration: $(STAMP)
	$(BIN)/pytest tests/integration tests/e2e

bench: $(STAMP)
	$(BIN)/python loadtests/benchmark.py $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
