"""Every page in a real browser: loads clean and offline, within its byte budget, copy
buttons copy what ran, search, palette, phone width, and axe-core finds no accessibility
violation.

The pages are visited side by side (each in its own browser context) by Playwright's async
API, in the background from the start of the session (conftest.Jobs, browser.visit_pages);
each page's test then reports what its visit found.
"""

from __future__ import annotations

import pytest
from browser import BUDGET_KIB, Visit, in_browser, serve

from pipeline import Site
from pipeline.kernel import rendered

SITE = Site()
PAGES = [SITE.url_of(p) for p in SITE.pages()] + [SITE.url_of(p.with_suffix(".md")) for p in rendered(SITE)]
PAGES.append("no-such-page/")  # the 404 page, as a host serves it


@pytest.mark.parametrize("url", PAGES)
def test_page_in_a_browser(url, browser_visits):
    """One visit per page checks what a reader meets: no console error, no failed request,
    nothing from another host; the load transfers at most BUDGET_KIB (uncompressed: every
    response, the search worker's included); axe-core finds no violation in the light
    palette, nor after the toggle switches to the dark one, nor with search open; each copy
    button copies exactly its block (which the HTML guard compares with what the tests
    ran); the toggle, pressed again, is back to light; at a phone's 390 px nothing scrolls
    sideways."""
    problems = browser_visits["pages"][url]
    assert not problems, f"{url}:\n" + "\n".join(problems)


@pytest.mark.parametrize("query, expected", [("squeeze", "tensor-operations/"), ("DataLoader", "data-loading/")])
def test_search_finds(query, expected, browser_visits):
    """Search works offline (its worker and index load when the reader reaches for it), and
    with its dialog and results shown the page has no axe violation."""
    hrefs, violations = browser_visits["search"][query]
    assert any(expected in h for h in hrefs), f"search for {query!r} found {hrefs[:8]}"
    assert not violations, "with search open:\n" + "\n".join(violations)


def test_budget_counts_everything_a_page_loads(tmp_path):
    """The byte budget's meter, on a page made to be too heavy: it counts the page, an
    image, what a script fetches and what a worker fetches; an image that loads lazily
    far below the first screen is not part of the load."""
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'
    (tmp_path / "big.bin").write_bytes(b"x" * 300 * 1024)
    (tmp_path / "image.svg").write_text(svg + " " * 50_000)
    (tmp_path / "far.svg").write_text(svg + " " * 90_000)
    (tmp_path / "worker.js").write_text('fetch("big.bin?worker").then((r) => r.text()).then(() => postMessage("ok"));')
    (tmp_path / "index.html").write_text(
        '<!doctype html><html lang="en"><title>heavy</title><img src="image.svg" alt="a test image">'
        '<div style="height: 20000px"></div><img src="far.svg" alt="far below" loading="lazy">'
        '<script>fetch("big.bin?page"); new Worker("worker.js");</script></html>'
    )

    async def weigh(browser):
        visit = await Visit(url, "").open(browser)
        try:
            await visit.page.wait_for_timeout(300)
            return await visit.weight()
        finally:
            await visit.close()

    with serve(tmp_path) as url:
        weight = in_browser(weigh)
    names = {u.rsplit("/", 1)[-1]: n for u, n in weight.items()}
    assert names.get("big.bin?page") == 300 * 1024 and names.get("big.bin?worker") == 300 * 1024, names
    assert names.get("image.svg", 0) > 50_000 and "worker.js" in names, names
    assert "far.svg" not in names, names
    assert sum(weight.values()) > BUDGET_KIB * 1024
