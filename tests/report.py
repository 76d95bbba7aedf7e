"""The site's speed report (issue 6): `make report`, or `python tests/report.py [--no-suite]`.

1. Bytes: every page's load in Chromium, uncompressed (what the budget test checks), and
   what the page weighs once every lazy figure has loaded too.
2. Lighthouse (mobile, its default throttling) on the home, Tensors and digits pages,
   served gzipped as GitHub Pages serves them: performance >= 95, accessibility 100,
   best practices >= 95. Lighthouse comes from the npm registry (pinned below) into a
   cache folder, and drives the same Chromium as the browser tests.
3. The test suite's wall time against its floor: every page's code run once, page by page,
   each in a fresh process. The goal: the suite within 1.5x of the floor on 2 cores.
4. The cold build's time (budget 10 s on 2 cores) and how the output blocks are checked:
   the share checked exactly (goal: at least 9 in 10), and which use a looser mode.
5. The writer's loop: `make test PAGE=tensors`, one page verified completely (target 10 s).
6. Exercises per chapter (each with a start block, a folded solution and a check).

It prints a table and exits 1 if a target is missed. Nothing here is a test: Lighthouse
scores move a point or two between runs, and a timing is not a fact to assert.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from browser import BUDGET_KIB, _Host, chromium, serve, weigh  # noqa: E402

from pipeline import THREADS, Site  # noqa: E402
from pipeline.run import run  # noqa: E402
from pipeline.site_checks import build  # noqa: E402

LIGHTHOUSE = "lighthouse@12.8.2"
LIGHTHOUSE_PAGES = {"home": "", "tensors": "tensors/", "digits": "digits/"}
TARGETS = {"performance": 95, "accessibility": 100, "best-practices": 95}
FLOOR_FACTOR = 1.5
# A cold build of the whole site on 2 cores measured ~2 s alone, 13-18 s while the suite
# loaded the machine: a budget for this report, never a test's assertion.
BUILD_BUDGET_S = 10
EXACT_SHARE = 0.9
ONE_PAGE, ONE_PAGE_TARGET_S = "tensors", 10  # `make test PAGE=tensors`, on 2 cores
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-quic --disable-background-networking"


class _GzipHost(_Host):
    """Serves text as a real host does: gzip-encoded when the browser accepts it."""

    TEXT = (".html", ".css", ".js", ".json", ".svg", ".xml", ".txt", ".ipynb", ".py")

    def send_head(self):
        path = Path(self.translate_path(self.path.split("?", 1)[0]))
        if path.is_dir():
            path = path / "index.html"
        if (
            path.suffix not in self.TEXT
            or not path.is_file()
            or "gzip" not in self.headers.get("Accept-Encoding", "")
            or not self.path.split("?", 1)[0].endswith((*self.TEXT, "/"))
        ):
            return super().send_head()
        body = gzip.compress(path.read_bytes(), 6)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=600")
        self.end_headers()
        return io.BytesIO(body)


@contextmanager
def serve_gzipped(site_dir: Path, prefix: str):
    handler = functools.partial(type("Host", (_GzipHost,), {"prefix": prefix}), directory=str(site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{prefix}"
    finally:
        server.shutdown()
        server.server_close()


def page_weights(site: Site, site_dir: Path, prefix: str) -> list[tuple[str, int, int]]:
    """(url, bytes of the load, bytes with every lazy image loaded), uncompressed."""
    from playwright.sync_api import sync_playwright

    from pipeline.kernel import rendered

    urls = [site.url_of(p) for p in site.pages()] + [site.url_of(p.with_suffix(".md")) for p in rendered(site)]
    out = []
    with serve(site_dir, prefix) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=CHROME_FLAGS.split()[1:])
        for url in urls:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            responses = []
            context.on("response", lambda r, responses=responses: responses.append(r))
            page = context.new_page()
            page.goto(base + url)
            page.wait_for_load_state("networkidle")
            load = sum(weigh(responses).values())
            page.evaluate("document.querySelectorAll('img[loading=lazy]').forEach(i => i.loading = 'eager')")
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(200)
            out.append((url, load, sum(weigh(responses).values())))
            context.close()
        browser.close()
    return out


def lighthouse_bin() -> Path:
    """Lighthouse, installed once from the npm registry into a cache folder."""
    home = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "pytorch-verified" / LIGHTHOUSE
    exe = home / "node_modules" / ".bin" / "lighthouse"
    if not exe.exists():
        if not shutil.which("npm"):
            sys.exit("report: Lighthouse needs Node.js and npm (Node >= 18.16)")
        home.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--prefix", str(home), "--no-audit", "--no-fund", "--loglevel=error", LIGHTHOUSE],
            check=True,
        )
    return exe


def lighthouse(site_dir: Path, prefix: str) -> dict[str, dict[str, float]]:
    exe = lighthouse_bin()
    scores = {}
    with serve_gzipped(site_dir, prefix) as base, tempfile.TemporaryDirectory() as tmp:
        for name, url in LIGHTHOUSE_PAGES.items():
            out = Path(tmp) / f"{name}.json"
            subprocess.run(
                [
                    str(exe),
                    base + url,
                    "--quiet",
                    "--output=json",
                    f"--output-path={out}",
                    "--only-categories=performance,accessibility,best-practices",
                    f"--chrome-path={chromium()}",
                    f"--chrome-flags={CHROME_FLAGS}",
                ],
                check=True,
                env=dict(os.environ, CHROME_PATH=chromium() or ""),
            )
            result = json.loads(out.read_text(encoding="utf-8"))
            scores[name] = {k: round(c["score"] * 100) for k, c in result["categories"].items()}
            scores[name]["bytes (gzipped)"] = result["audits"]["total-byte-weight"]["numericValue"]
            failing = [
                a["id"]
                for a in result["audits"].values()
                if a.get("score") is not None and a["score"] < 0.9 and a.get("scoreDisplayMode") == "binary"
            ]
            scores[name]["failing audits"] = failing
    return scores


def floor_seconds(site: Site) -> float:
    """Every page's code run once, page by page, each in a fresh process."""
    start = time.perf_counter()
    for path in site.pages():
        page = site.read(path)
        if page.python and (problems := run(page, threads=THREADS).problems):
            sys.exit(f"report: {site.rel(path)} does not run as shown:\n" + "\n".join(map(str, problems)))
    return time.perf_counter() - start


def suite_seconds(*args: str) -> float:
    """The wall time of `pytest -q ARGS` (no args: the whole suite; `--page tensors`: the
    writer's loop, `make test PAGE=tensors`)."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=ROOT)
    if proc.returncode != 0:
        sys.exit(f"report: pytest {' '.join(args)} failed")
    return time.perf_counter() - start


def print_checks(site: Site, missed: list[str]) -> None:
    """How every output block on the site is checked (pipeline/checks.py)."""
    counts: dict[str, int] = {}
    loose = []
    for path in site.pages():
        for block in site.read(path).runs:
            if block.check is None:
                continue
            counts[block.check.mode] = counts.get(block.check.mode, 0) + 1
            if not block.check.exact:
                loose.append(f"{site.rel(path)}:{block.check.line} {block.check.mode}")
    exercises = {site.rel(p): sum(b.exercise == "start" for b in site.read(p).runs) for p in site.pages()}
    print("## Exercises per chapter\n")
    print("\n".join(f"- {page}: {n}" for page, n in exercises.items() if site.read(site.root / page).python) + "\n")
    total = sum(counts.values())
    exact = counts.get("exact", 0)
    print(f"## Output blocks: {exact} of {total} checked exactly ({exact / total:.0%}; goal at least 90%)\n")
    print(", ".join(f"{mode} {n}" for mode, n in sorted(counts.items())) + "\n")
    print("\n".join(f"- {x}" for x in loose) + "\n")
    if exact < EXACT_SHARE * total:
        missed.append(f"only {exact} of {total} output blocks are exact")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-suite", action="store_true", help="skip timing the whole test suite")
    parser.add_argument("--no-lighthouse", action="store_true", help="skip Lighthouse")
    args = parser.parse_args()
    if not chromium():
        sys.exit("report: no Chromium found (set $CHROMIUM)")
    site = Site()
    from urllib.parse import urlsplit

    prefix = urlsplit(site.config["site_url"]).path or "/"
    missed = []
    print(f"# Speed report, {time.strftime('%Y-%m-%d')}, {platform.node()} ({os.cpu_count()} cores)\n")
    print_checks(site, missed)
    with tempfile.TemporaryDirectory() as tmp:
        site_dir = Path(tmp) / "site"
        start = time.perf_counter()
        proc = build(site.root, site_dir)
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            sys.exit(f"report: the build failed:\n{proc.stderr}")
        print(f"## Cold build\n\n`mkdocs build --strict`: {seconds:.1f} s (budget {BUILD_BUDGET_S} s)\n")
        if seconds > BUILD_BUDGET_S:
            missed.append(f"cold build {seconds:.1f} s > {BUILD_BUDGET_S} s")

        print(f"## Bytes per page load, uncompressed (budget {BUDGET_KIB} KiB)\n")
        print("| page | load KiB | with every figure KiB |\n|---|---:|---:|")
        for url, load, full in page_weights(site, site_dir, prefix):
            flag = "" if load <= BUDGET_KIB * 1024 else " OVER"
            if flag:
                missed.append(f"{url or 'home'}: {load / 1024:.0f} KiB")
            print(f"| {url or '(home)'} | {load / 1024:.0f}{flag} | {full / 1024:.0f} |")

        if not args.no_lighthouse:
            print(f"\n## Lighthouse ({LIGHTHOUSE}, mobile), served gzipped\n")
            print("| page | performance | accessibility | best practices | transferred KiB | failing audits |")
            print("|---|---:|---:|---:|---:|---|")
            for name, s in lighthouse(site_dir, prefix).items():
                for k, target in TARGETS.items():
                    if s[k] < target:
                        missed.append(f"{name}: {k} {s[k]} < {target}")
                print(
                    f"| {name} | {s['performance']} | {s['accessibility']} | {s['best-practices']} |"
                    f" {s['bytes (gzipped)'] / 1024:.0f} | {', '.join(s['failing audits']) or '-'} |"
                )

    print("\n## One page, the writer's loop\n")
    one = suite_seconds("--page", ONE_PAGE)
    print(
        f"`make test PAGE={ONE_PAGE}` (its runs, notebook, build checks, browser visit): {one:.1f} s"
        f" (target {ONE_PAGE_TARGET_S} s)"
    )
    if one > ONE_PAGE_TARGET_S:
        missed.append(f"make test PAGE={ONE_PAGE}: {one:.1f} s > {ONE_PAGE_TARGET_S} s")
    if not args.no_suite:
        print("\n## Test suite against its floor\n")
        floor = floor_seconds(site)
        suite = suite_seconds()
        ratio = suite / floor
        if ratio > FLOOR_FACTOR:
            missed.append(f"suite {suite:.0f} s is {ratio:.2f}x its floor ({floor:.0f} s)")
        print(f"floor (every page once, in turn): {floor:.0f} s; suite: {suite:.0f} s; {ratio:.2f}x")

    print("\n" + ("All targets met." if not missed else "Missed:\n- " + "\n- ".join(missed)))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
