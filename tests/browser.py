"""The built site in a real browser: Playwright driving the system's Chromium.

Playwright's own browser download cannot work on this project's machines (no internet), so
the tests drive an installed Chromium: $CHROMIUM, else /usr/bin/chromium (Debian's package,
which the Makefile's set-up installs where it can), else Chrome. The site is served from a
temp folder on 127.0.0.1; every request to another host is refused and recorded.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

AXE_JS = None  # path of axe.min.js (axe-core), found on first use
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


def weigh(responses) -> dict[str, int]:
    """URL -> body bytes (as served: uncompressed here) of a load's responses."""
    out = {}
    for response in responses:
        try:
            out[response.url] = len(response.body())
        except Exception:  # a redirect, or a body the browser already dropped
            out.setdefault(response.url, 0)
    return out


def axe_source() -> str:
    """axe-core's script, as shipped inside the axe-playwright-python package."""
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
