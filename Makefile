# The two commands a new user needs: `make report` (set up + all reports) and `make test`.
# Everything else here serves those two or the maintainers.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.maexlab-installed
LOCK := constraints/requirements.lock
NBVAL_FLAGS := --nbval --nbval-kernel-name maexlab --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: setup browser report test unit nbval lab notebooks lint bench validate data clean

# Virtual environment with the exact versions of the lock, the package editable, and the kernel.
$(STAMP): pyproject.toml $(LOCK)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r $(LOCK)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(PY) -m ipykernel install --sys-prefix --name maexlab --display-name "Python (maexlab)" >/dev/null
	touch $(STAMP)

setup: $(STAMP)

# Headless Chromium for tests/test_browser.py: Debian's package, installed where it is missing and
# the machine allows it (root with apt-get); elsewhere the browser test is skipped with this reason.
browser:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || [ -n "$$MAEXLAB_CHROMIUM" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "setup: installing Debian's chromium for the browser test"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
	  || echo "setup: could not install chromium; tests/test_browser.py will be skipped"; \
	else echo "setup: no chromium, and it cannot be installed here (needs root and apt-get); tests/test_browser.py will be skipped"; fi

# Main job: every notebook on its default parameters (the embedded synthetic data).
report: setup
	$(VENV)/bin/maexlab run params/default.yaml --run-name default

# The whole suite: unit tests, doctests and nbval over the committed notebooks.
test: setup browser
	$(PY) -m pytest tests maexlab --doctest-modules -q
	$(PY) -m pytest $(NBVAL_FLAGS) notebooks -q -p no:cacheprovider

unit: setup browser
	$(PY) -m pytest tests maexlab --doctest-modules -q

nbval: setup
	$(PY) -m pytest $(NBVAL_FLAGS) notebooks -q -p no:cacheprovider

lab: setup
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

# Maintainers: re-execute the committed notebooks in place after changing the package.
notebooks: setup
	$(PY) -m maexlab.runner.notebook_exec notebooks/*.ipynb

lint: setup
	$(VENV)/bin/ruff check maexlab tests benchmarks
	$(VENV)/bin/ruff format --check maexlab tests benchmarks

bench: setup
	$(PY) benchmarks/bench_runner.py
	$(PY) benchmarks/bench_load.py
	$(PY) benchmarks/bench_import.py

# Method validation over many generated datasets: every estimand and verdict rule of notebooks
# 01-03 and the areas (about 15 min on 2 idle cores; CSVs in benchmarks/results/, table in
# docs/validation.md). The areas' own MSE table: $(PY) benchmarks/validate_areas.py
validate: setup
	$(PY) benchmarks/validate.py

# Regenerate the embedded synthetic dataset with its recorded seed.
data: setup
	$(VENV)/bin/maexlab data generate --seed 20261128 --out data/embedded

clean:
	rm -rf outputs/*/ .pytest_cache
