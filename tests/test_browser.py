"""Every page in a real browser: loads clean and offline, copy buttons copy what ran, search,
palette, phone width, and axe-core finds no accessibility violation."""

from __future__ import annotations

import pytest
from browser import BUDGET_KIB, axe_source, chromium, serve, weigh

from pipeline import Site, html_blocks
from pipeline.notebooks import rendered

SITE = Site()
PAGES = [SITE.url_of(p) for p in SITE.pages()] + [SITE.url_of(p.with_suffix(".md")) for p in rendered(SITE)]
PAGES.append("no-such-page/")  # the 404 page, as a host serves it
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def base_url(built_site):
    proc, site_dir = built_site
    assert proc.returncode == 0, "the build failed; see test_strict_build_passes"
    from urllib.parse import urlsplit

    with serve(site_dir, urlsplit(SITE.config["site_url"]).path or "/") as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    exe = chromium()
    assert exe, (
        "no Chromium found: `make test` installs Debian's chromium where it can (apt-get, as root);"
        " elsewhere install Chromium or Chrome, or set $CHROMIUM to its path"
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=exe,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking"],
        )
        yield b
        b.close()


class Visit:
    """One page open in a fresh context: what the console said, what failed, what left."""

    def __init__(self, browser, base_url, url, *, scheme="light", viewport=None):
        self.context = browser.new_context(
            color_scheme=scheme, viewport=viewport or {"width": 1280, "height": 900}, base_url=base_url
        )
        self.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url.rstrip("/"))
        self.errors: list[str] = []
        self.failed: list[str] = []
        self.outside: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))
        self.url = base_url + url
        self.page.on("response", self._response)
        self.responses = []  # every response of the load: the page's, its scripts', workers'
        self.context.on("response", lambda r: self.responses.append(r))
        self.page.goto(url, wait_until="load")
        self.page.wait_for_load_state("networkidle")
        self.weight = weigh(self.responses)

    def _response(self, response):
        # The 404 page itself arrives with status 404, as it should; nothing else may fail.
        if response.status >= 400 and not (response.url == self.url and "no-such-page" in self.url):
            self.failed.append(f"{response.url} (HTTP {response.status})")

    def _route(self, route):
        url = route.request.url
        if url.startswith(("http://127.0.0.1:", "data:", "blob:")):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def close(self):
        self.context.close()

    def axe(self, inject: bool = True, within: str | None = None) -> list[str]:
        """axe-core's violations on the page, or only within the elements `within` selects."""
        if inject:
            self.page.add_script_tag(content=axe_source())
        result = self.page.evaluate(
            "async (within) => await axe.run(within ? {include: [within]} : document, {resultTypes: ['violations']})",
            within,
        )
        return [
            f"{v['id']} ({v['impact']}): {v['help']} -- {len(v['nodes'])} node(s), e.g. {v['nodes'][0]['target']}"
            for v in result["violations"]
        ]


COPY_ALL = """async () => {
  const out = [];
  for (const button of document.querySelectorAll("article button.md-code__button[data-md-type=copy]")) {
    await navigator.clipboard.writeText("");
    button.click();
    let text = "";
    for (let i = 0; i < 50 && !text; i++) {
      await new Promise((r) => setTimeout(r, 10));
      text = await navigator.clipboard.readText();
    }
    out.push(text);
  }
  return out;
}"""


@pytest.mark.parametrize("url", PAGES)
def test_page_in_a_browser(url, browser, base_url, built_site):
    """One visit per page checks what a reader meets: no console error, no failed request,
    nothing from another host; the load transfers at most BUDGET_KIB (uncompressed: every
    response, the search worker's included); axe-core finds no violation in the light palette, nor after
    the toggle switches to the dark one, nor with search open; each copy button copies exactly its block (which
    the HTML guard compares with what the tests ran); at a phone's 390 px nothing scrolls
    sideways."""
    _, site_dir = built_site
    problems = []
    visit = Visit(browser, base_url, url, scheme="light")
    try:
        page = visit.page
        total = sum(visit.weight.values())
        if total > BUDGET_KIB * 1024:
            heavy = sorted(visit.weight.items(), key=lambda x: -x[1])[:5]
            biggest = ", ".join(f"{u} {n / 1024:.0f} KiB" for u, n in heavy)
            problems.append(f"the load transfers {total / 1024:.0f} KiB, over the {BUDGET_KIB} KiB budget: {biggest}")
        problems += [f"axe, light: {v}" for v in visit.axe()]
        # The palette toggle: to dark, checked, then axe again.
        page.locator("form[data-md-component=palette] label:visible").first.click()
        scheme = page.evaluate("document.body.getAttribute('data-md-color-scheme')")
        if scheme != "slate":
            problems.append(f"the palette toggle left the scheme at {scheme!r}")
        problems += [f"axe, dark: {v}" for v in visit.axe(inject=False)]
        # With the search dialog open: its name, focus and colours. The dialog lives in the
        # header; the rest of the page is unchanged from the scan just before.
        page.keyboard.press("/")
        page.wait_for_timeout(500)  # Material fades the dialog in (0.25 s): measure it settled
        problems += [f"axe, dark, search open: {v}" for v in visit.axe(inject=False, within=".md-header")]
        page.keyboard.press("Escape")
        if not url.startswith(("notebooks/", "no-such-page")):
            want = [text for _, text in html_blocks((site_dir / url).read_text(encoding="utf-8"))]
            got = page.evaluate(COPY_ALL)
            if len(got) != len(want):
                problems.append(f"{len(got)} copy buttons for {len(want)} code blocks")
            for i, (g, w) in enumerate(zip(got, want)):
                if g.rstrip("\n") != w.rstrip("\n"):
                    problems.append(f"copy button {i} copied {g[:100]!r}, the block is {w[:100]!r}")
        page.set_viewport_size(PHONE)
        page.wait_for_timeout(100)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            problems.append(f"{width} px wide at a {PHONE['width']} px phone width")
        # (The 404 page's own status shows in the console as a failed load: expected.)
        problems += [f"console error: {e}" for e in visit.errors if not (url.startswith("no-such-page") and "404" in e)]
        problems += [f"failed request: {f}" for f in visit.failed]
        problems += [f"request to another host: {o}" for o in visit.outside]
    finally:
        visit.close()
    assert not problems, f"{url}:\n" + "\n".join(problems)


@pytest.mark.parametrize("query, expected", [("squeeze", "tensor-operations/"), ("DataLoader", "data-loading/")])
def test_search_finds(query, expected, browser, base_url):
    """Search works offline, and with its dialog open the page has no axe violation."""
    visit = Visit(browser, base_url, "")
    try:
        page = visit.page
        page.keyboard.press("/")
        page.keyboard.type(query)
        page.wait_for_selector(".md-search-result__item", state="attached", timeout=10_000)
        hrefs = page.eval_on_selector_all(".md-search-result__item a", "els => els.map(e => e.getAttribute('href'))")
        assert any(expected in h for h in hrefs), f"search for {query!r} found {hrefs[:8]}"
        violations = visit.axe()
        assert not violations, "with search open:\n" + "\n".join(violations)
    finally:
        visit.close()


def test_palette_toggle_switches(browser, base_url):
    visit = Visit(browser, base_url, "", scheme="light")
    try:
        page = visit.page
        assert page.evaluate("document.body.getAttribute('data-md-color-scheme')") == "default"
        page.locator("form[data-md-component=palette] label:visible").first.click()
        assert page.evaluate("document.body.getAttribute('data-md-color-scheme')") == "slate"
        page.locator("form[data-md-component=palette] label:visible").first.click()
        assert page.evaluate("document.body.getAttribute('data-md-color-scheme')") == "default"
    finally:
        visit.close()


def test_budget_counts_everything_a_page_loads(browser, tmp_path):
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
    with serve(tmp_path) as url:
        visit = Visit(browser, url, "")
        try:
            visit.page.wait_for_timeout(300)
            weight = weigh(visit.responses)
        finally:
            visit.close()
    names = {u.rsplit("/", 1)[-1]: n for u, n in weight.items()}
    assert names.get("big.bin?page") == 300 * 1024 and names.get("big.bin?worker") == 300 * 1024, names
    assert names.get("image.svg", 0) > 50_000 and "worker.js" in names, names
    assert "far.svg" not in names, names
    assert sum(weight.values()) > BUDGET_KIB * 1024
