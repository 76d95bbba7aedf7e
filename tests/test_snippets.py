"""Every snippet file: runs standalone, has its page, is shown in full, is ruff-clean."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from pipeline import Site
from pipeline.run import page_runs_script

SITE = Site()
SNIPPETS = SITE.snippet_files()
IDS = [SITE.rel(s) for s in SNIPPETS]
# The code that is not tutorial content: the pipeline, the tests, the figure scripts.
TOOLS = sorted(
    [
        *(SITE.root / "pipeline").glob("*.py"),
        *(SITE.root / "tests").glob("*.py"),
        *(SITE.docs_dir / "figures").glob("*.py"),
    ]
)


@pytest.mark.job("standalone", param="snippet")
@pytest.mark.parametrize("snippet", IDS)
def test_snippet_runs_standalone(snippet, job):
    """`python snippets/<topic>.py` works: fresh process, warnings as errors, temp dir.

    Where the page runs the whole file, in order, unchanged (run.page_runs_script), that
    run is this one: the same statements in one fresh process. Its result decides."""
    page = page_runs_script(SITE, SITE.root / snippet)
    if page is not None:
        if job.result("page", page):
            pytest.skip(
                f"its page {page} runs exactly this file and fails: reported by test_page_runs_as_shown[{page}]"
            )
        return
    proc = job.result("standalone", snippet)
    assert proc.returncode == 0, f"python {snippet} failed:\n{proc.stderr}"
    assert not proc.stderr.strip(), f"python {snippet} wrote to stderr:\n{proc.stderr}"


@pytest.mark.parametrize("snippet", SNIPPETS, ids=IDS)
def test_snippet_has_its_page(snippet):
    """Mirror names: snippets/<topic>.py (and snippets/<topic>/NAME.py, a file the page saves
    and runs) belong to docs/<topic>.md."""
    page = SITE.page_of_snippet(snippet)
    assert page.exists(), f"{SITE.rel(snippet)} has no page {SITE.rel(page)}"


@pytest.mark.parametrize("snippet", SNIPPETS, ids=IDS)
def test_every_snippet_line_is_shown(snippet, pages):
    """Coverage, FastAPI-style: each code line of a snippet appears on a page."""
    rel = SITE.rel(snippet)
    shown = {line for page in pages.values() for b in page.python for file, line in b.origins if file == rel}
    pre = SITE.preprocessor()
    missing = [
        f"{rel}:{n}: {line.strip()}"
        for n, line in enumerate(snippet.read_text(encoding="utf-8").split("\n"), start=1)
        if line.strip() and not pre.match_section(line) and n not in shown
    ]
    assert not missing, (
        "snippet lines that no page shows (the script would hold code no reader saw run):\n" + "\n".join(missing)
    )


# The project's own ruff (installed with the test extras), not the first one on PATH.
RUFF = os.path.join(os.path.dirname(sys.executable), "ruff")
RUFF = RUFF if os.path.exists(RUFF) else shutil.which("ruff")


@pytest.mark.parametrize(
    "path",
    [*SNIPPETS, *TOOLS],
    ids=[SITE.rel(p) for p in [*SNIPPETS, *TOOLS]],
)
def test_ruff_clean(path):
    """Code people copy is lint-clean and formatted (snippets/ruff.toml: 79 columns)."""
    for args in (["check"], ["format", "--check", "--diff"]):
        proc = subprocess.run([RUFF, *args, "--no-cache", str(path)], cwd=SITE.root, capture_output=True, text=True)
        assert proc.returncode == 0, f"ruff {' '.join(args)} {SITE.rel(path)}:\n{proc.stdout}{proc.stderr}"
