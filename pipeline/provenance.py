"""Provenance: which torch, which Python and which day verified each page.

A test run that verifies every page (`make test`) writes, at its end, a record of what it
ran with: torch's and Python's versions, the date, and for each page a hash of what the
run checked (the expanded page and its snippet file). The build reads it and shows, under
each page's title, the versions and date, only while the page's hash still matches: a page
edited since the last run says so instead. Nothing on the site is typed by hand.

The record goes to the file named by $TUTORIAL_PROVENANCE (the Makefile uses .verified.json
at the repository root, ignored by git); without it, nothing is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
from importlib.metadata import version
from pathlib import Path

from pipeline import PageError, Site

ENV = "TUTORIAL_PROVENANCE"


def content_hash(site: Site, path: Path) -> str:
    """What a verification of a page covers: its expanded text (snippets included) and its
    snippet file (which also runs standalone)."""
    h = hashlib.sha256()
    try:
        lines = site.read(path).lines
    except PageError:
        return ""
    h.update("\n".join(lines).encode("utf-8"))
    snippet = site.root / "snippets" / path.resolve().relative_to(site.docs_dir).with_suffix(".py")
    if snippet.exists():
        h.update(snippet.read_bytes())
    return h.hexdigest()


def record(site: Site, pages: list[Path]) -> dict:
    return {
        "torch": version("torch"),
        "python": platform.python_version(),
        "date": dt.datetime.now(dt.UTC).date().isoformat(),
        "machine": f"{platform.system()} {platform.machine()}",
        "pages": {site.rel(p): content_hash(site, p) for p in pages},
    }


def target() -> Path | None:
    value = os.environ.get(ENV)
    return Path(value) if value else None


def load(site: Site) -> dict | None:
    path = target() or site.root / ".verified.json"
    if not path.is_absolute():
        path = site.root / path
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def line_for(site: Site, path: Path, data: dict | None) -> str:
    """The provenance line a page shows."""
    if not data:
        return "Not verified in this build: `make test` verifies every page and records how."
    want = data.get("pages", {}).get(site.rel(path))
    if want is None:
        return "Not verified in this build: the last test run did not cover this page."
    if want != content_hash(site, path):
        return "Changed since the last test run: run `make test` to verify it."
    return (
        f"Verified by the tests with torch {data['torch']} and Python {data['python']}"
        f" on {data['date']} ({data['machine']})."
    )
