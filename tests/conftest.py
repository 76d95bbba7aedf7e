"""Shared fixtures: the site, its pages read once, and the background jobs tests ask for.

A test that reads a job's result says so with a marker, ``@pytest.mark.job(KIND)``, and
takes the job's name as its ``page`` parameter (or the one the marker names). When
collection ends, the jobs of the selected tests start in the background, longest first: page
runs, standalone scripts and notebooks one per core; the strict build and then the browser
visits in a thread of their own. Each test waits only for its own job, and a job that
failed outright (a timeout, a dead kernel) fails that page's tests only.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from pipeline import THREADS, PageError, Site, provenance
from pipeline.checks import Problem
from pipeline.figures import check_drawn
from pipeline.run import page_runs_script, reproduced, run, standalone
from pipeline.site_checks import build

CORES = os.cpu_count() or 1


@dataclasses.dataclass
class NotebookRun:
    problems: list[Problem]
    notebook: object
    printed: list[str]
    drawn: dict[str, bytes]


def run_page(site: Site, path: Path) -> list[Problem]:
    """Read a page, run its code in a fresh process, compare its figures."""
    doc = site.read(path)
    ran = run(doc, threads=THREADS)
    problems = doc.problems + ran.problems
    return problems or check_drawn(doc, ran.drawn, reproduced(doc.runs, ran.printed))


def run_notebook(site: Site, path: Path) -> NotebookRun:
    """The page's notebook executed top to bottom in a fresh kernel (pipeline/kernel.py)."""
    from pipeline.kernel import execute

    with tempfile.TemporaryDirectory(prefix="notebook-") as work:
        problems, nb, printed = execute(site, path, Path(work), threads=THREADS)
        return NotebookRun(problems, nb, printed, {f.name: f.read_bytes() for f in Path(work).glob("*.svg")})


def page_from_notebook(site: Site, path: Path, ran: NotebookRun) -> list[Problem]:
    """A page whose notebook ran runs once, as its notebook: its cells are the page's blocks,
    in order, as published, each compared with the page and allowed no other output; the page
    adds only its rules and the figures it draws, from the same run. Where the notebook
    fails, the page runner runs too, for the diagnosis only it gives (snippet line, diff)."""
    if ran.problems:
        return run_page(site, path)
    doc = site.read(path)
    return doc.problems + check_drawn(doc, ran.drawn, reproduced(doc.runs, ran.printed))


retried: list[str] = []  # timed runs that failed once and passed the second time
TIMED = threading.Lock()  # one at a time: side by side, two timed runs skewed each other's ratios


def second_chance(fn):
    """A run that checks a timing (a ratio of two measured times) runs while no other does, and
    again once if it fails: the rest of the suite can stall one measurement. The second run
    decides; the session's summary names the first failure (pytest_terminal_summary)."""

    def run(site: Site, path: Path):
        with TIMED:
            first = fn(site, path)
            if not (first.problems if isinstance(first, NotebookRun) else first):
                return first
            second = fn(site, path)
        if not (second.problems if isinstance(second, NotebookRun) else second):
            problems = first.problems if isinstance(first, NotebookRun) else first
            retried.append(f"{site.rel(path)}: failed once, passed on a second run:\n" + "\n".join(map(str, problems)))
        return second

    return run


def pytest_terminal_summary(terminalreporter):
    if retried:
        terminalreporter.write_sep("=", "timed runs that needed a second run")
        terminalreporter.write_line("\n\n".join(retried))


class Jobs:
    """Background work by (kind, name), each started once; `result` waits for one."""

    def __init__(self, site: Site):
        self.site = site
        self.pools = {k: ThreadPoolExecutor(n) for k, n in (("runs", max(1, CORES)), ("background", 1), ("browser", 1))}
        self.futures: dict[tuple[str, str], Future] = {}
        self.views: dict[tuple[str, str], tuple[tuple[str, str], object]] = {}  # a result read off another job's
        self.tmp = tempfile.TemporaryDirectory(prefix="built-site-")

    def start(self, wanted: set[tuple[str, str]], urls: list[str], queries: list[str]) -> None:
        """Start the jobs `wanted`, longest first (a page's code size guesses its run time)."""
        site, root = self.site, self.site.root
        for kind, name in [k for k in wanted if k[0] == "page" and ("notebook", k[1]) in wanted]:
            self.views[kind, name] = (("notebook", name), lambda ran, p=root / name: page_from_notebook(site, p, ran))
        work = {"page": run_page, "notebook": run_notebook, "standalone": lambda _, s: standalone(s)}
        for kind, name in sorted(wanted - set(self.views) - {("build", "site")}, key=self._order):
            fn = second_chance(work[kind]) if self._order((kind, name))[0] else work[kind]
            self.futures[kind, name] = self.pools["runs"].submit(fn, site, root / name)
        if ("build", "site") in wanted:
            site_dir = Path(self.tmp.name) / "site"
            self.futures["build", "site"] = self.pools["background"].submit(lambda: (build(root, site_dir), site_dir))
        if urls or queries:  # a thread of its own: Chromium starts while the site builds
            self.futures["browser", "site"] = self.pools["browser"].submit(self._visit, urls, queries)

    def _order(self, key: tuple[str, str]) -> tuple[bool, int]:
        """Longest first (a page's code size guesses its run time); but a run that checks a
        timing (its page shows a { .measured } figure) last, when the machine is quietest:
        the build, the browser and the longest runs load it most at the start."""
        path = self.site.root / key[1]
        snippet = self.site.root / "snippets" / f"{path.stem}.py"
        try:
            timed = key[0] != "standalone" and any(i.has(".measured") for i in self.site.read(path).images)
        except PageError:
            timed = False
        return timed, -(snippet if snippet.exists() else path).stat().st_size

    def _visit(self, urls: list[str], queries: list[str]) -> dict:
        """The browser's visits: Chromium starts while the site builds (browser.visit_pages)."""
        from urllib.parse import urlsplit

        from browser import visit_pages

        prefix, build = urlsplit(self.site.config["site_url"]).path or "/", self.futures["build", "site"]
        return visit_pages(
            Path(self.tmp.name) / "site", prefix, urls, queries, lambda: build.result()[0].returncode == 0
        )

    def has(self, kind: str, name: str) -> bool:
        return (kind, name) in self.futures or (kind, name) in self.views

    def result(self, kind: str, name: str):
        """The job's result; a job that failed outright fails the asking test, naming why."""
        source, view = self.views.get((kind, name), ((kind, name), None))
        if source not in self.futures:
            pytest.fail(f"{name}: no {kind} job was started for this test", pytrace=False)
        try:
            value = self.futures[source].result()
            return view(value) if view else value
        except PageError as e:
            pytest.fail(str(e), pytrace=False)
        except Exception as e:  # noqa: BLE001 - any failure of the job is this page's
            pytest.fail(f"{name}: its {kind} job did not finish: {type(e).__name__}: {e}", pytrace=False)

    def close(self) -> None:
        for pool in self.pools.values():
            pool.shutdown(wait=True, cancel_futures=True)
        self.tmp.cleanup()


jobs: Jobs | None = None
verified_pages: set[str] = set()  # pages whose page job a selected test checks


def wanted_jobs(site: Site, items) -> tuple[set[tuple[str, str]], list[str], list[str]]:
    """The jobs the selected tests ask for, and the browser's URLs and search queries."""
    wanted, urls, queries = set(), [], []
    for item in items:
        marker, params = item.get_closest_marker("job"), getattr(getattr(item, "callspec", None), "params", {})
        if marker is not None:
            kind, name = marker.args[0], str(params[marker.kwargs.get("param", "page")])
            covered = page_runs_script(site, site.root / name) if kind == "standalone" else None
            wanted.add(("page", covered) if covered else (kind, name))
        if "built_site" in getattr(item, "fixturenames", ()):
            wanted.add(("build", "site"))
        if "browser_visits" in getattr(item, "fixturenames", ()):
            urls += [params["url"]] if "url" in params else []
            queries += [params["query"]] if "query" in params else []
    return wanted, urls, queries


def pytest_addoption(parser):
    parser.addoption("--page", metavar="TOPIC", help="only the tests of docs/TOPIC.md (make test PAGE=TOPIC)")


def pytest_configure(config):
    config.addinivalue_line("markers", "job(kind, param='page'): the test reads the background job of its page")
    config.addinivalue_line("markers", "every_page: a check that `--page TOPIC` runs too")


def about(item, topic: str) -> bool:
    """Is `item` a test of docs/<topic>.md (a parameter names its page, snippet, notebook or
    URL), or one that every page needs (marked every_page: the strict build)?"""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return item.get_closest_marker("every_page") is not None
    values = " ".join(str(v) for v in callspec.params.values())
    return re.search(rf"(?:^|[/\s]){re.escape(topic)}(?:[./\s]|$)", values) is not None


def pytest_collection_modifyitems(session, config, items):
    """--page: only that page's tests. Then the tests that need no job first, those that read
    one next, the browser's last: each waits for its background work as late as it can."""
    if topic := config.getoption("--page"):
        if not (Site().docs_dir / f"{topic}.md").exists():
            raise pytest.UsageError(f"--page {topic}: there is no docs/{topic}.md")
        config.hook.pytest_deselected(items=[i for i in items if not about(i, topic)])
        items[:] = [i for i in items if about(i, topic)]
    items.sort(
        key=lambda i: 2 if "browser_visits" in getattr(i, "fixturenames", ()) else bool(i.get_closest_marker("job"))
    )


def pytest_collection_finish(session):
    global jobs
    if session.config.option.collectonly:
        return  # `pytest --collect-only` lists the tests; it runs no page
    site = Site()
    wanted, urls, queries = wanted_jobs(site, session.items)
    verified_pages.update(name for kind, name in wanted if kind == "page")
    if wanted or urls or queries:
        jobs = Jobs(site)
        jobs.start(wanted, urls, queries)


def pytest_sessionfinish(session, exitstatus):
    if jobs is not None:
        jobs.close()
    out = provenance.target()
    site = Site()
    # A run that passed every page's own test records what verified them (pipeline/provenance.py);
    # a partial one (-k ...) leaves the record as it was.
    if out is not None and exitstatus == 0 and {site.rel(p) for p in site.pages()} <= verified_pages:
        out = out if out.is_absolute() else site.root / out
        out.write_text(json.dumps(provenance.record(site, site.pages()), indent=2) + "\n", encoding="utf-8")


@pytest.fixture(scope="session")
def site() -> Site:
    return Site()


@pytest.fixture(scope="session")
def pages(site) -> dict:
    """Every page that can be read, as its Document (pipeline/document.py)."""
    out = {}
    for path in site.pages():
        try:
            out[site.rel(path)] = site.read(path)
        except PageError:
            continue
    return out


@pytest.fixture(scope="session")
def job():
    """The session's background jobs: `job.result(kind, name)`, `job.has(kind, name)`."""
    if jobs is not None:
        yield jobs
        return
    none = Jobs(Site())  # no test asked for a job: none has started
    yield none
    none.close()


@pytest.fixture(scope="session")
def built_site(job):
    """The site built once with `mkdocs build --strict` into a temp directory: (the process,
    the site folder)."""
    return job.result("build", "site")


@pytest.fixture(scope="session")
def browser_visits(job) -> dict:
    """What the browser found (browser.visit_pages): {"pages": {url: problems},
    "search": {query: (links, axe violations)}}."""
    return job.result("browser", "site")
