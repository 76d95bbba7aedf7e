# Two commands do everything on a fresh machine; each sets itself up first.
#   make serve   the site at http://127.0.0.1:8000/tutorial/, rebuilt as you edit
#   make test    every test: each page's code run as published, outputs compared, strict build
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export NO_MKDOCS_2_WARNING := 1

.PHONY: setup serve test figures notebooks report clean

setup: $(VENV)/.installed

# Re-installs when pyproject.toml changes.
# The browser tests drive Chromium: Debian's package where apt-get can install it (as root,
# as in CI); elsewhere install Chromium or Chrome yourself, or set CHROMIUM to its path.
$(VENV)/.installed: pyproject.toml
	@command -v chromium >/dev/null || command -v google-chrome >/dev/null || [ -n "$$CHROMIUM" ] \
	  || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	       && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null); } \
	  || echo "note: no Chromium found; the browser tests will say how to get one"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet '.[test]'
	touch $@

serve: setup
	$(BIN)/mkdocs serve --strict --dev-addr 127.0.0.1:8000

test: setup
	PYTHONDONTWRITEBYTECODE=1 TUTORIAL_PROVENANCE=.verified.json $(BIN)/python -m pytest

# Maintainers: redraw docs/figures/*.svg from their code; regenerate notebooks/*.ipynb
# from the pages. The tests fail, naming these commands, when either is stale.
figures: setup
	$(BIN)/python -m pipeline figures

notebooks: setup
	$(BIN)/python -m pipeline notebooks

# The speed report: bytes per page, Lighthouse (from npm; needs Node.js), the suite's wall
# time against its floor. Not a test: it prints a table and exits 1 if a target is missed.
report: setup
	$(BIN)/python tests/report.py

clean:
	rm -rf $(VENV) site .pytest_cache .ruff_cache
