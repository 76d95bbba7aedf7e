"""Every page as a notebook, written from the page's Document (keras-io style: one source, two forms).

The Document (pipeline/document.py) is cut into cells:

* prose becomes Markdown cells (MkDocs-only syntax turned into plain Markdown: admonitions
  become block quotes, links to other pages become links to the published site);
* each block the tests run becomes a code cell: a ```python block as it is, a
  ``<!--file:NAME.py-->`` block as a ``%%writefile NAME.py`` cell, a shell block whose output
  the page shows as IPython ``!`` commands that run ``python`` as the kernel's own
  interpreter (``notebook_shell``); other blocks (installs, servers) stay Markdown;
* the output the page shows under a block is attached to its cell, and a figure the
  page's code draws (docs/figures/NAME.svg, see pipeline/figures.py) as its picture.

The build writes each notebook into the site (pipeline/hooks/downloads.py); the repository
keeps a copy in notebooks/ for "Open in Colab" (`make notebooks`). pipeline/kernel.py
executes them.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from urllib.parse import urljoin

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from pipeline import FIGURES, PageError, Site
from pipeline.document import IMAGE, Block, Document, Prose

NOTEBOOKS = "notebooks"  # repository folder of the committed copies (Colab opens them)
DOWNLOADS = "download"  # site folder of the notebooks and scripts a page links to
ADMONITION = re.compile(r'^(?P<kind>!!!|\?\?\?\+?)\s+(?P<type>\w+)(?:\s+"(?P<title>[^"]*)")?\s*$')
MD_LINK = re.compile(r"\]\((?P<target>(?![a-z][a-z0-9+.-]*:|#|/)[^)\s]+?\.md)(?P<anchor>#[^)\s]*)?\)")
ATTR_LIST = re.compile(r"\)\{[^}]*\}")


def topic(site: Site, page: Path) -> str:
    return page.resolve().relative_to(site.docs_dir).with_suffix("").as_posix()


def site_url(site: Site) -> str:
    url = site.config.get("site_url") or ""
    return url if url.endswith("/") else url + "/"


def page_url(site: Site, md_path: Path) -> str:
    """The published URL of a page (use_directory_urls)."""
    return urljoin(site_url(site), site.url_of(md_path).removesuffix("index.html"))


def notebook(site: Site, path: Path, doc: Document | None = None) -> tuple[nbformat.NotebookNode, list[int]]:
    """The page as a notebook, and the index of the code cell of each block the page runs."""
    doc = doc or site.read(path)
    drawn = {image.path.name: image for image in doc.drawn}
    cells: list = []
    code: list = []  # the code cells, one per block the page runs
    prose: list[str] = []

    def flush():
        text = "\n".join(prose).strip("\n")
        prose.clear()
        if text.strip():
            cells.append(new_markdown_cell(_plain_markdown(site, path, text)))

    for part in doc.parts:
        if isinstance(part, Prose):
            for line in part.lines:
                line = _pictures(line, drawn, code[-1] if code else None)
                if line.strip() or not prose or prose[-1].strip():  # one blank line at most
                    prose.append(line)
        elif part.runs:
            flush()
            code.append(_code_cell(part))
            cells.append(code[-1])
        else:  # a block the tests do not run (an install command): Markdown, as shown
            prose.extend(doc.lines[slice(*part.span)])
    flush()
    title = site.config.get("site_name", "")
    intro = new_markdown_cell(
        f"*From [{title}]({page_url(site, path)}): every code cell of this notebook ran in the"
        " tests, and the outputs attached are the ones the page shows.*"
    )
    cells.insert(1 if cells and cells[0].cell_type == "markdown" else 0, intro)
    for n, cell in enumerate(cells):
        cell.id = f"cell-{n}"  # stable ids: the same page makes the same bytes
    kernel = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb = new_notebook(cells=cells, metadata={"kernelspec": kernel, "language_info": {"name": "python"}})
    return nb, [cells.index(cell) for cell in code]


def _code_cell(block: Block) -> nbformat.NotebookNode:
    """A block the tests run as a code cell, the output the page shows under it attached."""
    body = block.code.removesuffix("\n")  # the lines between the fences, as the page shows them
    if block.syntax != "python":
        body = notebook_shell(body)
    elif block.file:
        body = f"%%writefile {block.file}\n{body}"
    cell = new_code_cell(body)
    cell.outputs = [new_output("stream", name="stdout", text=f"Writing {block.file}\n")] if block.file else []
    if block.check is not None:
        cell.outputs.append(new_output("stream", name="stdout", text=block.check.shown.rstrip("\n") + "\n"))
    return cell


def _pictures(line: str, drawn: dict, cell) -> str:
    """A figure the page's code draws becomes the picture output of the code cell above it."""
    for image in IMAGE.finditer(line):
        if image["src"].startswith(f"{FIGURES}/") and Path(image["src"]).name in drawn and cell is not None:
            svg = drawn[Path(image["src"]).name].path.read_text(encoding="utf-8")
            data = {"image/svg+xml": svg, "text/plain": image["alt"]}
            cell.outputs.append(new_output("display_data", data=data))
            line = line.replace(image.group(0), "")
    return line


# A command's leading VAR=value words, then the program and the rest.
COMMAND = re.compile(r"^(?P<env>(?:\w+=\S*\s+)*)(?P<program>\S+)(?P<rest>.*)$")
PROGRAMS = {
    "python": "{sys.executable}",
    "python3": "{sys.executable}",
    "torchrun": "{sys.executable} -m torch.distributed.run",
}


def notebook_shell(body: str) -> str:
    """A shell block as notebook code: one IPython ``!`` line per command, with ``python``
    (and ``torchrun``) as the kernel's own interpreter, ``{sys.executable}``. A ``%%bash``
    cell would run the first ``python`` on PATH, which is not the kernel's when Jupyter
    starts from a virtual environment that is not activated (or in VS Code with a chosen
    interpreter): there the script fails with ModuleNotFoundError: torch."""
    commands = re.sub(r"\s*\\\n\s*", " ", body).strip().split("\n")
    out = ["import sys", ""]
    for command in commands:
        m = COMMAND.match(command.strip())
        if m and m["program"] in PROGRAMS:
            command = f"{m['env']}{PROGRAMS[m['program']]}{m['rest']}"
        out.append(f"!{command.strip()}")
    return "\n".join(out)


def _plain_markdown(site: Site, page: Path, text: str) -> str:
    """MkDocs Markdown -> Markdown that Jupyter and Colab render."""
    out: list[str] = []
    lines = text.split("\n")
    # Indented lines first: the rest of an admonition that a code cell cut in two (an
    # exercise's folded solution and the words after its code).
    i = next((k for k, line in enumerate(lines) if line.strip() and not line.startswith("    ")), len(lines))
    out += [f"> {line[4:]}".rstrip() for line in lines[:i]] + ([""] if i else [])
    while i < len(lines):
        m = ADMONITION.match(lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        title = m["title"] if m["title"] is not None else m["type"].capitalize()
        body = []
        i += 1
        while i < len(lines) and (not lines[i].strip() or lines[i].startswith("    ")):
            body.append(lines[i][4:])
            i += 1
        while body and not body[-1].strip():
            body.pop()
        while body and not body[0].strip():
            body.pop(0)
        out.append(f"> **{title}**" if title else ">")
        out.append(">")
        out.extend(f"> {b}".rstrip() for b in body)
        out.append("")
    text = "\n".join(out)

    def link(m):
        target = (page.parent / m["target"]).resolve()
        return f"]({page_url(site, target)}{m['anchor'] or ''})"

    text = MD_LINK.sub(link, text)

    # Pictures that are not a cell's output (diagrams) load from the published site.
    def picture(m):
        target = (page.parent / m["src"]).resolve().relative_to(site.docs_dir).as_posix()
        return f"]({urljoin(site_url(site), target)})"

    text = re.sub(rf"\]\((?P<src>(?:\.\./)*{FIGURES}/[^)\s]+)\)", picture, text)
    text = ATTR_LIST.sub(")", text)
    return text.strip("\n")


def dumps(nb: nbformat.NotebookNode) -> str:
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def pages_with_notebooks(site: Site) -> list[Path]:
    """Pages with code; and pages that cannot be read (a missing snippet section), so that
    their own tests fail with the reason, and the rest of the suite still runs."""
    out = []
    for path in site.pages():
        try:
            if site.read(path).python:
                out.append(path)
        except PageError:
            out.append(path)
    return out


def committed(site: Site, path: Path) -> Path:
    return site.root / NOTEBOOKS / f"{topic(site, path)}.ipynb"


def main() -> int:
    """`make notebooks`: write notebooks/<topic>.ipynb for every page with code, and
    re-execute the notebook pages (docs/notebooks/<topic>.ipynb) with real outputs. A page
    that cannot be made is named and left as it was; the exit status is 1 only for a page
    the working tree changed (git status), so another page's fault never stops a writer."""
    import tempfile

    from pipeline.kernel import execute, page_of_rendered, rendered

    site, failed = Site(), []
    (site.root / NOTEBOOKS).mkdir(exist_ok=True)
    for path in pages_with_notebooks(site):
        try:
            committed(site, path).write_text(dumps(notebook(site, path)[0]), encoding="utf-8")
            print(f"wrote {site.rel(committed(site, path))}", file=sys.stderr)
        except PageError as e:
            failed.append((path, [e]))
    for target in rendered(site):
        with tempfile.TemporaryDirectory() as tmp:
            problems, nb, _ = execute(site, page_of_rendered(site, target), Path(tmp))
        if problems:
            failed.append((page_of_rendered(site, target), problems))
            continue
        target.write_text(dumps(nb), encoding="utf-8")
        print(f"executed {site.rel(target)}", file=sys.stderr)
    changed = touched(site)
    for path, problems in failed:
        print(f"could not make the notebook of {site.rel(path)}; left as it was:", *problems, sep="\n", file=sys.stderr)
    return 1 if any(changed is None or topic(site, path) in changed for path, _ in failed) else 0


def touched(site: Site) -> set[str] | None:
    """The topics whose page or snippets the working tree changed (None: git cannot tell)."""
    import subprocess

    git = ["git", "status", "--porcelain", "--untracked-files=all", "--", "docs", "snippets"]
    proc = subprocess.run(git, cwd=site.root, capture_output=True, text=True)
    if proc.returncode != 0:
        return None
    paths = [Path(line[3:].split(" -> ")[-1]) for line in proc.stdout.splitlines()]
    return {(p.parent.name if p.parent.name not in ("docs", "snippets") else p.stem) for p in paths}
