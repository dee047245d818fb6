# Two commands for a fresh machine (see README.md):
#   make run   - install, migrate, create the admin, load the bundled schemas, serve on 127.0.0.1:8081
#   make test  - install the test extras and run the whole suite on real PostgreSQL and Redis
#   make lint  - ruff's formatter and linter over the whole tree (configured in pyproject.toml)
#   make load  - 60 s of the mixed workload against a whole registry of its own, then the invariant check
#   make faults - every fault scenario (tests/reliability/, marker `faults`) under 30 s of load each
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
REGISTRY_PORT ?= 8081

.PHONY: run serve test test-tools lint install install-dev bootstrap benchmark load faults clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[server]"
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

# The quick start runs with DEBUG on and in-process tasks unless the environment says otherwise.
bootstrap: install
	DEBUG=$${DEBUG:-true} LOG_FORMAT=$${LOG_FORMAT:-text} $(BIN)/python manage.py bootstrap

# Anonymous reads suit a laptop only: say so, so nobody mistakes this for a deployment's setting.
run: bootstrap
	@echo "make run: REGISTRY_ANONYMOUS_READ=$${REGISTRY_ANONYMOUS_READ:-true} (anonymous clients may read every schema; deployments keep it off)"
	REGISTRY_ANONYMOUS_READ=$${REGISTRY_ANONYMOUS_READ:-true} DEBUG=$${DEBUG:-true} LOG_FORMAT=$${LOG_FORMAT:-text} $(BIN)/python manage.py runserver 127.0.0.1:$(REGISTRY_PORT) --noreload

# ts-proto for the TypeScript generator's tests and the buf binary for the conformance tests (one `npm ci`
# installs both); Debian's tools (protoc-gen-go, protoc-gen-go-grpc, chromium, nodejs, npm) need root:
# `bash .ci/run` installs them, and the suite stops at once naming any that is missing.
codegen/node/node_modules/.bin/protoc-gen-ts_proto codegen/node/node_modules/.bin/buf &: codegen/node/package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: apt-get install -y nodejs npm"; exit 4; }
	cd codegen/node && npm ci --no-audit --no-fund --loglevel=error

test-tools: codegen/node/node_modules/.bin/protoc-gen-ts_proto codegen/node/node_modules/.bin/buf

test: install-dev test-tools
	$(BIN)/python -m pytest

lint: install-dev
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

# Benchmarks write their figures to tests/performance/results/ (bench_registry needs Debian's wrk).
benchmark: install-dev
	$(BIN)/python tests/performance/bench_engine.py
	$(BIN)/python tests/performance/benchmark_serialization.py
	$(BIN)/python tests/performance/benchmark_schema.py schemas/trading/market_data.proto
	$(BIN)/python tests/performance/bench_registry.py
	$(BIN)/python tests/performance/bench_transports.py
	$(BIN)/python tests/performance/bench_ui.py
	$(BIN)/python tests/performance/bench_codegen.py

# The load test and the fault scenarios (tests/reliability/) start their own PostgreSQL, Redis, Celery and gunicorn
# on 127.0.0.1 and write their figures to tests/performance/results/reliability.md; the suite runs short versions.
RELIABILITY = RELIABILITY_SCALE=full RELIABILITY_RESULTS=1 $(BIN)/python -m pytest tests/reliability -p no:cacheprovider -q -rP

load: install-dev test-tools
	$(RELIABILITY) -m load

faults: install-dev test-tools
	RELIABILITY_SECONDS=$${RELIABILITY_SECONDS:-30} $(RELIABILITY) -m faults

clean:
	rm -rf $(VENV) var/*.sqlite3* staticfiles
