"""Shared fixtures: the site, its pages run once per session, and one strict build."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pipeline import PAGE_TIMEOUT_S, THREADS, Page, PageError, Site, build, check_drawn, child_env, reproduced


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
RUNS = ("test_page_runs_as_shown", "test_snippet_runs_standalone", "test_notebook_runs_in_a_fresh_kernel")


def _selected(items, test_name: str) -> set[str]:
    """The parameters of the selected items of one parametrized test (honours -k)."""
    return {i.callspec.id for i in items if i.originalname == test_name and hasattr(i, "callspec")}


class JobResults(Mapping):
    """The results of one kind of job, by page or snippet, each waited for only when a test
    asks for it. A job that failed outright (a timeout, a dead kernel) fails the tests of its
    own page only, with what went wrong, in the shape its tests read."""

    def __init__(self, getters: dict[str, Callable[[], object]], kind: str):
        self._getters, self._kind = getters, kind

    def __getitem__(self, name: str):
        get = self._getters[name]
        try:
            return get()
        except Exception as e:  # noqa: BLE001 - any failure of the job is this page's
            problem = f"{name}: its {self._kind} run did not finish: {type(e).__name__}: {e}"
            if self._kind == "notebook":
                return [problem], None
            if self._kind == "standalone":
                return subprocess.CompletedProcess([name], 1, "", problem)
            return [problem]

    def __iter__(self):
        return iter(self._getters)

    def __len__(self) -> int:
        return len(self._getters)


class Runs:
    """Every run of page code the selected tests need, started as soon as collection ends,
    one per core (one torch thread each), longest first: the browser and build tests run
    meanwhile. Two pages with two OpenMP threads each on two cores ran up to 7x slower
    (measured), hence THREADS (one) per run."""

    def __init__(self, site: Site, items):
        self.site = site
        pages = _selected(items, RUNS[0])
        snippets = _selected(items, RUNS[1])
        # The pages whose run is a selected snippet's standalone run (Site.page_runs_script).
        pages |= {site.page_runs_script(site.root / s) for s in snippets} - {None}
        standalone = [s for s in site.snippet_files() if site.rel(s) in snippets and not site.page_runs_script(s)]
        notebooks = _selected(items, RUNS[2])
        # A page whose notebook runs anyway is run once, as its notebook (Runs.notebook).
        jobs = [("page", p) for p in site.pages() if site.rel(p) in pages - notebooks]
        jobs += [("standalone", s) for s in standalone]
        jobs += [("notebook", p) for p in site.pages() if site.rel(p) in notebooks]
        self.pages_in_notebooks = pages & notebooks
        # Longest first: the size of a page's code is a fair guess of its run time.
        jobs.sort(key=lambda job: -self._size(job[1]))
        self.pool = ThreadPoolExecutor(max_workers=max(1, CORES))
        self.futures = {(kind, site.rel(path)): self.pool.submit(getattr(self, kind), path) for kind, path in jobs}

    def _size(self, path: Path) -> int:
        snippet = self.site.root / "snippets" / f"{path.stem}.py"
        return snippet.stat().st_size if snippet.exists() else path.stat().st_size

    def results(self, kind: str) -> JobResults:
        getters = {
            name: (lambda f=f: f.result()[:2]) if kind == "notebook" else f.result
            for (k, name), f in self.futures.items()
            if k == kind
        }
        if kind == "page":
            notebooks = {name: self.futures["notebook", name] for name in self.pages_in_notebooks}
            getters |= {name: lambda f=f: f.result()[2] for name, f in notebooks.items()}
        return JobResults(getters, kind)

    def page(self, path: Path) -> list[str]:
        """Read a page, then run its code in a fresh process."""
        try:
            page = self.site.read(path)
        except PageError as e:
            return [str(e)]
        drawn: dict[str, bytes] = {}
        printed: list = []
        problems = page.problems + self.site.run(page, threads=THREADS, drawn=drawn, printed=printed)
        return problems + (check_drawn(page, drawn, reproduced(page.runs, printed)) if not problems else [])

    def standalone(self, snippet: Path) -> subprocess.CompletedProcess:
        """`python snippets/<topic>.py`: fresh process, warnings as errors, a temp dir."""
        env = child_env()
        with tempfile.TemporaryDirectory(prefix="standalone-") as work:
            return subprocess.run(
                [sys.executable, "-W", "error", str(snippet)],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=PAGE_TIMEOUT_S,
            )

    def notebook(self, path: Path):
        """The page's notebook executed top to bottom in a fresh kernel -> (its problems, the
        executed notebook, the page's problems).

        The notebook's cells are the page's blocks, in order, as published; each cell's output
        is compared with the page's, and it may write nothing else (no stderr, no Out[]
        value). So when it passes, the page's own run could add only the figures it draws,
        compared here from the same run. When it fails, the page runner runs the page too,
        for the diagnosis only it gives: page, snippet file and line, and a diff."""
        from pipeline.notebooks import execute

        with tempfile.TemporaryDirectory(prefix="notebook-") as work:
            try:
                problems, nb, printed = execute(self.site, path, Path(work), threads=THREADS)
            except PageError as e:
                return [str(e)], None, [str(e)]
            if self.site.rel(path) not in self.pages_in_notebooks:
                return problems, nb, None
            if problems:
                return problems, nb, self.page(path)
            page = self.site.read(path)
            drawn = {f.name: f.read_bytes() for f in Path(work).glob("*.svg")}
            return problems, nb, page.problems + check_drawn(page, drawn, reproduced(page.runs, printed))


class Background:
    """The strict build, then every selected page's visit in the browser (browser.visit_pages),
    in one thread of their own from the start of the session."""

    def __init__(self, site: Site, items):
        self.tmp = tempfile.TemporaryDirectory(prefix="built-site-")
        self.urls = [
            i.callspec.params["url"]
            for i in items
            if i.originalname == "test_page_in_a_browser" and hasattr(i, "callspec")
        ]
        self.queries = [
            i.callspec.params["query"]
            for i in items
            if i.originalname == "test_search_finds" and hasattr(i, "callspec")
        ]
        self.pool = ThreadPoolExecutor(max_workers=1)
        self.build = self.pool.submit(self._build, site, Path(self.tmp.name))
        self.visits = self.pool.submit(self._visit, site) if self.urls or self.queries else None

    def _build(self, site: Site, tmp: Path):
        site_dir = tmp / "site"
        return build(site.root, site_dir), site_dir

    def _visit(self, site: Site) -> dict:
        from urllib.parse import urlsplit

        from browser import visit_pages

        proc, site_dir = self.build.result()
        if proc.returncode != 0:
            failed = ["the build failed; see test_strict_build_passes"]
            return {"pages": {u: failed for u in self.urls}, "search": {q: ([], failed) for q in self.queries}}
        return visit_pages(site_dir, urlsplit(site.config["site_url"]).path or "/", self.urls, self.queries)


_runs: Runs | None = None
_background: Background | None = None


def _order(item) -> int:
    """Tests that need neither a run nor the browser first, then those that need the runs,
    the browser's last: each waits for its background work as late as it can."""
    if item.path.name == "test_browser.py":
        return 2
    return 1 if set(getattr(item, "fixturenames", ())) & {"page_runs", "standalone_runs", "notebook_runs"} else 0


def pytest_collection_modifyitems(session, config, items):
    items.sort(key=_order)  # stable: file and test order kept within each group


def pytest_collection_finish(session):
    global _runs, _background
    if session.config.option.collectonly:
        return  # `pytest --collect-only` lists the tests; it runs no page
    if any(getattr(i, "originalname", "") in RUNS for i in session.items):
        _runs = Runs(Site(), session.items)
    if any("built_site" in getattr(i, "fixturenames", ()) for i in session.items):
        _background = Background(Site(), session.items)


def pytest_sessionfinish(session, exitstatus):
    for work in (_runs, _background):
        if work is not None:
            work.pool.shutdown(wait=True, cancel_futures=True)
    if _background is not None:
        _background.tmp.cleanup()
    _record_provenance(session, exitstatus)


@pytest.fixture(scope="session")
def page_runs() -> Mapping[str, list[str]]:
    """Each selected page's problems (its run, see Runs.page)."""
    return _runs.results("page") if _runs else {}


@pytest.fixture(scope="session")
def standalone_runs() -> Mapping[str, subprocess.CompletedProcess]:
    """`python snippets/<topic>.py` for each selected snippet that its page does not run whole."""
    return _runs.results("standalone") if _runs else {}


@pytest.fixture(scope="session")
def notebook_runs() -> Mapping[str, tuple]:
    """Each selected page's notebook executed in a fresh kernel: (problems, notebook)."""
    return _runs.results("notebook") if _runs else {}


@pytest.fixture(scope="session")
def built_site():
    """The site built once with `mkdocs build --strict` into a temp directory (in the
    background from the start of the session): (the process, the site folder)."""
    assert _background is not None
    return _background.build.result()


@pytest.fixture(scope="session")
def browser_visits(built_site) -> dict:
    """What the browser found (browser.visit_pages): {"pages": {url: problems},
    "search": {query: (links, axe violations)}}."""
    return _background.visits.result() if _background.visits else {"pages": {}, "search": {}}


# -- provenance: what a full, passing run verified --------------------------------------------
VERIFYING = ("test_page_runs_as_shown", "test_notebook_runs_in_a_fresh_kernel", "test_snippet_runs_standalone")
_outcomes: dict[str, list[bool]] = {}


def pytest_runtest_logreport(report):
    if report.when == "call" or report.outcome != "passed":
        name = report.nodeid.split("::")[-1]
        if name.startswith(VERIFYING):
            _outcomes.setdefault(name, []).append(report.outcome == "passed")


def _record_provenance(session, exitstatus):
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
