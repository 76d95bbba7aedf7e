"""MkDocs hook: notebook pages (mkdocs-jupyter) made light and accessible.

nbconvert's lab template drops each picture's alt text, inlines images as base64, repeats
one SVG icon in every cell and carries markup a static page never uses. Here each picture
gets the alt text stored with it (pipeline/kernel.py), becomes a file next to the page,
the icon is drawn once, and the idle markup goes.
"""

from __future__ import annotations

import base64
import dataclasses
import html as html_lib
import posixpath
import re
import struct
from pathlib import Path

import nbformat

NO_ALT = 'alt="No description has been provided for this image"'


@dataclasses.dataclass
class Build:
    """This build's image outputs of notebook pages: site path -> PNG bytes (on_post_build)."""

    outputs: dict[str, bytes] = dataclasses.field(default_factory=dict)


build = Build()


def on_pre_build(config):
    global build
    build = Build()


def on_page_content(html, page, config, files):
    if not page.file.src_uri.endswith(".ipynb"):
        return html
    return one_copy_icon(own_files(compact(unsearched(with_alt(html, page.file.abs_src_path))), page.url))


def with_alt(html: str, notebook: str) -> str:
    """Give each picture the alt text stored with its output, in order."""
    nb = nbformat.read(notebook, as_version=4)
    alts = [
        o.get("metadata", {}).get("alt")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type in ("display_data", "execute_result") and any(k.startswith("image/") for k in o.data)
    ]
    pieces = html.split(NO_ALT)
    if len(pieces) - 1 != len(alts) or not all(alts):  # the tests name the images left without
        return html
    out = pieces[0]
    for alt, rest in zip(alts, pieces[1:]):
        out += f'alt="{html_lib.escape(alt, quote=True)}"' + rest
    return out


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
    use = '<use href="#clipboard-copy-icon"></use></svg>'  # the symbol has the viewBox
    html = COPY_ICON.sub(lambda m: m.group(1).replace(' viewbox="0 0 16 16"', "") + use, html)
    return symbol + html


UNSEARCHED = re.compile(r'<(span|div) class="(notice|jp-InputPrompt[^"]*|jp-OutputPrompt[^"]*)"')


def unsearched(html: str) -> str:
    """Keep a notebook's "In [3]:" prompts and its hidden "Copied!" notices out of the search
    index (Material's search skips elements marked data-search-exclude): a search result
    should show the code, not "In [22]: Copied!"."""
    return UNSEARCHED.sub(r'<\1 data-search-exclude class="\2"', html)


PRE = re.compile(r"(<pre\b.*?</pre>)", re.S)
SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script>", re.S)
# Empty boxes: JupyterLab's collapser bars, and the prompt column of a Markdown cell (hidden).
COLLAPSER = re.compile(r'<div class="(?:jp-Collapser\b[^"]*|jp-InputPrompt jp-InputArea-prompt)">\s*</div>\n?')
UNUSED_ATTRS = re.compile(
    r' ,=""| data-view-component="true"| version="1\.1"| data-type="inline"| id="cell-id=[^"]*"'
    r'| data-mime-type="text/(?:plain|markdown|html)"|(?<=<pre>)<span></span>'
)
# A Markdown cell is prose: no tab stop for it (a keyboard reader tabs through links and code).
PROSE_STOP = re.compile(r'(<div class="jp-Cell jp-MarkdownCell[^>]*>\s*<div class="jp-Cell-inputWrapper") tabindex="0"')
# Classes no style rule and no script of the site reads (the pruned CSS has none).
UNUSED_CLASSES = re.compile(r" (?:jp-Notebook-cell|jp-RenderedMarkdown|jp-Editor|hl-python)(?=[ \"])")
# A code cell's copy button copies a hidden second copy of its code: let it copy the code shown.
COPY_TXT = re.compile(
    r'(<div class="highlight-ipynb[^"]*"><pre)(>.*?</pre></div>\s*)'
    r'<div class="clipboard-copy-txt" id="(?P<id>[^"]+)">.*?</div>\n?',
    re.S,
)


def compact(html: str) -> str:
    """nbconvert's markup, without what a static notebook page never uses: the script that
    loads Mermaid for diagrams (none here, and it would load from a CDN); the empty
    collapser bars JupyterLab clicks to fold a cell, and the empty prompts of Markdown cells;
    the hidden copy of each cell's code that its copy button copied (it copies the code
    shown now, the same text); attributes that mean nothing here (a
    stray `,=""`, GitHub's `data-view-component` and SVG's `version`, the cells' ids, the
    copy icons' viewBox, which their symbol has); and the blank lines and indentation between
    tags (outside <pre>, the browser ignores them), and any line break next to a <div>."""
    if not re.search(r'class="[^"]*\bjp-Mermaid\b', html):
        html = SCRIPT.sub(lambda m: "" if "mermaid" in m.group(1) else m.group(0), html)
    html = COPY_TXT.sub(lambda m: f'{m[1]} id="{m["id"]}"{m[2]}', html)
    html = UNUSED_CLASSES.sub("", UNUSED_ATTRS.sub("", COLLAPSER.sub("", html)))
    html = PROSE_STOP.sub(r"\1", html)
    parts = PRE.split(html)
    for i in range(0, len(parts), 2):  # the even parts lie outside <pre>
        parts[i] = re.sub(r">\s*\n\s*<", ">\n<", parts[i])
        parts[i] = re.sub(r">\n(</?div\b)|(</div>)\n<", lambda m: f">{m[1]}" if m[1] else f"{m[2]}<", parts[i])
    return "".join(parts)


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
        build.outputs[posixpath.join(url, name)] = data
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
    site_dir = Path(config.site_dir)
    for path, data in build.outputs.items():
        (site_dir / path).parent.mkdir(parents=True, exist_ok=True)
        (site_dir / path).write_bytes(data)
