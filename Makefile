# Plain entry points. `make test` builds a virtual environment from nothing and runs the suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: venv js lab test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

venv: $(VENV)/.installed

# installed again only when the project's metadata changes (an editable install follows src/)
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# The widget bundle: rebuilt from js/ (a JS package of its own) whenever a source is newer than it.
js: js/node_modules/.package-lock.json src/oairun_jupyter/static/widget.js

js/node_modules/.package-lock.json: js/package.json js/package-lock.json
	npm ci --prefix js --no-audit --no-fund

src/oairun_jupyter/static/widget.js: $(wildcard js/*.js js/*.css) js/node_modules/.package-lock.json
	npm run --prefix js build

# The main job: JupyterLab on the quickstart, against the local runs server (no key, no network).
lab: venv js
	$(BIN)/jupyter lab --allow-root notebooks/quickstart.ipynb

test: venv js
	$(BIN)/ruff check src tests bench
	npm test --prefix js
	$(BIN)/python -m pytest

bench: venv js
	$(BIN)/python bench/accumulation.py
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .hypothesis
