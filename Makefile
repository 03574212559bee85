# Paygod: every target sets itself up on a fresh machine with nothing but Python 3.11.
PYTHON ?= python3.11
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Precompile bytecode at install time: with PYTHONDONTWRITEBYTECODE set (as on these
# machines) nothing is cached later, and every start would recompile FastAPI, SQLAlchemy
# and the rest from source (over a second of start-up).
export UV_COMPILE_BYTECODE := 1

.PHONY: run test lint typecheck pytest bench demo clean sync sync-dev

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet uv==$(UV_VERSION)

sync: $(UV)  ## runtime dependencies only, from the lock file
	$(UV) sync --frozen --no-dev --python $(PYTHON) --quiet
	$(VENV)/bin/python -m compileall -q -j 0 src/paygod

sync-dev: $(UV)  ## runtime + test/lint dependencies, from the lock file
	$(UV) sync --frozen --python $(PYTHON) --quiet
	$(VENV)/bin/python -m compileall -q -j 0 src/paygod

run: sync  ## start the kernel on 127.0.0.1:8080, SQLite under ./paygod-data, in dev mode
	PAYGOD_HOME=$${PAYGOD_HOME:-./paygod-data} $(VENV)/bin/paygod migrate
	PAYGOD_HOME=$${PAYGOD_HOME:-./paygod-data} PAYGOD_DEV_MODE=$${PAYGOD_DEV_MODE:-true} $(VENV)/bin/paygod serve

demo: sync  ## a guided tour: requests allowed, denied, flagged, refused; ledger verified
	$(VENV)/bin/paygod demo

lint: sync-dev
	$(VENV)/bin/ruff check src tests bench examples
	$(VENV)/bin/ruff format --check src tests bench examples

typecheck: sync-dev
	$(VENV)/bin/mypy --strict src/paygod

pytest: sync-dev
	$(VENV)/bin/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

test: lint typecheck pytest  ## everything CI runs

bench: sync-dev  ## benchmarks, each printed beside a same-run baseline
	$(VENV)/bin/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(TOOLS) .mypy_cache .ruff_cache .pytest_cache
