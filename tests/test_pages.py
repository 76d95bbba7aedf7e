"""Every page: its Python blocks run in order, as published, and print what the page shows."""

from __future__ import annotations

import pytest

from pipeline import Site

PAGES = [Site().rel(p) for p in Site().pages()]


@pytest.mark.job("page")
@pytest.mark.parametrize("page", PAGES)
def test_page_runs_as_shown(page, job):
    problems = job.result("page", page)
    if problems:
        pytest.fail("\n\n".join(map(str, problems)), pytrace=False)


def test_pages_were_found():
    # A suite that discovers nothing must not pass.
    assert "docs/index.md" in PAGES
    assert len(PAGES) >= 4
