"""MkDocs hook (mkdocs.yml `hooks:`): every page with code gets its notebook and its script.

At build, each page with code is turned into a notebook (pipeline/notebooks.py) and written
into the site as download/<topic>.ipynb, next to its script download/<topic>.py (the
snippet file, which runs on its own). Under the page's title the hook adds the links:
the notebook, the script, and "Open in Colab" (the committed copy in notebooks/, on GitHub).
"""

from __future__ import annotations

import posixpath
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # MkDocs imports this file by path
    sys.path.insert(0, str(ROOT))

from mkdocs.structure.files import File  # noqa: E402

from pipeline import PageError, Site, provenance  # noqa: E402
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


def on_page_content(html, page, config, files):
    """Notebook pages: nbconvert's lab template drops an output's alt text and writes a
    placeholder. Give each picture the alt text stored with it (the page's, see
    pipeline.notebooks.execute), in order."""
    if not page.file.src_uri.endswith(".ipynb"):
        return html
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
    if len(pieces) - 1 != len(alts) or not all(alts):
        return html  # the tests name the images left without alt text
    out = pieces[0]
    for alt, rest in zip(alts, pieces[1:]):
        out += f'alt="{html_lib.escape(alt, quote=True)}"' + rest
    return out
