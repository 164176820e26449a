# Two commands for a fresh machine: `make run` and `make test` (see README).
# VENV may point elsewhere (CI keeps one outside the clone, keyed on pyproject.toml).
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP_RUN := $(VENV)/.spadework-run
STAMP_TEST := $(VENV)/.spadework-test

.PHONY: run test lint bench train-default venv clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Installs are stamped with pyproject.toml, so a changed dependency list reinstalls.
$(STAMP_RUN): pyproject.toml | $(PY)
	$(PIP) install --quiet -e .
	touch $@

$(STAMP_TEST): pyproject.toml | $(PY)
	$(PIP) install --quiet -e '.[test]'
	touch $@ $(STAMP_RUN)

venv: $(STAMP_RUN)

run: $(STAMP_RUN)
	$(VENV)/bin/spadework

lint: $(STAMP_TEST)
	$(VENV)/bin/ruff check .
	PYTHONPATH=. $(VENV)/bin/lint-imports

test: lint
	# A cached venv may carry an editable install of another clone: point it here.
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -p no:cacheprovider

# Each prints ratios against a baseline timed in the same run (see README and docs/).
bench: $(STAMP_TEST)
	$(PY) bench/spade.py
	$(PY) bench/spade_train.py
	QT_QPA_PLATFORM=offscreen $(PY) bench/canvas.py
	QT_QPA_PLATFORM=offscreen $(PY) bench/ui_synthesis.py
	$(PY) bench/default_model.py
	$(PY) bench/singan.py

train-default: $(STAMP_RUN)
	$(PY) -m ml data train-default --out resources/models/landscape-256 --steps 11378 --force

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
