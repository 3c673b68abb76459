# Two entry points (see README):  make reproduce   and   make test
# Each creates the virtual environment in .venv if it is missing (Python >= 3.12 is found by
# scripts/find_python.sh) and installs the package with pinned dependencies (constraints.txt).
VENV      := .venv
PY        := $(VENV)/bin/python
STAMP     := $(VENV)/.installed
OUT       ?= results
PYTEST_ARGS ?=

.PHONY: reproduce test test-fast lint docs bench env clean notebook

$(STAMP): pyproject.toml constraints.txt scripts/find_python.sh
	@set -e; \
	if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then \
	  interp=$$(scripts/find_python.sh) || exit 1; \
	  echo "creating $(VENV) with $$interp"; \
	  rm -rf $(VENV); "$$interp" -m venv $(VENV); \
	fi; \
	$(PY) -m pip install --quiet --upgrade pip; \
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test,parallel,docs]'; \
	touch $(STAMP)

env: $(STAMP)

reproduce: $(STAMP)
	$(VENV)/bin/necc-bayes reproduce --out $(OUT) --overwrite

lint: $(STAMP)
	$(VENV)/bin/ruff check necc_bayes tests benchmarks scripts
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# the documentation site (docs/, mkdocs.yml; generated references: scripts/docs/) into site/,
# warnings as errors; part of `make test`, so CI fails on a broken page, link or docstring
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

test: lint docs
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

test-fast: lint docs
	$(VENV)/bin/python -m pytest -m "not slow" $(PYTEST_ARGS)

bench: $(STAMP)
	$(VENV)/bin/python benchmarks/run.py

clean:
	rm -rf $(VENV) results site .pytest_cache .mypy_cache .ruff_cache .import_linter_cache

notebook: $(STAMP)
	$(VENV)/bin/python scripts/build_notebook.py
