# `make run` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)
POT := locales/messages.pot
SOURCES := bot handlers

.PHONY: setup run test lint format bench migrate catalogs i18n-extract i18n-update clean

# Set-up says one line and otherwise only what went wrong (pip's -qq keeps its errors), so that
# `make run` ends with the bot's banner.
$(STAMP): pyproject.toml
	@echo "Installing Hamgam and its dependencies into $(VENV) (the first time takes a few minutes)…"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -qq --upgrade pip
	@$(BIN)/python -m pip install -qq -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

setup: $(STAMP) catalogs

catalogs: $(STAMP)
	@$(BIN)/pybabel --quiet compile --domain messages --directory locales

migrate: setup
	@$(BIN)/hamgam migrate

run: setup
	@$(BIN)/hamgam run --migrate

# Two workers: most of an end-to-end test is waiting (for the bot, the clock, Telegram's
# pace), so two run in well under the time of one even on two cores; each worker has databases
# of its own (tests/conftest.py). Tests marked "alone" (the replicas) run after, by themselves.
TEST_WORKERS ?= 2

test: setup lint
	$(BIN)/pytest -n $(TEST_WORKERS) -m "not alone"
	$(BIN)/pytest -m alone

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup
	$(BIN)/python -m bench

# Catalogs: extract the strings from the code, merge them into both languages, fill English
# (the source language) and compile. Translate the new Persian entries by hand.
i18n-extract: $(STAMP)
	$(BIN)/pybabel extract --no-location --omit-header -k N_ -k __ \
		--input-dirs=bot,handlers -o $(POT) --project=hamgam

i18n-update: i18n-extract
	$(BIN)/pybabel update --domain messages --input-file $(POT) --output-dir locales \
		--no-fuzzy-matching --ignore-obsolete
	$(BIN)/python -m bot.i18n.catalogs fill-english locales/en/LC_MESSAGES/messages.po
	$(BIN)/python -m bot.i18n.catalogs check locales/*/LC_MESSAGES/messages.po

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
