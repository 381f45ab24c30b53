# Plain entry points. `make test` builds a virtual environment from nothing and runs the suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: venv js lab test bench mutation clean

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
	$(BIN)/python bench/widget_render_lab.py
	$(BIN)/python bench/team.py

# Mutation testing (not in CI; about 45 minutes on 2 cores): the functions holding the behaviours
# the product stands on, against the tests of [tool.mutmut] in pyproject.toml. `mutmut results`
# lists the surviving mutants, `mutmut show NAME` shows one's change.
MUTANTS := \
	'oairun_jupyter.tools._executor.xǁToolExecutorǁprepare__mutmut_*' \
	'oairun_jupyter.tools._executor.x_declared_function_names__mutmut_*' \
	'oairun_jupyter.runs._polling.x_wait_sync__mutmut_*' \
	'oairun_jupyter.runs._polling.x_wait_async__mutmut_*' \
	'oairun_jupyter.runs._run_stream.xǁRunStreamǁ_iterate__mutmut_*' \
	'oairun_jupyter.runs._run_stream.xǁRunStreamǁ_aiterate__mutmut_*' \
	'oairun_jupyter.protocol._deltas.*' \
	'oairun_jupyter.transport._retry.*' \
	'oairun_jupyter._secrets.*' \
	'oairun_jupyter.protocol._sse.xǁSSEDecoderǁ*' \
	'oairun_jupyter.api._request.xǁ_Pagerǁnext_endpoint__mutmut_*' \
	'oairun_jupyter.api._request.xǁ_Pagerǁadd__mutmut_*' \
	'oairun_jupyter.display._bridge.xǁRunWidgetBridgeǁ_maybe_flush__mutmut_*' \
	'oairun_jupyter.display._bridge.xǁRunWidgetBridgeǁ_timed_flush__mutmut_*' \
	'oairun_jupyter.display._bridge.xǁRunWidgetBridgeǁ_piece__mutmut_*' \
	'oairun_jupyter.display._bridge.xǁRunWidgetBridgeǁflush__mutmut_*' \
	'oairun_jupyter.server._engine.xǁEngineǁrecover__mutmut_*'

mutation: venv js
	$(BIN)/pip install --quiet 'mutmut==3.8.1'
	rm -rf mutants && mkdir -p mutants/js
	$(BIN)/mutmut run $(MUTANTS)
	$(BIN)/mutmut results

clean:
	rm -rf $(VENV) build dist .pytest_cache .hypothesis mutants
