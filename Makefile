# finetune-kit — every target builds the virtual environment first if it is missing or stale.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# tiktoken downloads its encodings on first use; on machines without internet an offline copy
# beside the repo (../shared/tiktoken_cache) is used when present. The library never hard-codes it.
ifneq ($(wildcard ../shared/tiktoken_cache),)
export TIKTOKEN_CACHE_DIR ?= $(abspath ../shared/tiktoken_cache)
endif
# openai-harmony (gpt-oss counts) reads its vocabulary from TIKTOKEN_ENCODINGS_BASE instead.
ifneq ($(wildcard ../shared/tiktoken_encodings),)
export TIKTOKEN_ENCODINGS_BASE ?= $(abspath ../shared/tiktoken_encodings)
endif

.PHONY: demo test lint typecheck docs docs-serve check clean mutation

DEMO_STAMP := $(VENV)/.installed-demo

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# the demo needs the library plus the emulator and plot extras
$(DEMO_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e '.[demo]'
	touch $(DEMO_STAMP)

# development: everything (tests, lint, type-check, docs)
$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP) $(DEMO_STAMP)

## demo: set up (if needed), then run the whole story on the bundled sample, offline
demo: $(DEMO_STAMP)
	$(BIN)/finetune-kit demo

## test: set up (if needed), then run the test suite
test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python scripts/check_tests.py

typecheck: $(STAMP)
	$(BIN)/mypy --strict finetune_kit

docs: $(STAMP)
	$(BIN)/mkdocs build --strict

docs-serve: $(STAMP)
	$(BIN)/mkdocs serve

check: test lint typecheck docs

MUTATION_STAMP := $(VENV)/.installed-mutation

$(MUTATION_STAMP): pyproject.toml | $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,mutation]'
	touch $(MUTATION_STAMP)

## mutation: mutation testing of the money and data modules (slow: not in CI); GROUPS="io pii"
mutation: $(MUTATION_STAMP)
	$(BIN)/python scripts/mutation.py $(GROUPS)

clean:
	rm -rf $(VENV) site .mypy_cache .ruff_cache .pytest_cache demo-output mutants
