# Plain entry points. `make test` builds a virtual environment from nothing and runs the suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: venv test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

venv: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'

test: venv
	$(BIN)/python -m pytest

bench: venv
	$(BIN)/python bench/accumulation.py
	$(BIN)/python bench/server.py
	$(BIN)/python bench/runs.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .hypothesis
