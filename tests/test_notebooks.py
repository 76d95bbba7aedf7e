"""Every page as a notebook: current in the repository, and runs in a fresh kernel as the page says."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import Site
from pipeline.kernel import compare_rendered, page_of_rendered, rendered
from pipeline.notebooks import DOWNLOADS, committed, dumps, notebook, pages_with_notebooks, topic

SITE = Site()
PAGES = pages_with_notebooks(SITE)
IDS = [SITE.rel(p) for p in PAGES]
RENDERED = rendered(SITE)


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_committed_notebook_is_current(page, job):
    """notebooks/<topic>.ipynb (what "Open in Colab" opens) is what the page makes now."""
    target = committed(SITE, page)
    nb, _ = notebook(SITE, page)
    assert target.exists(), f"{SITE.rel(target)} is missing: run `make accept PAGE=...` or `make notebooks`"
    if target.read_text(encoding="utf-8") != dumps(nb):
        name = SITE.rel(page)
        if job.has("page", name) and job.result("page", name):  # the page is wrong: one report, there
            pytest.skip(f"{SITE.rel(target)} is stale, and {name} fails: see test_page_runs_as_shown[{name}]")
        pytest.fail(
            f"{SITE.rel(target)} is stale: {name} changed since it was made; run `make notebooks`", pytrace=False
        )


@pytest.mark.job("notebook")
@pytest.mark.parametrize("page", IDS)
def test_notebook_runs_in_a_fresh_kernel(page, job):
    """The notebook a reader downloads runs top to bottom (nbclient, fresh kernel, warnings as
    errors) and each cell prints what the page shows."""
    problems = job.result("notebook", page).problems
    if problems and job.has("page", page) and job.result("page", page):
        pytest.skip(f"the page's own run fails too: reported once, by test_page_runs_as_shown[{page}]")
    if problems:
        pytest.fail("\n\n".join(map(str, problems)), pytrace=False)


@pytest.mark.job("notebook")
@pytest.mark.parametrize("page", [SITE.rel(page_of_rendered(SITE, p)) for p in RENDERED], ids=map(SITE.rel, RENDERED))
def test_rendered_notebook_is_not_stale(page, job):
    """A notebook page (docs/notebooks/<topic>.ipynb, outputs stored) is exactly what executing
    its page's notebook gives now: same cells, same text, same pictures."""
    ran = job.result("notebook", page)
    if ran.problems:
        pytest.skip(f"{page}'s notebook fails: reported by test_notebook_runs_in_a_fresh_kernel[{page}]")
    import nbformat

    stored_at = SITE.docs_dir / "notebooks" / f"{Path(page).stem}.ipynb"
    stored = nbformat.read(stored_at, as_version=4)
    stale = compare_rendered(SITE, SITE.root / page, stored, ran.notebook)
    assert not stale, "\n".join(stale)


def test_every_page_with_code_has_a_notebook():
    assert "docs/tensors.md" in IDS and len(IDS) >= 10


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_built_site_offers_notebook_and_script(page, built_site):
    """From the built site: each page with code links its notebook, its script and Colab, and
    the linked files are the ones the tests check (notebook as made, script = snippet file)."""
    from bs4 import BeautifulSoup

    proc, site_dir = built_site
    assert proc.returncode == 0, "the build failed; see test_strict_build_passes"
    name, html = topic(SITE, page), site_dir / SITE.url_of(page)
    links = {
        a.get_text(strip=True): a["href"]
        for a in BeautifulSoup(html.read_text(), "html.parser").select(".page-downloads a")
    }
    nb_href, py_href, colab = (links.get(k) for k in ("Download notebook", "Download script", "Open in Colab"))
    assert nb_href and py_href and colab, f"{SITE.rel(page)}: links under the title are {links}"
    got_nb, got_py = ((html.parent / href).resolve() for href in (nb_href, py_href))
    assert got_nb == (site_dir / DOWNLOADS / f"{name}.ipynb").resolve() and got_nb.exists(), (
        f"{SITE.rel(page)}: notebook link {nb_href} does not lead to the built notebook"
    )
    assert got_nb.read_text(encoding="utf-8") == dumps(notebook(SITE, page)[0]), "the built notebook is not the page's"
    snippet = SITE.root / "snippets" / f"{name}.py"
    assert got_py.exists() and got_py.read_bytes() == snippet.read_bytes(), (
        f"script link {py_href} is not {snippet.name}"
    )
    repo = SITE.config["repo_url"].removeprefix("https://github.com/").rstrip("/")
    want = f"https://colab.research.google.com/github/{repo}/blob/main/{SITE.rel(committed(SITE, page))}"
    assert colab == want, f"{SITE.rel(page)}: Colab link {colab} is not {want}"
