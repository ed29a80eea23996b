# opskit: two commands after cloning.
#   make demo   set up .venv, register the kernel, build the demo warehouse, print the
#               catalog, run every report, then serve the dashboards (Ctrl-C stops)
#   make test   set up .venv and run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SCALE  ?= 1.0

.PHONY: demo test setup kernel warehouse bench lint clean dashboard

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

kernel: $(STAMP)
	$(BIN)/python -m ipykernel install --sys-prefix --name opskit --display-name "Python (opskit)" >/dev/null

warehouse: $(STAMP)
	$(BIN)/opskit demo build --scale $(SCALE)

demo: kernel warehouse
	$(BIN)/opskit datasets --rows
	$(BIN)/opskit report run --all
	@echo "reports: $(CURDIR)/reports/index.html"
	$(MAKE) dashboard

# Voila dashboards on 127.0.0.1 (prints their URLs; Ctrl-C stops). PORT=8866 by default.
PORT ?= 8866
dashboard: kernel
	$(BIN)/opskit dashboard --port $(PORT)

# Two workers, each test file on one of them (its fixtures are built once).
test: kernel
	$(BIN)/python -m pytest -n 2 --dist loadfile

bench: $(STAMP)
	$(BIN)/python -m benchmarks.demo_build
	$(BIN)/python -m benchmarks.catalog_load

lint: $(STAMP)
	$(BIN)/ruff check opskit tests benchmarks
	$(BIN)/ruff format --check opskit tests benchmarks
	$(BIN)/mypy opskit

clean:
	rm -rf $(VENV) data .pytest_cache
