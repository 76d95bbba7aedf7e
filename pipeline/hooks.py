"""MkDocs hook (mkdocs.yml `hooks:`): every page with code gets its notebook and its script.

At build, each page with code is turned into a notebook (pipeline/notebooks.py) and written
into the site as download/<topic>.ipynb, next to its script download/<topic>.py (the
snippet file, which runs on its own). Under the page's title the hook adds the links:
the notebook, the script, and "Open in Colab" (the committed copy in notebooks/, on GitHub).
"""

from __future__ import annotations

import base64
import posixpath
import re
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # MkDocs imports this file by path
    sys.path.insert(0, str(ROOT))

from mkdocs.structure.files import File  # noqa: E402

from pipeline import PageError, Site, provenance  # noqa: E402
from pipeline.css import prune_site  # noqa: E402
from pipeline.notebooks import DOWNLOADS, NOTEBOOKS, dumps, notebook, topic  # noqa: E402

_pages: dict[str, str] = {}  # src_uri of a page with code -> its topic
H1 = re.compile(r"^# .*$", re.M)


def _site(config) -> Site:
    site = Site(Path(config.config_file_path).parent)
    site.__dict__["config"] = config  # the config being built, not a second load
    return site


def colab_url(config, name: str) -> str | None:
    """Colab opens a notebook straight from GitHub: github/<owner>/<repo>/blob/<branch>/<path>."""
    repo = (config.repo_url or "").rstrip("/")
    m = re.fullmatch(r"https://github\.com/(?P<owner>[^/]+)/(?P<repo>[^/]+?)(?:\.git)?", repo)
    if not m:
        return None
    branch = re.search(r"(?:edit|blob)/(?P<branch>[^/]+)/", config.edit_uri or "")
    ref = branch["branch"] if branch else "main"
    return f"https://colab.research.google.com/github/{m['owner']}/{m['repo']}/blob/{ref}/{NOTEBOOKS}/{name}.ipynb"


def on_files(files, config):
    site = _site(config)
    _pages.clear()
    for path in site.pages():
        try:
            page = site.read(path)
        except PageError:
            continue  # MkDocs reports the same page itself, with its own message
        if not page.python:
            continue
        name = topic(site, path)
        nb, _ = notebook(site, path)
        files.append(File.generated(config, f"{DOWNLOADS}/{name}.ipynb", content=dumps(nb)))
        snippet = site.root / "snippets" / f"{name}.py"
        if snippet.exists():
            files.append(File.generated(config, f"{DOWNLOADS}/{name}.py", abs_src_path=str(snippet)))
        _pages[path.resolve().relative_to(site.docs_dir).as_posix()] = name
    return files


def on_page_markdown(markdown, page, config, files):
    name = _pages.get(page.file.src_uri)
    if name is None:
        return markdown
    here = posixpath.dirname(page.file.src_uri)
    rel = posixpath.relpath(f"{DOWNLOADS}/{name}", here or ".")
    links = [f"[Download notebook]({rel}.ipynb){{ download }}"]
    if files.get_file_from_path(f"{DOWNLOADS}/{name}.py"):
        links.append(f"[Download script]({rel}.py){{ download }}")
    colab = colab_url(config, name)
    if colab:
        links.append(f"[Open in Colab]({colab})")
    repo = (config.repo_url or "").rstrip("/")
    branch = re.search(r"(?:edit|blob)/(?P<branch>[^/]+)/", config.edit_uri or "")
    if repo and files.get_file_from_path(f"{DOWNLOADS}/{name}.py"):
        links.append(f"[View source]({repo}/blob/{branch['branch'] if branch else 'main'}/snippets/{name}.py)")
    if page.edit_url:
        links.append(f"[Edit this page]({page.edit_url})")
    site = _site(config)
    verified = provenance.line_for(site, site.docs_dir / page.file.src_uri, provenance.load(site))
    bar = (
        '<div class="page-downloads" markdown>\n'
        + " · ".join(links)
        + f'\n</div>\n<p class="page-provenance" markdown>{verified}</p>'
    )
    m = H1.search(markdown)
    if m is None:
        return bar + "\n\n" + markdown
    return markdown[: m.end()] + "\n\n" + bar + "\n" + markdown[m.end() :]


NO_ALT = 'alt="No description has been provided for this image"'
IMG = re.compile(r'<img (?P<attrs>[^>]*?)src="(?P<src>[^"]*?(?P<name>[\w.-]+)\.svg)"(?P<rest>[^>]*)>')
SVG_SIZE = re.compile(r'<svg\b[^>]*?\bwidth="(?P<w>[\d.]+)(?P<wu>pt|px)?"[^>]*?\bheight="(?P<h>[\d.]+)(?P<hu>pt|px)?"')


def figure_tags(html: str, docs_dir: Path) -> str:
    """Each figure <img> gets its size (so nothing shifts when it arrives) and loads lazily:
    a figure below the first screen is fetched as the reader scrolls toward it."""

    def sized(m: re.Match) -> str:
        svg = docs_dir / "figures" / f"{m['name']}.svg"
        if "figures/" not in m["src"] or not svg.exists() or "width=" in m[0]:
            return m[0]
        size = SVG_SIZE.search(svg.read_text(encoding="utf-8")[:2000])
        if size is None:
            return m[0]
        px = {"pt": 4 / 3, "px": 1, None: 1}
        width, height = (round(float(size[k]) * px[size[k + "u"]]) for k in ("w", "h"))
        return (
            f'<img {m["attrs"]}src="{m["src"]}" width="{width}" height="{height}" loading="lazy"'
            f' decoding="async"{m["rest"]}>'
        )

    return IMG.sub(sized, html)


PLAIN_TOKEN = re.compile(r'<span class="[nw]">([^<]*)</span>')


def plain_names(html: str) -> str:
    """Pygments wraps every name (class "n") and run of whitespace ("w") in a <span>;
    Material colours names as plain code text and whitespace not at all. Unwrapped, the
    block looks and copies the same, and a code-heavy page is ~15% smaller."""
    return PLAIN_TOKEN.sub(r"\1", html)


COPY_ICON = re.compile(r'(<svg [^>]*class="clipboard-copy-icon"[^>]*>)(.*?)</svg>', re.S)


def one_copy_icon(html: str) -> str:
    """mkdocs-jupyter repeats the same inline SVG icon in every cell's copy button: draw it
    once, as a symbol, and have each button <use> it."""
    icons = COPY_ICON.findall(html)
    if len(icons) < 2 or len({paths for _, paths in icons}) != 1:
        return html
    symbol = (
        '<svg aria-hidden="true" style="position:absolute;width:0;height:0;overflow:hidden">'
        f'<symbol id="clipboard-copy-icon" viewBox="0 0 16 16">{icons[0][1].strip()}</symbol></svg>'
    )
    html = COPY_ICON.sub(lambda m: m.group(1) + '<use href="#clipboard-copy-icon"></use></svg>', html)
    return symbol + html


def on_page_content(html, page, config, files):
    """Figures: sized and lazy (figure_tags). Notebook pages: nbconvert's lab template drops
    an output's alt text and writes a placeholder. Give each picture the alt text stored
    with it (the page's, see pipeline.notebooks.execute), in order."""
    if not page.file.src_uri.endswith(".ipynb"):
        return plain_names(figure_tags(html, Path(config.docs_dir)))
    import html as html_lib

    import nbformat

    nb = nbformat.read(page.file.abs_src_path, as_version=4)
    alts = [
        o.get("metadata", {}).get("alt")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type in ("display_data", "execute_result") and any(k.startswith("image/") for k in o.data)
    ]
    pieces = html.split(NO_ALT)
    if len(pieces) - 1 == len(alts) and all(alts):  # else the tests name the images left without
        out = pieces[0]
        for alt, rest in zip(alts, pieces[1:]):
            out += f'alt="{html_lib.escape(alt, quote=True)}"' + rest
        html = out
    return plain_names(one_copy_icon(own_files(compact(unsearched(html)), page.url)))


UNSEARCHED = re.compile(r'<(span|div) class="(notice|jp-InputPrompt[^"]*|jp-OutputPrompt[^"]*)"')


def unsearched(html: str) -> str:
    """Keep a notebook's "In [3]:" prompts and its hidden "Copied!" notices out of the search
    index (Material's search skips elements marked data-search-exclude): a search result
    should show the code, not "In [22]: Copied!"."""
    return UNSEARCHED.sub(r'<\1 data-search-exclude class="\2"', html)


PRE = re.compile(r"(<pre\b.*?</pre>)", re.S)
SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script>", re.S)


COLLAPSER = re.compile(r'<div class="jp-Collapser\b[^"]*">\s*</div>\n?')
UNUSED_ATTRS = re.compile(r' ,=""| data-view-component="true"| version="1\.1"')


def compact(html: str) -> str:
    """nbconvert's markup, without what a static notebook page never uses: the script that
    loads Mermaid for diagrams (none here, and it would load from a CDN); the empty
    collapser bars JupyterLab clicks to fold a cell; attributes that mean nothing here (a
    stray `,=""`, GitHub's `data-view-component` and SVG's `version`); and the blank lines
    and indentation between tags (outside <pre>, the browser ignores them)."""
    if not re.search(r'class="[^"]*\bjp-Mermaid\b', html):
        html = SCRIPT.sub(lambda m: "" if "mermaid" in m.group(1) else m.group(0), html)
    html = UNUSED_ATTRS.sub("", COLLAPSER.sub("", html))
    parts = PRE.split(html)
    for i in range(0, len(parts), 2):  # the even parts lie outside <pre>
        parts[i] = re.sub(r">\s*\n\s*<", ">\n<", parts[i])
    return "".join(parts)


_outputs: dict[str, bytes] = {}  # site path -> an image a notebook page showed inline
DATA_IMG = re.compile(r'<img (?P<before>[^>]*?)src="data:image/png;base64,(?P<data>[^"]+)"(?P<after>[^>]*)>')


def own_files(html: str, url: str) -> str:
    """nbconvert inlines each image output as base64 in the page (a third bigger than the
    PNG, and fetched before the page can show). Write each one as a file next to the page
    (on_post_build), sized, and fetched lazily, like the figures."""
    count = 0

    def to_file(m: re.Match) -> str:
        nonlocal count
        count += 1
        data = base64.b64decode(m["data"])
        name = f"output-{count}.png"
        _outputs[posixpath.join(url, name)] = data
        size = ""
        if data[:8] == b"\x89PNG\r\n\x1a\n" and "width=" not in m[0]:
            width, height = struct.unpack(">II", data[16:24])
            size = f' width="{width}" height="{height}"'
        return f'<img {m["before"]}src="{name}"{size} loading="lazy" decoding="async"{m["after"]}>'

    return DATA_IMG.sub(to_file, html)


def on_post_page(output, page, config):
    """The search index is made by now (Material's search reads each page in
    on_page_context): the exclusion marks have done their work and need not be sent."""
    if page.file.src_uri.endswith(".ipynb"):
        return output.replace(" data-search-exclude ", " ")
    return output


def on_post_build(config):
    """Write the notebook pages' image outputs; then keep only the CSS the site can use:
    Material's stylesheets, and the JupyterLab CSS inlined into notebook pages
    (pipeline/css.py)."""
    site_dir = Path(config.site_dir)
    for path, data in _outputs.items():
        (site_dir / path).parent.mkdir(parents=True, exist_ok=True)
        (site_dir / path).write_bytes(data)
    _outputs.clear()
    prune_site(site_dir)
