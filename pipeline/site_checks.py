"""The built site: the strict build, and the guards on its HTML.

* ``check_html``: every Python block and every output block a built page shows is one the
  tests ran and compared (a fence that bypassed the snippets, or one the reader skips, fails);
  ``check_rendered_html`` does the same for a notebook page.
* ``markdown_leaks``: Markdown syntax that reached the HTML as text.
* ``third_party_loads``: nothing is fetched from another host.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat

from pipeline import PAGE_TIMEOUT_S, PYTHON_LIKE, Site
from pipeline.checks import norm
from pipeline.document import FENCE, Document


def build(root: Path, site_dir: Path) -> subprocess.CompletedProcess:
    """`mkdocs build --strict` from the repository root, as the README runs it."""
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)]
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    return subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=PAGE_TIMEOUT_S)


def html_blocks(html: str) -> list[tuple[str, str]]:
    """(language, text) of every code block on a built page, as the copy button copies it."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    out = []
    for pre in soup.select("article pre"):
        code = pre.find("code")
        if code is None:
            continue
        holder = pre.find_parent(class_="highlight")
        classes = holder.get("class", []) if holder else []
        lang = next((c[len("language-") :] for c in classes if c.startswith("language-")), "")
        # Line numbers live outside <code>; annotation markers are stripped by the copy button.
        for junk in code.select(".md-annotation, .linenos"):
            junk.decompose()
        out.append((lang, code.get_text()))
    return out


def check_html(site: Site, site_dir: Path, pages: dict[str, Document], only: str | None = None) -> list[str]:
    """Every Python block and every output block in the HTML must be one the tests handled.

    `only` limits the check to one page (e.g. "docs/tensors.md"); None checks every HTML file,
    including those that come from no page (they must show no Python at all).
    """
    problems = []
    built = {site.url_of(site.root / p): p for p in pages}
    for html_file in sorted(site_dir.rglob("*.html")):
        url = html_file.relative_to(site_dir).as_posix()
        who = built.get(url, url)
        if only is not None and who != only:
            continue
        problems += check_html_file(html_file, who, pages.get(who))
    return problems


def check_html_file(html_file: Path, who: str, page: Document | None) -> list[str]:
    """Compare one built HTML file's code and output blocks with what the tests ran and checked."""
    blocks = html_blocks(html_file.read_text(encoding="utf-8"))
    python = [norm(text) for lang, text in blocks if lang.lower() in PYTHON_LIKE]
    text = [norm(text) for lang, text in blocks if lang.lower() in ("text", "txt", "output", "")]
    ran = [norm(b.code) for b in page.python] if page else []
    checked = [norm(b.check.shown) for b in (page.runs if page else []) if b.check is not None]
    problems = []
    for kind, shown, handled, verb, participle in (
        ("Python", python, ran, "ran", "run"),
        ("text/output", text, checked, "checked", "checked"),
    ):
        if shown != handled:
            missed = [t for t in shown if t not in handled]
            first = missed[0][0] if missed and missed[0] else "(empty)"
            problems.append(
                f"{who}: the built page shows {len(shown)} {kind} block(s) but the tests {verb}"
                f" {len(handled)} as shown; first one not {participle}: {first!r}"
            )
    return problems


# Markdown that reached the HTML as text: syntax the Markdown processor did not turn into
# markup (a table cut in two by a blank line, bold with a space inside, an admonition that
# lost its indentation, a link inside HTML, an include that did not expand).
LEAKS = (
    (re.compile(r"^[ \t]*\|.*\|[ \t]*$", re.M), "a Markdown table row"),
    (re.compile(r"[^\n\x00]{0,30}\*\*[^\n\x00]{0,30}"), "Markdown bold markers (**)"),
    (re.compile(r"^[ \t]*(?:!!!|\?\?\?\+?)[ \t]+\w", re.M), "admonition syntax (!!! or ???)"),
    (re.compile(r"\[[^\]\n]+\]\([^)\s]+\)"), "a raw Markdown link"),
    (re.compile(r"--8<--"), "a snippet include (--8<--)"),
)
TEXT_BLOCKS = "p, li, h1, h2, h3, h4, h5, h6, td, th, dt, dd, figcaption, summary, blockquote"


def markdown_leaks(html: str) -> list[tuple[str, str]]:
    """(what, the text) of each piece of Markdown syntax shown as text in a built page's
    content. Code (inline or block) is left out: there such characters are code."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    root = soup.select_one("article") or soup
    found: list[tuple[str, str]] = []
    for el in root.select(TEXT_BLOCKS):
        text = "".join(
            "\x00" if s.find_parent(["code", "kbd", "pre", "script", "style"]) else str(s)
            for s in el.find_all(string=True)
        )
        for pattern, what in LEAKS:
            m = pattern.search(text)
            if m and (what, m.group(0).strip()) not in found:
                found.append((what, m.group(0).strip()))
    return found


def leak_line(source: Path, text: str) -> int | None:
    """The line of a page's Markdown that a leaked text most likely comes from: the first,
    outside code fences, holding the text's first four words."""
    words = re.findall(r"\w+", text)[:4]
    in_fence = False
    for n, line in enumerate(source.read_text(encoding="utf-8").split("\n"), start=1):
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        if not in_fence and words and all(w in line for w in words):
            return n
    return None


# Tags and attributes that make a browser fetch something when the page loads.
LOADERS = {tag: "src" for tag in ("script", "img", "iframe", "source", "audio", "video", "embed", "track", "input")}
LOADERS["object"] = "data"
PRELOADS = {"stylesheet", "preload", "prefetch", "preconnect", "dns-prefetch", "modulepreload", "icon", "manifest"}
REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.I)
CSS_URL = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])(?P<url>[^'")\s]+)""", re.I)


def third_party_loads(site_dir: Path) -> list[str]:
    """Every resource a built page (or its CSS) would fetch from another host."""
    from bs4 import BeautifulSoup

    found = []
    for html_file in sorted(site_dir.rglob("*.html")):
        rel = html_file.relative_to(site_dir).as_posix()
        soup = BeautifulSoup(html_file.read_text(encoding="utf-8"), "html.parser")
        for tag, attr in LOADERS.items():
            for el in soup.find_all(tag):
                for a in (attr, "srcset", "poster"):
                    value = el.get(a)
                    if value and any(REMOTE.match(v.strip().split(" ")[0]) for v in value.split(",")):
                        found.append(f"{rel}: <{tag} {a}={value!r}>")
        for el in soup.find_all("link", href=True):
            rels = {r.lower() for r in el.get("rel", [])}
            if rels & PRELOADS and REMOTE.match(el["href"]):
                found.append(f"{rel}: <link rel={' '.join(sorted(rels))} href={el['href']!r}>")
        for el in soup.find_all(style=True):
            found += [f"{rel}: style url {m['url']!r}" for m in CSS_URL.finditer(el["style"]) if REMOTE.match(m["url"])]
        for el in soup.find_all("style"):
            found += [
                f"{rel}: <style> url {m['url']!r}" for m in CSS_URL.finditer(el.get_text()) if REMOTE.match(m["url"])
            ]
    for css in sorted(site_dir.rglob("*.css")):
        text = css.read_text(encoding="utf-8", errors="replace")
        rel = css.relative_to(site_dir).as_posix()
        found += [f"{rel}: url {m['url']!r}" for m in CSS_URL.finditer(text) if REMOTE.match(m["url"])]
    return found


def check_rendered_html(html: str, stored: nbformat.NotebookNode, who: str) -> list[str]:
    """The guard for a notebook page: the HTML shows exactly the stored notebook's code and
    text outputs (which the tests executed and compared), and no Python in its prose."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    problems = []
    shown_code = [norm(pre.get_text()) for pre in soup.select(".jp-CodeCell .jp-InputArea pre")]
    code = [norm(c.source) for c in stored.cells if c.cell_type == "code"]
    if shown_code != code:
        problems.append(
            f"{who}: the page shows {len(shown_code)} code cell(s), the notebook the tests ran has {len(code)}"
        )
    shown_text = [norm(pre.get_text()) for pre in soup.select(".jp-OutputArea-output pre")]
    text = []
    for c in stored.cells:
        for o in c.get("outputs", []):
            if o.output_type == "stream":
                text.append(norm(o.text))
            elif o.output_type == "execute_result" and "text/plain" in o.data:
                text.append(norm(o.data["text/plain"]))
    if shown_text != text:
        problems.append(
            f"{who}: the page shows {len(shown_text)} text output(s), the executed notebook has {len(text)}"
        )
    for code_el in soup.select(".jp-MarkdownCell pre code"):
        classes = " ".join(code_el.get("class", []))
        if "language-" not in classes or "python" in classes:
            problems.append(
                f"{who}: a Markdown cell shows a code block the tests never ran: {code_el.get_text()[:80]!r}"
            )
    return problems
