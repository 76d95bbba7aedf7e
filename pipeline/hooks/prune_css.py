"""MkDocs hook: after the build, keep only the CSS the site can use: Material's stylesheets,
and the JupyterLab CSS inlined into notebook pages (pipeline/css.py)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # MkDocs imports a hook by its path

from pipeline.css import prune_site  # noqa: E402


def on_post_build(config):
    prune_site(Path(config.site_dir))
