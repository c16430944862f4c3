# The README's commands. Each sets up what it needs on first use and is quick the second time.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := app
# Links in emails and Checkout's return lead to BASE_URL, so `make run PORT=5180` serves
# BASE_URL=http://127.0.0.1:5180 unless BASE_URL is set: in the environment, on make's command
# line or in .env. A server on every address (0.0.0.0) is reached at 127.0.0.1 from here.
ifeq ($(origin BASE_URL),undefined)
ifeq ($(shell grep -qs '^[[:space:]]*\(export[[:space:]]\{1,\}\)\{0,1\}BASE_URL[[:space:]]*=' .env && echo set),)
RUN_ENV := BASE_URL=http://$(if $(filter 0.0.0.0 ::,$(HOST)),127.0.0.1,$(HOST)):$(PORT)
endif
endif

.PHONY: run test lint format translations bench clean migrate admin demo import

run: migrate  ## set up, migrate the database, serve on http://$(HOST):$(PORT)
	$(RUN_ENV) $(BIN)/flask run --host $(HOST) --port $(PORT)

migrate: $(VENV)/.runtime  ## set up, apply migrations to the database
	$(BIN)/flask db upgrade

admin: migrate  ## make admin EMAIL=you@newsroom.org: a staff admin (asks for the password twice)
	@test -n "$(EMAIL)" || { echo "Usage: make admin EMAIL=you@newsroom.org" >&2; exit 2; }
	$(BIN)/flask staff create "$(EMAIL)" --role admin

demo: migrate  ## made-up members and three years of gifts for the dashboard (MEMBERS=2000)
	$(BIN)/flask demo seed $(if $(MEMBERS),--members $(MEMBERS))

# pytest-xdist: one worker per core (at most four), each with its own databases.
# TEST_WORKERS=0 runs the suite in one process.
TEST_WORKERS ?= auto
import: migrate  ## adopt the Stripe account's history (IMPORT_ARGS="--dry-run", "--since 2024-01-01")
	$(BIN)/flask stripe import $(IMPORT_ARGS)

test: $(VENV)/.dev lint  ## set up, lint, and run the whole suite
	$(BIN)/pytest -n $(TEST_WORKERS) --maxprocesses 4 $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(VENV)/.dev  ## measure against baselines on PostgreSQL; writes bench/RESULTS.md
	command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
	command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)
	$(BIN)/python -m bench.run

translations: $(VENV)/.dev  ## extract new strings, update the Russian catalog, compile it
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --sort-by-file --project membership -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations -l ru --ignore-obsolete
	$(BIN)/pybabel compile -d translations --statistics

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Stamp files: pip runs again only when a requirements file changes.
$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(VENV)/.runtime $@
