"""Pictures: every figure is drawn by code, redrawn here, and has alt text that says something."""

from __future__ import annotations

import pytest

from pipeline import FIGURES, Site
from pipeline.figures import draw_script, scripts

SITE = Site()
SCRIPTS = scripts(SITE)


@pytest.mark.parametrize("script", SCRIPTS, ids=[SITE.rel(s) for s in SCRIPTS])
def test_figure_matches_its_script(script, tmp_path):
    """A committed docs/figures/NAME.svg is exactly what docs/figures/NAME.py draws now."""
    proc = draw_script(script, tmp_path)
    assert proc.returncode == 0, f"{SITE.rel(script)} failed:\n{proc.stderr}"
    assert not proc.stderr.strip(), f"{SITE.rel(script)} wrote to stderr:\n{proc.stderr}"
    svg = script.with_suffix(".svg")
    drawn = tmp_path / svg.name
    assert drawn.exists(), f"{SITE.rel(script)} did not write {svg.name} in its working directory"
    assert svg.exists(), f"{SITE.rel(svg)} is not committed: run `make figures`"
    assert drawn.read_bytes() == svg.read_bytes(), (
        f"{SITE.rel(svg)} differs from what {SITE.rel(script)} draws now: run `make figures`"
    )


def test_every_figure_is_shown_and_drawn(pages):
    """No orphan pictures: each SVG under docs/figures/ is on a page and has code that draws it."""
    shown = {i.path for p in pages.values() for i in p.images}
    drawn_by_pages = {i.path for p in pages.values() for i in p.drawn}
    problems = []
    for svg in sorted((SITE.docs_dir / FIGURES).glob("*.svg")):
        if svg.resolve() not in shown:
            problems.append(f"{SITE.rel(svg)} is on no page")
        if not svg.with_suffix(".py").exists() and svg.resolve() not in drawn_by_pages:
            problems.append(f"{SITE.rel(svg)}: no code draws it")
    for page in pages.values():
        for image in page.images:
            if not image.figure:
                problems.append(f"{page.path}:{image.line}: {image.src}: pictures live in docs/{FIGURES}/ as SVG")
    assert not problems, "\n".join(problems)


def test_every_image_has_alt_text(pages):
    """Alt text says what the picture shows: a sentence, not a file name."""
    problems = []
    for page in pages.values():
        for image in page.images:
            words = image.alt.split()
            if len(words) < 5 or image.alt.lower().rstrip(".") in (
                image.path.stem.replace("-", " "),
                "figure",
                "image",
            ):
                problems.append(
                    f"{page.path}:{image.line}: {image.src}: alt text {image.alt!r} does not say what it shows"
                )
    assert not problems, "\n".join(problems)
