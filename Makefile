# Plain entry points. `make test` builds a virtual environment from nothing and runs the suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: venv js lab test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

venv: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'

# The widget bundle: rebuilt from js/ whenever a source is newer than it.
js: node_modules/.package-lock.json src/oairun_jupyter/static/widget.js

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

src/oairun_jupyter/static/widget.js: $(wildcard js/*.js js/*.css) node_modules/.package-lock.json
	npm run build

# The main job: JupyterLab on the quickstart, against the local runs server (no key, no network).
lab: venv js
	$(BIN)/jupyter lab --allow-root notebooks/quickstart.ipynb

test: venv js
	npm test
	$(BIN)/python -m pytest

bench: venv js
	$(BIN)/python bench/accumulation.py
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .hypothesis
