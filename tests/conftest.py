"""Shared fixtures: the site, its pages run once per session, and one strict build."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pipeline import Page, PageError, Site, build


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


@pytest.fixture(scope="session")
def page_runs(site) -> dict[str, list[str]]:
    """Each page's problems: read it, then run its code in a fresh process (pages in parallel)."""

    paths = site.pages()
    cores = os.cpu_count() or 1
    workers = max(1, min(cores, len(paths)))
    threads = max(1, cores // workers)  # one page per core, one torch thread per page

    def one(path: Path) -> list[str]:
        try:
            page = site.read(path)
        except PageError as e:
            return [str(e)]
        return page.problems + site.run(page, threads=threads)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(one, paths)
    return {site.rel(p): r for p, r in zip(paths, results)}


@pytest.fixture(scope="session")
def built_site(site, tmp_path_factory):
    """The site built once with `mkdocs build --strict` into a temp directory."""
    site_dir = tmp_path_factory.mktemp("site")
    proc = build(site.root, site_dir)
    return proc, site_dir
