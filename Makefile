# ecr-archiver developer entry points. `make demo` and `make test` are the whole set-up:
# both create the Python 3.13 virtualenv on first use.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV    := .venv
BIN     := $(CURDIR)/$(VENV)/bin
PY      := $(BIN)/python
STAMP   := $(VENV)/.installed
PORT    ?= 4566
PYTEST_ARGS ?=

# sam build (BuildMethod python3.13) looks for python3.13 on PATH: the venv provides it.
export PATH := $(BIN):$(PATH)
export SAM_CLI_TELEMETRY := 0
export AWS_EC2_METADATA_DISABLED := true

# Find a working python3.13: on PATH (a pyenv shim may exist but not be active), else pyenv's.
PYTHON313 ?= $(shell for c in python3.13 $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.13*/bin/python3.13 2>/dev/null | sort -V | tail -n1) /usr/local/bin/python3.13 /usr/bin/python3.13; do \
	  if [ -n "$$c" ] && "$$c" -c 'import sys; assert sys.version_info[:2] == (3, 13)' >/dev/null 2>&1; then echo "$$c"; break; fi; done)

.PHONY: help venv lint format unit integration template-test pytest build test docs docs-build demo emulator bench bench-full deploy clean distclean

help: ## List targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

venv: $(STAMP) ## Create .venv (python3.13) with the pinned dev dependencies

$(STAMP): pyproject.toml layers/core/requirements.txt
	@if [ -z "$(PYTHON313)" ]; then \
	  echo "error: python3.13 not found. Install Python 3.13 (e.g. 'pyenv install 3.13') or pass PYTHON313=/path/to/python3.13." >&2; exit 1; fi
	@if [ ! -x "$(PY)" ] || ! "$(PY)" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null; then \
	  rm -rf $(VENV); echo "creating $(VENV) with $(PYTHON313)"; "$(PYTHON313)" -m venv $(VENV); fi
	@echo "[1/3] upgrading pip in $(VENV)"
	@$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	@echo "[2/3] installing ecr-archiver and its pinned dev dependencies (first time: 1-2 minutes)"
	@$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@echo "[3/3] checking the installed versions"
	@$(PY) -m pip check
	@$(PY) scripts/check_versions.py
	@touch $(STAMP)
	@echo "$(VENV) ready: . $(VENV)/bin/activate (or run $(VENV)/bin/ecr-archiver)"

lint: $(STAMP) ## ruff (with complexity), ruff format --check, mypy, function length, sam validate --lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(PY) scripts/check_function_length.py --max 60
	$(BIN)/sam validate --lint
	for t in templates/*.yaml; do $(BIN)/sam validate --lint --template $$t; done

format: $(STAMP) ## Apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

unit: $(STAMP) ## Unit tests
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

integration: $(STAMP) ## Integration tests (handlers against the in-process emulator)
	$(PY) -m pytest tests/integration $(PYTEST_ARGS)

template-test: $(STAMP) ## Template tests (invariants, SAM transform, sam validate)
	$(PY) -m pytest tests/template $(PYTEST_ARGS)

pytest: $(STAMP) ## Every pytest tier in one run (one summary line)
	$(PY) -m pytest tests $(PYTEST_ARGS)

build: $(STAMP) ## sam build (no Docker; arm64 wheels)
	$(BIN)/sam build --parallel

test: lint build security docs-build pytest ## The CI gate: lint, sam build, checkov, docs, then every pytest tier (summary line last)

docs: $(STAMP) ## Serve the docs site on http://127.0.0.1:8000 (live reload)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

docs-build: $(STAMP) ## Build the docs site into site/ (strict: a broken link fails)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

demo: $(STAMP) ## The whole flow on the embedded emulator
	$(PY) -m ecr_harness.demo

EMULATOR_ARGS ?=
emulator: $(STAMP) ## Run the emulator on 127.0.0.1:$(PORT) in the foreground (EMULATOR_ARGS=--log-requests for a line per request)
	$(PY) -m ecr_emulator --host 127.0.0.1 --port $(PORT) $(EMULATOR_ARGS)

bench: $(STAMP) ## Quick benchmarks (writes benchmarks/RESULTS.md)
	$(PY) -m benchmarks.run --quick

bench-full: $(STAMP) build ## Complete benchmarks including 100k candidates
	$(PY) -m benchmarks.run --full

deploy: $(STAMP) ## sam build && sam deploy --guided
	$(BIN)/sam build --parallel
	$(BIN)/sam deploy --guided

clean: ## Remove build output and caches (keeps .venv)
	rm -rf .aws-sam .mypy_cache .ruff_cache .pytest_cache .hypothesis build dist site
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -print0 | xargs -0 rm -rf

distclean: clean ## clean, and remove .venv
	rm -rf $(VENV)

# -- security scan ----------------------------------------------------------------------------
# checkov pins its own boto3, which conflicts with ours, so it lives in a venv of its own under
# .venv (make distclean removes it). It scans the templates offline: .checkov.yaml holds the
# project-wide skips with their reasons; resource-specific ones are justified inline
# (Metadata.checkov.skip[].comment).
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV    := $(VENV)/checkov
CHECKOV_STAMP   := $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)

.PHONY: security
security: $(CHECKOV_STAMP) ## checkov over template.yaml (own venv, offline); must be clean
	$(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml \
	  --file template.yaml $(addprefix --file ,$(wildcard templates/*.yaml))

$(CHECKOV_STAMP): | $(STAMP)
	rm -rf $(CHECKOV_VENV)
	$(PY) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check checkov==$(CHECKOV_VERSION)
	@touch $@
