# The two set-up commands: `make run` (demo on the embedded defaults) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BIEB := $(BIN)/bieb
PORT ?= 8000
export PORT
STAMP := $(VENV)/.installed

export BIEB_DEMO ?= 1

.PHONY: run test lint typecheck architecture migrations-check pytest pytest-postgres install clean bench

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIEB) migrate --noinput
	$(BIEB) demo
	$(BIEB) collectstatic --noinput --verbosity 0
	$(BIEB) serve

test: lint typecheck architecture migrations-check pytest pytest-postgres

lint: $(STAMP)
	$(BIN)/ruff check --output-format concise .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy bieb

# The import contracts in pyproject.toml ([tool.importlinter]): the boundaries of DESIGN.md
# (the KB side imports no library app, the library side reaches the KB only through its
# interface, core imports no other app). docs/architecture.md says where each app stands.
architecture: $(STAMP)
	$(BIN)/lint-imports --no-logo

migrations-check: $(STAMP)
	$(BIEB) makemigrations --check --dry-run

# The suite runs on one worker per core (pytest-xdist); PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= auto

pytest: $(STAMP)
	$(BIN)/pytest -n $(PYTEST_WORKERS)

# The data tests again, on PostgreSQL (BIEB_TEST_POSTGRES_URL, default the local server);
# the browser tests run once, in the pass above.
pytest-postgres: $(STAMP)
	$(BIN)/python -m tests.postgres_run -n $(PYTEST_WORKERS)

# The benchmarks of bench/README.md against the PostgreSQL server on loopback (not part of test).
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	BIEB_DEMO= $(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache .hypothesis .import_linter_cache
