# Everything a newcomer needs: `make demo` then `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo test test-unit test-integration test-deploy bench measure docs airflow-up airflow-down lint clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev,deploy,openlineage,emulator]"
	@touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m aep_onboarding.demo

test: $(STAMP)
	$(BIN)/python tests/run_suite.py

test-unit: $(STAMP)
	$(BIN)/pytest -m "not integration" -q

test-integration: $(STAMP)
	$(BIN)/pytest -m integration -q

test-deploy: $(STAMP)
	$(BIN)/pytest tests/deploy -q

measure: $(STAMP)
	$(BIN)/python scripts/measure_deployment.py

# The reference tools (dag-factory, aepp) live in their own virtualenv: installed next to the
# deployment they load as Airflow plugins and fill every task log with their deprecation warnings.
BENCH_VENV ?= .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed

$(BENCH_STAMP): pyproject.toml
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/pip install --quiet -e ".[deploy,bench,emulator]"
	@touch $(BENCH_STAMP)

# The deployment rows run on scripts/airflow-up.sh, which takes Airflow from .venv: both virtualenvs are prepared.
bench: $(BENCH_STAMP) $(STAMP)
	$(BENCH_VENV)/bin/python -m benchmarks.run $(BENCH_ARGS)

# The DAG pictures of the README, drawn from the DAGs as they are (needs Debian's chromium, as the browser test).
docs: $(STAMP)
	$(BIN)/python -m scripts.doc_pictures

airflow-up: $(STAMP)
	bash scripts/airflow-up.sh

airflow-down:
	bash scripts/airflow-down.sh

lint: $(STAMP)
	$(BIN)/ruff check plugins include dags tests benchmarks scripts
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(BENCH_VENV) .airflow .pytest_cache .mypy_cache .ruff_cache
