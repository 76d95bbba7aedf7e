"""MkDocs hook: every page with code gets its notebook, its script and the links to them.

At build, each page is read once (pipeline/document.py); a page with code is written as a
notebook (pipeline/notebooks.py) into the site as download/<topic>.ipynb, next to its
script download/<topic>.py (the snippet file, which runs on its own). Under the page's
title go the links (notebook, script, Colab, source, edit) and the provenance line: which
torch and Python verified the page, and when (pipeline/provenance.py).
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # MkDocs imports a hook by its path

from mkdocs.structure.files import File  # noqa: E402

from pipeline import PageError, Site, provenance  # noqa: E402
from pipeline.notebooks import DOWNLOADS, NOTEBOOKS, dumps, notebook, topic  # noqa: E402

H1 = re.compile(r"^# .*$", re.M)


@dataclasses.dataclass
class Build:
    """What this build knows: the site, and each page with code (src_uri -> its topic)."""

    site: Site
    topics: dict[str, str] = dataclasses.field(default_factory=dict)
    record: dict | None = None  # the last test run's provenance record


build: Build | None = None


def on_files(files, config):
    global build
    site = Site(Path(config.config_file_path).parent)
    site.__dict__["config"] = config  # the config being built, not a second load
    build = Build(site, record=provenance.load(site))
    for path in site.pages():
        try:
            doc = site.read(path)
        except PageError:
            continue  # MkDocs reports the same page itself, with its own message
        if not doc.python:
            continue
        name = topic(site, path)
        files.append(File.generated(config, f"{DOWNLOADS}/{name}.ipynb", content=dumps(notebook(site, path, doc)[0])))
        snippet = site.root / "snippets" / f"{name}.py"
        if snippet.exists():
            files.append(File.generated(config, f"{DOWNLOADS}/{name}.py", abs_src_path=str(snippet)))
        build.topics[path.resolve().relative_to(site.docs_dir).as_posix()] = name
    return files


def links(config, name: str, rel: str, script: bool, edit_url: str | None) -> list[str]:
    """The links under a page's title. Colab opens a notebook straight from GitHub:
    github/<owner>/<repo>/blob/<branch>/notebooks/<topic>.ipynb."""
    out = [f"[Download notebook]({rel}.ipynb){{ download }}"]
    if script:
        out.append(f"[Download script]({rel}.py){{ download }}")
    repo = (config.repo_url or "").rstrip("/")
    branch = re.search(r"(?:edit|blob)/(?P<branch>[^/]+)/", config.edit_uri or "")
    ref = branch["branch"] if branch else "main"
    m = re.fullmatch(r"https://github\.com/(?P<owner>[^/]+)/(?P<repo>[^/]+?)(?:\.git)?", repo)
    if m:
        colab = "https://colab.research.google.com/github"
        out.append(f"[Open in Colab]({colab}/{m['owner']}/{m['repo']}/blob/{ref}/{NOTEBOOKS}/{name}.ipynb)")
    if repo and script:
        out.append(f"[View source]({repo}/blob/{ref}/snippets/{name}.py)")
    if edit_url:
        out.append(f"[Edit this page]({edit_url})")
    return out


def on_page_markdown(markdown, page, config, files):
    name = build.topics.get(page.file.src_uri) if build else None
    if name is None:
        return markdown
    rel = posixpath.relpath(f"{DOWNLOADS}/{name}", posixpath.dirname(page.file.src_uri) or ".")
    script = files.get_file_from_path(f"{DOWNLOADS}/{name}.py") is not None
    site = build.site
    verified = provenance.line_for(site, site.docs_dir / page.file.src_uri, build.record)
    bar = (
        '<div class="page-downloads" markdown>\n'
        + " · ".join(links(config, name, rel, script, page.edit_url))
        + f'\n</div>\n<p class="page-provenance" markdown>{verified}</p>'
    )
    m = H1.search(markdown)
    if m is None:
        return bar + "\n\n" + markdown
    return markdown[: m.end()] + "\n\n" + bar + "\n" + markdown[m.end() :]
