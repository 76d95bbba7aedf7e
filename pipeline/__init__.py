"""The verified-snippet pipeline: every page's code is run as published and its outputs checked.

Where each step lives (a newcomer's map):

* ``document.py``: a page is expanded (pymdownx.snippets, as MkDocs does) and read once into
  a Document: prose, code blocks with their output checks and ``<!--file:-->`` names, images.
* ``rules.py``: what a Document may not hold (hand-typed Python, a fence no test runs...).
* ``checks.py``: how an output block is compared (exact, numbers, claims, recorded run).
* ``quotes.py``: numbers the prose quotes from a run, held to the outputs the page shows.
* ``run.py`` + ``runner.py``: a page's blocks run in one fresh process, compared by checks.
* ``notebooks.py`` writes a page's notebook; ``kernel.py`` executes it in a fresh kernel.
* ``figures.py``: pictures drawn by code and compared with the committed SVGs.
* ``site_checks.py``: the strict build and the guards on the built HTML.
* ``hooks/``: the MkDocs hooks (downloads and notebooks, HTML trimming, CSS pruning).

Every process that runs the tutorial's code gets its environment from ``child_env``.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

import markdown
from mkdocs.config import load_config

ROOT = Path(__file__).resolve().parent.parent
FIGURES = "figures"  # docs/figures/: every picture on the site, drawn by code
# Languages a reader would take for Python. Only a bare ```python fence is executed.
PYTHON_LIKE = {"python", "py", "python3", "py3", "pycon", "ipython", "ipython3", "python-repl"}
SHELL = {"bash", "sh", "console", "shell", "shell-session"}
PAGE_TIMEOUT_S = 300
# Every run of a page's code uses one torch CPU thread. Float sums come out in the last
# bits differently with 1 and 2 threads, which moves a plotted curve: the committed figures
# are drawn with this one setting, by `make figures` and by the tests alike. (Pages also run
# side by side: two pages with two OpenMP threads each on two cores ran up to 7x slower.)
THREADS = 1
# Makes matplotlib's SVGs byte-for-byte reproducible (fixed ids, fixed date).
FIGURE_ENV = {"MATPLOTLIBRC": str(Path(__file__).with_name("matplotlibrc")), "SOURCE_DATE_EPOCH": "0"}


def child_env(threads: int = THREADS, path: str | None = None, warnings: str = "error") -> dict[str, str]:
    """The environment of every process that runs the tutorial's code (page runner, standalone
    script, figure script, notebook kernel): warnings are errors (`warnings`, for the
    processes it starts too), no bytecode files, `threads` torch threads, reproducible
    figures (FIGURE_ENV, and no MPLBACKEND from the caller); `path` first on PATH."""
    env = dict(os.environ, PYTHONWARNINGS=warnings, PYTHONDONTWRITEBYTECODE="1", **FIGURE_ENV)
    env["OMP_NUM_THREADS"] = str(threads)
    env.pop("MPLBACKEND", None)
    if path:
        env["PATH"] = os.pathsep.join([path, env.get("PATH", "")])
    return env


class PageError(Exception):
    """A page that cannot be expanded or read; the message names the page."""


class Site:
    """The tutorial as MkDocs sees it: mkdocs.yml, docs/, snippets/."""

    def __init__(self, root: Path = ROOT):
        self.root = Path(root).resolve()
        self._documents: dict[Path, object] = {}

    _configs: dict = {}  # (mkdocs.yml, its text) -> its config: every Site of one process shares it

    @cached_property
    def config(self):
        key = (self.root / "mkdocs.yml", (self.root / "mkdocs.yml").read_text(encoding="utf-8"))
        if key not in Site._configs:
            Site._configs[key] = load_config(config_file=str(key[0]))
        return Site._configs[key]

    @cached_property
    def docs_dir(self) -> Path:
        return Path(self.config["docs_dir"]).resolve()

    @cached_property
    def snippet_options(self) -> dict:
        options = dict(self.config["mdx_configs"].get("pymdownx.snippets", {}))
        base = options.get("base_path", ["."])
        base = [base] if isinstance(base, (str, os.PathLike)) else base
        # MkDocs resolves base_path against the working directory, which is the repository
        # root when the site is built as the README says. Do the same here, from anywhere.
        options["base_path"] = [str(self.root / b) for b in base]
        return options

    def preprocessor(self):
        md = markdown.Markdown(
            extensions=["pymdownx.snippets"],
            extension_configs={"pymdownx.snippets": self.snippet_options},
        )
        return md.preprocessors["snippet"]

    def rel(self, path: Path | str) -> str:
        path = Path(path).resolve()
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def read(self, page: Path):
        """The page's Document (pipeline.document), read again only when the page or a
        snippet file has changed since."""
        from pipeline.document import read

        path = Path(page).resolve()
        stamp = path.read_bytes(), [(f, f.read_bytes()) for f in self.snippet_files()]
        if self._documents.get(path, (None,))[0] != stamp:
            self._documents[path] = stamp, read(self, path)
        return self._documents[path][1]

    def pages(self) -> list[Path]:
        return sorted(self.docs_dir.rglob("*.md"))

    def snippet_files(self) -> list[Path]:
        return sorted((self.root / "snippets").rglob("*.py"))

    def page_of_snippet(self, snippet: Path) -> Path:
        """Mirror names: snippets/<topic>.py is docs/<topic>.md's code; a file that page saves
        and runs as a script of its own (<!--file:NAME.py-->) is snippets/<topic>/NAME.py."""
        rel = snippet.resolve().relative_to(self.root / "snippets")
        return self.docs_dir / (rel.parent if rel.parent.name else rel).with_suffix(".md")

    def url_of(self, page: Path) -> str:
        """The built HTML file of a page (use_directory_urls, MkDocs' default)."""
        rel = page.resolve().relative_to(self.docs_dir).with_suffix("")
        if rel.name in ("index", "README"):
            return (rel.parent / "index.html").as_posix()
        return (rel / "index.html").as_posix()
