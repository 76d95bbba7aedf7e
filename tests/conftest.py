"""Shared fixtures: the site, its pages run once per session, and one strict build."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pipeline import THREADS, Page, PageError, Site, build, check_drawn


@pytest.fixture(scope="session")
def site() -> Site:
    return Site()


@pytest.fixture(scope="session")
def pages(site) -> dict[str, Page]:
    """Every page, read and expanded (a page that cannot be read is left out here)."""
    out = {}
    for path in site.pages():
        try:
            page = site.read(path)
        except PageError:
            continue
        out[page.path] = page
    return out


CORES = os.cpu_count() or 1


def _selected(request, test_name: str) -> set[str]:
    """The parameters of the selected items of one parametrized test (honours -k)."""
    out = set()
    for item in request.session.items:
        if item.originalname == test_name and hasattr(item, "callspec"):
            out.add(item.callspec.id)
    return out


def _in_parallel(fn, jobs):
    """Run jobs side by side, one per core, with one torch thread each.

    Two pages with two OpenMP threads each on two cores ran up to 7x slower (measured).
    """
    workers = max(1, min(CORES, len(jobs)))
    threads = THREADS  # one torch thread per run, always: see pipeline.THREADS
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(zip(jobs, pool.map(lambda job: fn(job, threads), jobs)))


@pytest.fixture(scope="session")
def page_runs(site, request) -> dict[str, list[str]]:
    """Each selected page's problems: read it, then run its code in a fresh process."""
    wanted = _selected(request, "test_page_runs_as_shown")
    # ... and the pages whose run is a selected snippet's standalone run.
    for snippet in _selected(request, "test_snippet_runs_standalone"):
        wanted.add(site.page_runs_script(site.root / snippet))
    paths = [p for p in site.pages() if site.rel(p) in wanted]

    def one(path: Path, threads: int) -> list[str]:
        try:
            page = site.read(path)
        except PageError as e:
            return [str(e)]
        drawn: dict[str, bytes] = {}
        problems = page.problems + site.run(page, threads=threads, drawn=drawn)
        return problems + (check_drawn(page, drawn) if not problems else [])

    return {site.rel(p): r for p, r in _in_parallel(one, paths).items()}


@pytest.fixture(scope="session")
def standalone_runs(site, request, tmp_path_factory) -> dict[str, subprocess.CompletedProcess]:
    """`python snippets/<topic>.py` for each selected snippet: fresh process, warnings as errors."""
    wanted = _selected(request, "test_snippet_runs_standalone")
    # A snippet that its page runs whole, in order, unchanged is not run a second time
    # (Site.page_runs_script); test_snippet_runs_standalone checks that page's run instead.
    snippets = [s for s in site.snippet_files() if site.rel(s) in wanted and not site.page_runs_script(s)]

    def one(snippet: Path, threads: int) -> subprocess.CompletedProcess:
        env = dict(os.environ, PYTHONWARNINGS="error", PYTHONDONTWRITEBYTECODE="1", OMP_NUM_THREADS=str(threads))
        return subprocess.run(
            [sys.executable, "-W", "error", str(snippet)],
            cwd=tmp_path_factory.mktemp("standalone"),
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    return {site.rel(s): r for s, r in _in_parallel(one, snippets).items()}


@pytest.fixture(scope="session")
def notebook_runs(site, request, tmp_path_factory) -> dict[str, tuple]:
    """Each selected page's notebook executed top to bottom in a fresh kernel: (problems, notebook)."""
    from pipeline.notebooks import execute

    wanted = _selected(request, "test_notebook_runs_in_a_fresh_kernel")
    paths = [p for p in site.pages() if site.rel(p) in wanted]

    def one(path: Path, threads: int):
        try:
            return execute(site, path, tmp_path_factory.mktemp("notebook"), threads=threads)
        except PageError as e:
            return [str(e)], None

    return {site.rel(p): r for p, r in _in_parallel(one, paths).items()}


@pytest.fixture(scope="session")
def built_site(site, tmp_path_factory):
    """The site built once with `mkdocs build --strict` into a temp directory."""
    site_dir = tmp_path_factory.mktemp("site")
    start = time.perf_counter()
    proc = build(site.root, site_dir)
    proc.seconds = time.perf_counter() - start
    return proc, site_dir


# -- provenance: what a full, passing run verified --------------------------------------------
VERIFYING = ("test_page_runs_as_shown", "test_notebook_runs_in_a_fresh_kernel", "test_snippet_runs_standalone")
_outcomes: dict[str, list[bool]] = {}


def pytest_runtest_logreport(report):
    if report.when == "call" or report.outcome != "passed":
        name = report.nodeid.split("::")[-1]
        if name.startswith(VERIFYING):
            _outcomes.setdefault(name, []).append(report.outcome == "passed")


def pytest_sessionfinish(session, exitstatus):
    """With $TUTORIAL_PROVENANCE set, a run that passed everything, every page included,
    records what verified the pages (pipeline/provenance.py)."""
    from pipeline import provenance

    out = provenance.target()
    if out is None or exitstatus != 0:
        return
    site = Site()
    pages = site.pages()
    ran = {n.split("[", 1)[1].rstrip("]") for n, ok in _outcomes.items() if all(ok) and n.startswith(VERIFYING[0])}
    if {site.rel(p) for p in pages} - ran:
        return  # a partial run (-k ...) verifies only some pages: leave the record as it was
    out = out if out.is_absolute() else site.root / out
    out.write_text(json.dumps(provenance.record(site, pages), indent=2) + "\n", encoding="utf-8")
