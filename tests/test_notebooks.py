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
def test_committed_notebook_is_current(page):
    """notebooks/<topic>.ipynb (what "Open in Colab" opens) is what the page makes now."""
    target = committed(SITE, page)
    nb, _ = notebook(SITE, page)
    assert target.exists(), f"{SITE.rel(target)} is missing: run `make notebooks`"
    assert target.read_text(encoding="utf-8") == dumps(nb), (
        f"{SITE.rel(target)} is stale: {SITE.rel(page)} changed since it was made; run `make notebooks`"
    )


@pytest.mark.job("notebook")
@pytest.mark.parametrize("page", IDS)
def test_notebook_runs_in_a_fresh_kernel(page, job):
    """The notebook a reader downloads runs top to bottom (nbclient, fresh kernel, warnings as
    errors) and each cell prints what the page shows."""
    problems = job.result("notebook", page).problems
    if problems:
        pytest.fail("\n\n".join(map(str, problems)), pytrace=False)


@pytest.mark.job("notebook")
@pytest.mark.parametrize("page", [SITE.rel(page_of_rendered(SITE, p)) for p in RENDERED], ids=map(SITE.rel, RENDERED))
def test_rendered_notebook_is_not_stale(page, job):
    """A notebook page (docs/notebooks/<topic>.ipynb, outputs stored) is exactly what executing
    its page's notebook gives now: same cells, same text, same pictures."""
    ran = job.result("notebook", page)
    assert not ran.problems, f"{page}'s notebook fails; see test_notebook_runs_in_a_fresh_kernel"
    import nbformat

    stored_at = SITE.docs_dir / "notebooks" / f"{Path(page).stem}.ipynb"
    stored = nbformat.read(stored_at, as_version=4)
    stale = compare_rendered(SITE, SITE.root / page, stored, ran.notebook)
    assert not stale, "\n".join(stale)


def test_every_page_with_code_has_a_notebook():
    assert "docs/tensors.md" in IDS and len(IDS) >= 10


def test_built_site_offers_notebook_and_script(built_site, pages):
    """From the built site: each page with code links its notebook, its script and Colab, and
    the linked files are the ones the tests check (notebook as made, script = snippet file)."""
    from bs4 import BeautifulSoup

    proc, site_dir = built_site
    assert proc.returncode == 0
    problems = []
    for path in PAGES:
        name = topic(SITE, path)
        html = (site_dir / SITE.url_of(path)).read_text(encoding="utf-8")
        links = {
            a.get_text(strip=True): a["href"] for a in BeautifulSoup(html, "html.parser").select(".page-downloads a")
        }
        nb_href, py_href, colab = (
            links.get("Download notebook"),
            links.get("Download script"),
            links.get("Open in Colab"),
        )
        if not (nb_href and py_href and colab):
            problems.append(f"{SITE.rel(path)}: links under the title are {links}")
            continue
        base = (site_dir / SITE.url_of(path)).parent
        got_nb = (base / nb_href).resolve()
        got_py = (base / py_href).resolve()
        if got_nb != (site_dir / DOWNLOADS / f"{name}.ipynb").resolve() or not got_nb.exists():
            problems.append(f"{SITE.rel(path)}: notebook link {nb_href} does not lead to the built notebook")
        elif got_nb.read_text(encoding="utf-8") != dumps(notebook(SITE, path)[0]):
            problems.append(f"{SITE.rel(path)}: the built notebook is not the page's notebook")
        snippet = SITE.root / "snippets" / f"{name}.py"
        if not got_py.exists() or got_py.read_bytes() != snippet.read_bytes():
            problems.append(f"{SITE.rel(path)}: script link {py_href} is not snippets/{name}.py")
        repo = SITE.config["repo_url"].removeprefix("https://github.com/").rstrip("/")
        want = f"https://colab.research.google.com/github/{repo}/blob/main/{SITE.rel(committed(SITE, path))}"
        if colab != want:
            problems.append(f"{SITE.rel(path)}: Colab link {colab} is not {want}")
    assert not problems, "\n".join(problems)
