# Two commands do everything on a fresh machine; each sets itself up first.
#   make serve   the site at http://127.0.0.1:8000/tutorial/, rebuilt as you edit
#   make test    every test: each page's code run as published, outputs compared, strict build
#   make test-portable   each page's code again under two other CPU kernel settings (CI runs it too)
#   make test PAGE=<topic>, make accept PAGE=<topic>   the writer's loop (README, How to add a page)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export NO_MKDOCS_2_WARNING := 1

.PHONY: setup serve test accept test-portable figures notebooks report clean

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

# make test PAGE=<topic>: only docs/<topic>.md's tests (its runs, its notebook, its build
# checks, its browser visit), the writer's loop.
test: setup
	PYTHONDONTWRITEBYTECODE=1 TUTORIAL_PROVENANCE=.verified.json $(BIN)/python -m pytest $(if $(PAGE),--page $(PAGE))

# make accept PAGE=<topic>: run the page and write what each exact-mode block prints into its
# output block (creating it where there is none), then the page's notebook; shows the diff.
accept: setup
	@test -n "$(PAGE)" || { echo "usage: make accept PAGE=<topic>" >&2; exit 2; }
	PYTHONDONTWRITEBYTECODE=1 $(BIN)/python -m pipeline accept $(PAGE)

# Every page's code again (no browser, no build), first with torch, oneDNN and MKL held to
# AVX2 code, then to the lowest level each offers (torch's `default` code, oneDNN's SSE4.1,
# MKL's SSE4.2; MKL obeys it on Intel CPUs only): each setting changes the last bits of
# float sums, as another CPU does, so no output on the site may rely on the CPU that
# recorded it (docs/reproducibility.md); last, mixed levels (torch AVX2, oneDNN SSE4.1,
# MKL asked for AVX: its build has no AVX path, so SSE4.2 on Intel, ignored elsewhere), a
# mix no single CPU picks: no output may depend on the libraries agreeing. x86-64 only.
PORTABLE_TESTS := tests/test_pages.py tests/test_snippets.py tests/test_figures.py
PORTABLE_K := runs_as_shown or runs_standalone or matches_its_script
# Each setting has a TMPDIR of its own, where torch.compile keeps its cache: the cache does
# not tell the settings apart, and code compiled under one gave wrong gradients under
# another, or a segmentation fault. The lowest setting leaves out Making training faster:
# there, on one thread on an AVX-512 CPU, torch 2.13's Inductor wrote C++ for the CNN's
# backward that does not compile ('transpose_mxn' was not declared); on an AVX2-only EPYC
# it compiles. docs/performance.md says so.
test-portable: setup
	@if [ "$$(uname -m)" != x86_64 ]; then echo "test-portable: x86-64 only (this is $$(uname -m))"; exit 0; fi; \
	set -e; avx2=$$(mktemp -d); baseline=$$(mktemp -d); mixed=$$(mktemp -d); \
	trap 'rm -rf "$$avx2" "$$baseline" "$$mixed"' EXIT; \
	echo "== AVX2 kernels =="; \
	TMPDIR=$$avx2 ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2 \
	  PYTHONDONTWRITEBYTECODE=1 $(BIN)/python -m pytest $(PORTABLE_TESTS) -k "$(PORTABLE_K)"; \
	echo "== lowest kernels: torch default, oneDNN SSE4.1, MKL SSE4.2 =="; \
	TMPDIR=$$baseline ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=SSE41 MKL_ENABLE_INSTRUCTIONS=SSE4_2 \
	  PYTHONDONTWRITEBYTECODE=1 $(BIN)/python -m pytest $(PORTABLE_TESTS) -k "($(PORTABLE_K)) and not performance"; \
	echo "== mixed kernels: torch AVX2, oneDNN SSE4.1, MKL AVX =="; \
	TMPDIR=$$mixed ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=SSE41 MKL_ENABLE_INSTRUCTIONS=AVX \
	  PYTHONDONTWRITEBYTECODE=1 $(BIN)/python -m pytest $(PORTABLE_TESTS) -k "$(PORTABLE_K)"

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
