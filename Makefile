# The two fresh-machine commands (README): `make serve` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test lint format unit integration bench protos clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	$(BIN)/voxify setup
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/voxify serve $(ARGS)

# The studio's browser test drives Debian's Chromium (nothing is downloaded at run time).
CHROMEDRIVER := /usr/bin/chromedriver
$(CHROMEDRIVER):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 || \
	  { apt-get update -q >/dev/null && apt-get install -y -q chromium chromium-driver >/dev/null; } || \
	  echo "Could not install Chromium: the studio's browser tests will be skipped"; \
	else echo "No Chromium and not root: the studio's browser tests will be skipped"; fi

test: $(STAMP) $(CHROMEDRIVER)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check voxify deployments tests loadtests
	$(BIN)/ruff format --check voxify deployments tests loadtests
	$(BIN)/mypy voxify deployments

format: $(STAMP)
	$(BIN)/ruff format voxify deployments tests loadtests
	$(BIN)/ruff check --fix voxify deployments tests loadtests

unit: $(STAMP) $(CHROMEDRIVER)
	$(BIN)/pytest tests/unit

integration: $(STAMP)
	$(BIN)/pytest tests/integration tests/e2e

bench: $(STAMP)
	$(BIN)/python loadtests/benchmark.py $(ARGS)

# voxify/grpc's Python modules, generated from voxify.proto and committed (a unit test checks).
protos: $(STAMP)
	$(BIN)/python -m grpc_tools.protoc -I . --python_out=. --pyi_out=. --grpc_python_out=. \
	  voxify/grpc/voxify.proto

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
