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

import subprocess
import sys
import tempfile
from pathlib import Path

from pipeline import FIGURES, PAGE_TIMEOUT_S, Site, child_env, reproduced


def draw_script(script: Path, out_dir: Path) -> subprocess.CompletedProcess:
    """Run a figure script with out_dir as its working directory (warnings are errors)."""
    env = child_env()
    return subprocess.run(
        [sys.executable, "-W", "error", str(script.resolve())],
        cwd=out_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=PAGE_TIMEOUT_S,
    )


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
        drawn: dict[str, bytes] = {}
        printed: list = []
        with tempfile.TemporaryDirectory() as tmp:
            ran = site.run(page, workdir=Path(tmp), drawn=drawn, printed=printed)
        if ran:
            problems += ran
            continue
        same_run = reproduced(page.runs, printed)
        for image in page.drawn:
            if image.measured and image.path.exists():
                # A timing chart belongs with the run the page shows: keep the committed one
                # (delete it to draw it anew, then paste that run's output into the page).
                print(f"kept {site.rel(image.path)} (measured; delete it to redraw)")
                continue
            if image.recorded and not same_run and image.path.exists():
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
    problems = redraw(Site())
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0
