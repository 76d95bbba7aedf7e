"""MkDocs hook: each figure <img> gets its size (so nothing shifts when it arrives) and loads
lazily: a figure below the first screen is fetched as the reader scrolls toward it."""

from __future__ import annotations

import re
from pathlib import Path

IMG = re.compile(r'<img (?P<attrs>[^>]*?)src="(?P<src>[^"]*?(?P<name>[\w.-]+)\.svg)"(?P<rest>[^>]*)>')
SVG_SIZE = re.compile(r'<svg\b[^>]*?\bwidth="(?P<w>[\d.]+)(?P<wu>pt|px)?"[^>]*?\bheight="(?P<h>[\d.]+)(?P<hu>pt|px)?"')


def figure_tags(html: str, docs_dir: Path) -> str:

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


def on_page_content(html, page, config, files):
    return figure_tags(html, Path(config.docs_dir)) if page.file.src_uri.endswith(".md") else html
