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

    def one(path: Path) -> list[str]:
        try:
            page = site.read(path)
        except PageError as e:
            return [str(e)]
        return page.problems + site.run(page)

    paths = site.pages()
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = pool.map(one, paths)
    return {site.rel(p): r for p, r in zip(paths, results)}


@pytest.fixture(scope="session")
def built_site(site, tmp_path_factory):
    """The site built once with `mkdocs build --strict` into a temp directory."""
    site_dir = tmp_path_factory.mktemp("site")
    proc = build(site.root, site_dir)
    return proc, site_dir
