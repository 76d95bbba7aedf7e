"""The built site: strict build, nothing shown that the tests did not run, no third-party loads."""

from __future__ import annotations

from pipeline import check_html, third_party_loads


def test_strict_build_passes(built_site):
    proc, _ = built_site
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}{proc.stderr}"


def test_html_shows_only_code_the_tests_ran(site, built_site, pages):
    """The guard: count and compare the built page's Python and output blocks with those the tests handled."""
    proc, site_dir = built_site
    assert proc.returncode == 0, "the build failed; see test_strict_build_passes"
    assert len(pages) == len(site.pages()), "a page could not be read; see test_page_runs_as_shown"
    problems = check_html(site, site_dir, pages)
    assert not problems, "\n".join(problems)
    assert sum(len(p.python) for p in pages.values()) > 0


def test_no_page_loads_from_another_host(built_site):
    proc, site_dir = built_site
    assert proc.returncode == 0
    assert list(site_dir.rglob("*.html")), "nothing was built"
    found = third_party_loads(site_dir)
    assert not found, "pages would request from other hosts:\n" + "\n".join(found)
