"""The built site in a real browser: Playwright driving the system's Chromium.

Playwright's own browser download cannot work on this project's machines (no internet), so
the tests drive an installed Chromium: $CHROMIUM, else /usr/bin/chromium (Debian's package,
which the Makefile's set-up installs where it can), else Chrome. The site is served from a
temp folder on 127.0.0.1; every request to another host is refused and recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

from pipeline.site_checks import html_blocks

BUDGET_KIB = 400  # what one page load may transfer, uncompressed (issue 6)

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def chromium() -> str | None:
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


PHONE = {"width": 390, "height": 844}
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking"]
# Pages visited at once: one per core (4 on 2 cores cost 10% more CPU for no less time).
SIDE_BY_SIDE = max(1, os.cpu_count() or 1)


def require_chromium() -> str:
    exe = chromium()
    assert exe, (
        "no Chromium found: `make test` installs Debian's chromium where it can (apt-get, as root);"
        " elsewhere install Chromium or Chrome, or set $CHROMIUM to its path"
    )
    return exe


def weigh(responses) -> dict[str, int]:
    """URL -> body bytes (as served: uncompressed here) of a load's responses."""
    out = {}
    for response in responses:
        try:
            out[response.url] = len(response.body())
        except Exception:  # a redirect, or a body the browser already dropped
            out.setdefault(response.url, 0)
    return out


@functools.cache
def axe_source() -> str:
    """axe-core's script: $AXE_JS if set (e.g. a newer axe.min.js from npm's axe-core), else
    the one shipped inside the axe-playwright-python package (4.12.1)."""
    if os.environ.get("AXE_JS"):
        return Path(os.environ["AXE_JS"]).read_text(encoding="utf-8")
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


class _Host(http.server.SimpleHTTPRequestHandler):
    """Serves the site under its path (site_url's, e.g. /tutorial/), and 404.html for a
    missing page, as GitHub Pages does."""

    prefix = "/"

    def log_message(self, *args):
        pass

    def translate_path(self, path):
        if not path.startswith(self.prefix):
            return str(Path(self.directory) / "__missing__")
        return super().translate_path("/" + path[len(self.prefix) :])

    def send_error(self, code, message=None, explain=None):
        page = Path(self.directory) / "404.html"
        if code != 404 or not page.exists():
            return super().send_error(code, message, explain)
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextlib.contextmanager
def serve(site_dir: Path, prefix: str = "/"):
    """Serve a built site on 127.0.0.1 (a free port) under `prefix` for the block's duration."""
    handler = functools.partial(type("Host", (_Host,), {"prefix": prefix}), directory=str(site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{prefix}"
    finally:
        server.shutdown()
        server.server_close()


def in_browser(fn):
    """Run `await fn(browser)` in a freshly launched Chromium."""
    from playwright.async_api import async_playwright

    async def main():
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=require_chromium(), args=ARGS)
            try:
                return await fn(browser)
            finally:
                await browser.close()

    return asyncio.run(main())


class Visit:
    """One page open in a fresh context: what the console said, what failed, what left,
    and every response of the load (the page's, its scripts', its workers')."""

    def __init__(self, base_url: str, url: str):
        self.base_url, self.url = base_url, base_url + url
        self.errors: list[str] = []
        self.failed: list[str] = []
        self.outside: list[str] = []
        self.responses = []

    async def open(self, browser, *, scheme="light", viewport=None):
        self.context = await browser.new_context(
            color_scheme=scheme, viewport=viewport or {"width": 1280, "height": 900}, base_url=self.base_url
        )
        await self.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=self.base_url.rstrip("/"))
        await self.context.route("**/*", self._route)
        self.context.on("response", lambda r: self.responses.append(r))
        self.page = await self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))
        self.page.on("response", self._response)
        await self.page.goto(self.url, wait_until="load")
        await self.page.wait_for_load_state("networkidle")
        return self

    def _response(self, response):
        # The 404 page itself arrives with status 404, as it should; nothing else may fail.
        if response.status >= 400 and not (response.url == self.url and "no-such-page" in self.url):
            self.failed.append(f"{response.url} (HTTP {response.status})")

    async def _route(self, route):
        url = route.request.url
        if url.startswith(("http://127.0.0.1:", "data:", "blob:")):
            await route.continue_()
        else:
            self.outside.append(url)
            await route.abort()

    async def weight(self) -> dict[str, int]:
        """URL -> body bytes (as served: uncompressed here) of the responses so far."""
        out = {}
        for response in list(self.responses):
            try:
                out[response.url] = len(await response.body())
            except Exception:  # a redirect, or a body the browser already dropped
                out.setdefault(response.url, 0)
        return out

    async def close(self):
        await self.context.close()

    async def axe(self, inject: bool = True, within: str | None = None) -> list[str]:
        """axe-core's violations on the page, or only within the elements `within` selects."""
        if inject:
            await self.page.add_script_tag(content=axe_source())
        result = await self.page.evaluate(
            "async (within) => await axe.run(within ? {include: [within]} : document, {resultTypes: ['violations']})",
            within,
        )
        return [
            f"{v['id']} ({v['impact']}): {v['help']} -- {len(v['nodes'])} node(s), e.g. {v['nodes'][0]['target']}"
            for v in result["violations"]
        ]


# What each copy button copies, read from the copy itself, not from the clipboard: Material's
# button (clipboard.js) puts the block's text into a hidden textarea, selects it and runs
# document.execCommand("copy") inside the click, which fires a "copy" event before it returns.
# Reading the system clipboard instead depended on timing: under load, with other pages
# visited side by side, a run of buttons read back an empty clipboard (issue 25).
COPY_ALL = """() => {
  const out = [];
  let copied = null;
  const seen = () => {
    const field = document.activeElement;
    copied = field && field.tagName === "TEXTAREA"
      ? field.value.slice(field.selectionStart, field.selectionEnd)
      : String(document.getSelection());
  };
  document.addEventListener("copy", seen, true);
  for (const button of document.querySelectorAll("article button.md-code__button[data-md-type=copy]")) {
    copied = null;
    button.click();
    out.push(copied === null ? "(no copy event)" : copied);
  }
  document.removeEventListener("copy", seen, true);
  return out;
}"""


async def check_folds(page) -> list[str]:
    """Folded solutions (collapsed admonitions, <details>) are closed on load, and Enter on the
    first one's summary (the keyboard, as a reader without a mouse) opens it, and closes it."""
    folds = await page.evaluate("() => [...document.querySelectorAll('article details')].map((d) => d.open)")
    problems = [f"{sum(folds)} of {len(folds)} folded solutions are open on load"] if any(folds) else []
    if folds:
        await page.locator("article details > summary").first.focus()
        for want in (True, False):
            await page.keyboard.press("Enter")
            if await page.evaluate("document.querySelector('article details').open") != want:
                problems.append(f"Enter on a folded solution's summary did not {'open' if want else 'close'} it")
    return problems


async def check_page(browser, base_url: str, url: str, site_dir, clipboard: asyncio.Lock) -> list[str]:
    """Everything one page's visit checks; -> the problems found. `clipboard`: the browser's
    clipboard is one for all its pages, so one page at a time copies."""
    problems = []
    visit = await Visit(base_url, url).open(browser, scheme="light")
    try:
        page = visit.page
        weight = await visit.weight()
        total = sum(weight.values())
        if total > BUDGET_KIB * 1024:
            heavy = sorted(weight.items(), key=lambda x: -x[1])[:5]
            biggest = ", ".join(f"{u} {n / 1024:.0f} KiB" for u, n in heavy)
            problems.append(f"the load transfers {total / 1024:.0f} KiB, over the {BUDGET_KIB} KiB budget: {biggest}")
        problems += [f"axe, light: {v}" for v in await visit.axe()]
        # The palette toggle: to dark, checked, then axe again.
        await page.locator("form[data-md-component=palette] label:visible").first.click()
        scheme = await page.evaluate("document.body.getAttribute('data-md-color-scheme')")
        if scheme != "slate":
            problems.append(f"the palette toggle left the scheme at {scheme!r}")
        problems += [f"axe, dark: {v}" for v in await visit.axe(inject=False)]
        # With the search dialog open: its name, focus and colours. The dialog lives in the
        # header; the rest of the page is unchanged from the scan just before.
        await page.keyboard.press("/")
        await page.wait_for_timeout(500)  # Material fades the dialog in (0.25 s): measure it settled
        problems += [f"axe, dark, search open: {v}" for v in await visit.axe(inject=False, within=".md-header")]
        await page.keyboard.press("Escape")
        # ... and the toggle back to light.
        await page.locator("form[data-md-component=palette] label:visible").first.click()
        scheme = await page.evaluate("document.body.getAttribute('data-md-color-scheme')")
        if scheme != "default":
            problems.append(f"the palette toggle, pressed again, left the scheme at {scheme!r}")
        problems += await check_folds(page)
        if not url.startswith(("notebooks/", "no-such-page")):
            want = [text for _, text in html_blocks((site_dir / url).read_text(encoding="utf-8"))]
            # A reader opens a folded solution before copying it (a closed one copies nothing).
            await page.evaluate("() => document.querySelectorAll('article details').forEach((d) => (d.open = true))")
            async with clipboard:
                got = await page.evaluate(COPY_ALL)
            if len(got) != len(want):
                problems.append(f"{len(got)} copy buttons for {len(want)} code blocks")
            for i, (g, w) in enumerate(zip(got, want)):
                if g.rstrip("\n") != w.rstrip("\n"):
                    problems.append(f"copy button {i} copied {g[:100]!r}, the block is {w[:100]!r}")
        await page.set_viewport_size(PHONE)
        await page.wait_for_timeout(100)
        width = await page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            problems.append(f"{width} px wide at a {PHONE['width']} px phone width")
        # (The 404 page's own status shows in the console as a failed load: expected.)
        problems += [f"console error: {e}" for e in visit.errors if not (url.startswith("no-such-page") and "404" in e)]
        problems += [f"failed request: {f}" for f in visit.failed]
        problems += [f"request to another host: {o}" for o in visit.outside]
    finally:
        await visit.close()
    return problems


async def check_search(browser, base_url: str, query: str) -> tuple[list[str], list[str]]:
    """Search from the home page: -> (the results' links, axe's violations with them shown)."""
    visit = await Visit(base_url, "").open(browser)
    try:
        page = visit.page
        await page.keyboard.press("/")
        await page.keyboard.type(query)
        await page.wait_for_selector(".md-search-result__item", state="attached", timeout=10_000)
        hrefs = await page.eval_on_selector_all(
            ".md-search-result__item a", "els => els.map(e => e.getAttribute('href'))"
        )
        return hrefs, await visit.axe()
    finally:
        await visit.close()


def visit_pages(site_dir: Path, prefix: str, urls: list[str], queries: list[str], ready=lambda: True) -> dict:
    """Every page's visit (check_page) and every search (check_search), side by side:
    {"pages": {url: problems}, "search": {query: (links, violations)}}. Chromium starts at
    once; the visits wait until `ready()` (blocking: the build) says the site is there."""

    async def all_of_it(browser):
        if not await asyncio.to_thread(ready):
            failed = ["the build failed; see test_strict_build_passes"]
            return {"pages": {u: failed for u in urls}, "search": {q: ([], failed) for q in queries}}
        gate = asyncio.Semaphore(SIDE_BY_SIDE)
        clipboard = asyncio.Lock()

        async def page(url):
            async with gate:
                try:
                    return url, await check_page(browser, base_url, url, site_dir, clipboard)
                except Exception as e:  # one page's crash must not hide the others' results
                    return url, [f"the visit failed: {type(e).__name__}: {e}"]

        async def search(query):
            async with gate:
                try:
                    return query, await check_search(browser, base_url, query)
                except Exception as e:
                    return query, ([], [f"the search failed: {type(e).__name__}: {e}"])

        pages = asyncio.gather(*(page(u) for u in urls))
        searches = asyncio.gather(*(search(q) for q in queries))
        return {"pages": dict(await pages), "search": dict(await searches)}

    with serve(site_dir, prefix) as base_url:
        return in_browser(all_of_it)
