# The README's two commands: `make run` and `make test`. Each builds .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck check fuzz bench clean preview

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/safety-bot run

test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

check: $(STAMP)
	$(BIN)/safety-bot check

# The preview site (issue 16): open build/preview/index.html in a browser. With
# AGAINST=path/to/previous/messages (or a checkout), it also shows what a content change alters.
preview: $(STAMP)
	$(BIN)/safety-bot preview --out build/preview $(if $(AGAINST),--against $(AGAINST))

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Benchmarks (issue 7): one table, benchmarks/results.json and a chart; not part of `make test`.
bench: $(STAMP)
	$(BIN)/python -m benchmarks

# Property tests with 10,000 examples each: the core, config and content files, Telegram's
# deep links, callback data and typed messages, Discord's option values.
FUZZ := tests/test_hostile_input.py tests/telegram/test_hostile_input.py \
	tests/discord/test_hostile_input.py

fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=long $(BIN)/python -m pytest -q $(FUZZ)
