"""The built site: strict build, nothing shown that the tests did not run, no third-party loads."""

from __future__ import annotations

import pytest

from pipeline import Site
from pipeline.kernel import rendered
from pipeline.site_checks import check_html, leak_line, markdown_leaks, third_party_loads

PAGES = [Site().rel(p) for p in Site().pages()]


@pytest.mark.every_page
def test_strict_build_passes(built_site):
    proc, _ = built_site
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}{proc.stderr}"


@pytest.mark.parametrize("page", PAGES)
def test_html_shows_only_code_the_tests_ran(page, site, built_site, pages):
    """The guard: the built page's Python and output blocks are exactly those the tests ran and compared."""
    proc, site_dir = built_site
    assert proc.returncode == 0, "the build failed; see test_strict_build_passes"
    if page not in pages:
        pytest.skip(f"{page} could not be read: reported by test_page_runs_as_shown[{page}]")
    problems = check_html(site, site_dir, pages, only=page)
    assert not problems, "\n".join(problems)


def test_html_from_no_page_shows_no_code(site, built_site, pages):
    """HTML that comes from no page (404.html, ...) must not show Python the tests never ran."""
    proc, site_dir = built_site
    assert proc.returncode == 0
    problems = [p for p in check_html(site, site_dir, pages) if not p.startswith(tuple(pages))]
    assert not problems, "\n".join(problems)
    assert sum(len(p.python) for p in pages.values()) > 0


def test_no_page_loads_from_another_host(built_site):
    proc, site_dir = built_site
    assert proc.returncode == 0
    assert list(site_dir.rglob("*.html")), "nothing was built"
    found = third_party_loads(site_dir)
    assert not found, "pages would request from other hosts:\n" + "\n".join(found)


NOTEBOOK_PAGES = [Site().rel(p) for p in rendered(Site())]


@pytest.mark.parametrize("nb_page", NOTEBOOK_PAGES)
def test_notebook_page_shows_only_what_ran(nb_page, site, built_site):
    """The guard for notebook pages: code cells and text outputs in the HTML are the stored
    notebook's, which test_rendered_notebook_is_not_stale executes and compares."""
    import nbformat

    from pipeline.site_checks import check_rendered_html

    proc, site_dir = built_site
    assert proc.returncode == 0
    path = site.root / nb_page
    html = site_dir / site.url_of(path.with_suffix(".md"))
    assert html.exists(), f"{nb_page} was not rendered as a page (is it in nav and in mkdocs-jupyter's include?)"
    stored = nbformat.read(path, as_version=4)
    problems = check_rendered_html(html.read_text(encoding="utf-8"), stored, nb_page)
    assert not problems, "\n".join(problems)


def test_every_built_image_has_alt_text(built_site):
    """In the built HTML too (raw <img> tags, notebook outputs): alt text that says something."""
    from bs4 import BeautifulSoup

    proc, site_dir = built_site
    assert proc.returncode == 0
    problems = []
    count = 0
    for html_file in sorted(site_dir.rglob("*.html")):
        for img in BeautifulSoup(html_file.read_text(encoding="utf-8"), "html.parser").select("article img"):
            count += 1
            alt = (img.get("alt") or "").strip()
            if len(alt.split()) < 5 or alt.startswith("No description has been provided"):
                problems.append(f"{html_file.relative_to(site_dir)}: <img src={img.get('src', '')[:60]!r} alt={alt!r}>")
    assert not problems, "images without meaningful alt text:\n" + "\n".join(problems)
    assert count > 0, "no images found: the check checked nothing"


@pytest.mark.parametrize("page", PAGES + NOTEBOOK_PAGES)
def test_no_markdown_shows_as_text(page, site, built_site):
    """Markdown syntax that the build did not turn into markup (a table cut by a blank line, a
    raw **, !!! or [text](link), an unexpanded --8<--) fails, naming the page and line."""
    proc, site_dir = built_site
    assert proc.returncode == 0
    path = site.root / page
    html = site_dir / site.url_of(path.with_suffix(".md"))
    problems = []
    for what, text in markdown_leaks(html.read_text(encoding="utf-8")):
        line = leak_line(path, text) if path.suffix == ".md" else None
        problems.append(f"{page}{f':{line}' if line else ''}: {what} shows as text: {text[:100]!r}")
    assert not problems, "\n".join(problems)
