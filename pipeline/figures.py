"""Figures: every picture on the site is drawn by code, and redrawn by the tests.

Two kinds, both SVG files under docs/figures/:

* docs/figures/NAME.py draws NAME.svg (the outline's diagrams). Run with its working
  directory as the output folder, it writes NAME.svg there.
* A page's own code draws it (a training curve): the page's snippet saves NAME.svg in the
  working directory, and the page shows ![alt](figures/NAME.svg). The tests run the page
  and compare what it wrote with the committed file.

`python -m pipeline figures` (`make figures`) redraws all of them into docs/figures/.
"""

from __future__ import annotations

import math
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from pipeline import FIGURES, PAGE_TIMEOUT_S, Site, checks, child_env
from pipeline.checks import Problem
from pipeline.document import Document
from pipeline.run import reproduced, run


def draw_script(script: Path, out_dir: Path) -> subprocess.CompletedProcess:
    """Run a figure script with out_dir as its working directory (warnings are errors)."""
    command, env = [sys.executable, "-W", "error", str(script.resolve())], child_env()
    return subprocess.run(command, cwd=out_dir, env=env, capture_output=True, text=True, timeout=PAGE_TIMEOUT_S)


def scripts(site: Site) -> list[Path]:
    return sorted((site.docs_dir / FIGURES).glob("*.py"))


def redraw(site: Site) -> list[str]:
    """Redraw every figure into docs/figures/; return what went wrong."""
    out = site.docs_dir / FIGURES
    out.mkdir(exist_ok=True)
    problems = []
    for script in scripts(site):
        proc = draw_script(script, out)
        if proc.returncode != 0 or proc.stderr.strip():
            problems.append(f"{site.rel(script)} failed:\n{proc.stderr}")
        else:
            print(f"drew {site.rel(script.with_suffix('.svg'))}")
    for path in site.pages():
        page = site.read(path)
        if not page.drawn:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            ran = run(page, workdir=Path(tmp))
        if ran.problems:
            problems += map(str, ran.problems)
            continue
        drawn, same_run = ran.drawn, reproduced(page.runs, ran.printed)
        for image in page.drawn:
            if image.has(".measured") and image.path.exists():
                # A timing chart belongs with the run the page shows: keep the committed one
                # (delete it to draw it anew, then paste that run's output into the page).
                print(f"kept {site.rel(image.path)} (measured; delete it to redraw)")
                continue
            if image.has(".recorded") and not same_run and image.path.exists():
                # This machine trains another run than the one the page shows: the picture
                # stays with the page's run (record a new run, text and picture, together).
                print(f"kept {site.rel(image.path)} (recorded run; this machine did not reproduce it)")
                continue
            if image.path.name not in drawn:
                problems.append(f"{page.path}:{image.line}: its code did not write {image.path.name}")
                continue
            image.path.write_bytes(drawn[image.path.name])
            print(f"drew {site.rel(image.path)} (from {page.path})")
    return problems


def main() -> int:
    for problem in (problems := redraw(Site())):
        print(problem, file=sys.stderr)
    return 1 if problems else 0


def check_drawn(page: Document, drawn: dict[str, bytes], reproduced: bool = True) -> list[Problem]:
    """The figures a page's code draws must be the committed ones it shows.

    A plot is compared with the committed SVG by structure and text exactly and every number
    within checks.SVG_ATOL (a last-bit difference passes, a changed curve fails); a
    ``{ .measured }`` one (timings) with its numbers masked. A ``{ .recorded }`` one is drawn
    from the page's recorded run: it is compared so only where that run reproduced verbatim
    (`reproduced`: this machine computes what the recording machine did); elsewhere it must
    be drawn, as a well-formed SVG, and is checked like the run's output, by its assertions."""
    problems = []
    for image in page.drawn:
        name, where = image.path.name, f"{page.path}:{image.line}"
        if name not in drawn:
            what = f"the page shows {image.src}, which no figure script draws (docs/{FIGURES}/{image.script.name})"
            problems.append(Problem(where, f"{what} and its code did not write {name}"))
            continue
        if not image.path.exists():
            problems.append(Problem(where, f"{image.src} is not committed; run `make figures`"))
            continue
        committed = image.path.read_bytes()
        if image.has(".measured"):
            why = checks.compare_svg(committed, drawn[name], math.inf)  # timings: its structure and text
        elif image.has(".recorded") and not reproduced:
            why = _not_svg(drawn[name])
        else:
            why = checks.compare_svg(committed, drawn[name], image.atol)
        if why:
            what = f"{image.src} differs from what the page's code draws now: {why}"
            problems.append(Problem(where, f"{what}; run `make figures` and look at the result"))
    return problems


def _not_svg(data: bytes) -> str | None:
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        return f"it is not well-formed SVG ({e})"
    return None if root.tag.endswith("svg") else f"its root element is <{root.tag}>, not <svg>"
