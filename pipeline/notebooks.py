"""Every page as a notebook, made from the page itself (keras-io style: one source, two forms).

The page is expanded as MkDocs expands it (snippets included), then cut into cells:

* prose becomes Markdown cells (MkDocs-only syntax turned into plain Markdown: admonitions
  become block quotes, links to other pages become links to the published site);
* each ```python block becomes a code cell; a ``<!--file:NAME.py-->`` block becomes a
  ``%%writefile NAME.py`` cell; a ```bash block whose output the page shows becomes a
  cell of IPython ``!`` commands that run ``python`` as the kernel's own interpreter
  (``notebook_shell``; other shell blocks, such as installs and servers, stay Markdown);
* the output the page shows under a block is attached to its cell, and a figure the
  page's code draws (docs/figures/NAME.svg, see pipeline/figures.py) is attached as the
  cell's picture.

The build writes each notebook into the site (pipeline/hooks.py); the repository keeps a
copy in notebooks/ for "Open in Colab" (`make notebooks`), and the tests check the copy
is current and execute every notebook in a fresh kernel (tests/test_notebooks.py).
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import sys
import tempfile
from pathlib import Path
from urllib.parse import urljoin

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from pipeline import (
    FENCE,
    FIGURES,
    IMAGE,
    OUTPUT_MARKER_START,
    PAGE_TIMEOUT_S,
    SHELL,
    THREADS,
    Page,
    PageError,
    Site,
    child_env,
)
from pipeline.checks import EXACT, RUN, Check, norm

NOTEBOOKS = "notebooks"  # repository folder of the committed copies (Colab opens them)
DOWNLOADS = "download"  # site folder of the notebooks and scripts a page links to
ADMONITION = re.compile(r'^(?P<kind>!!!|\?\?\?\+?)\s+(?P<type>\w+)(?:\s+"(?P<title>[^"]*)")?\s*$')
# Marker comments that stay out of the notebook's Markdown (the page's reader, Site.read,
# gives their meaning: a block's file name, its output check).
MARKER = re.compile(r"^\s*<!--\s*(pytest-codeblocks:expected-output|file:\s*[\w.-]+)\s*-->\s*$")
MD_LINK = re.compile(r"\]\((?P<target>(?![a-z][a-z0-9+.-]*:|#|/)[^)\s]+?\.md)(?P<anchor>#[^)\s]*)?\)")
ATTR_LIST = re.compile(r"\)\{[^}]*\}")


@dataclasses.dataclass
class Cell:
    """A code cell and what the page says it prints."""

    index: int  # position in the notebook
    kind: str  # python | file | shell
    code: str  # the block's code as the page shows it
    check: Check | None = None  # how its output is compared (pipeline.checks)
    where: str = ""  # page:line


def topic(site: Site, page: Path) -> str:
    return page.resolve().relative_to(site.docs_dir).with_suffix("").as_posix()


def has_code(page: Page) -> bool:
    return bool(page.python)


def site_url(site: Site) -> str:
    url = site.config.get("site_url") or ""
    return url if url.endswith("/") else url + "/"


def page_url(site: Site, md_path: Path) -> str:
    """The published URL of a page (use_directory_urls)."""
    rel = site.url_of(md_path)
    return urljoin(site_url(site), rel.removesuffix("index.html"))


def notebook(site: Site, path: Path) -> tuple[nbformat.NotebookNode, list[Cell]]:
    """The page as a notebook, and its code cells with what the page shows they print."""
    page = site.read(path)
    lines, _, page_lines = site.expand(path)
    name = site.rel(path)
    runs = list(page.runs)
    drawn = {image.path.name: image for image in page.drawn}

    cells: list = []
    checks: list[Cell] = []
    code_cells: list = []
    prose: list[str] = []
    last_code = None

    def flush():
        text = "\n".join(prose).strip("\n")
        prose.clear()
        if text.strip():
            cells.append(new_markdown_cell(text))

    i = 0
    while i < len(lines):
        line = lines[i]
        m = FENCE.match(line)
        if not m:
            if MARKER.match(line):
                i += 1
                continue
            if OUTPUT_MARKER_START.match(line):
                while "-->" not in lines[i]:
                    i += 1
                i += 1
                continue
            for image in IMAGE.finditer(line):
                if image["src"].startswith(f"{FIGURES}/") and Path(image["src"]).name in drawn and last_code:
                    svg = drawn[Path(image["src"]).name].path
                    last_code.outputs.append(
                        new_output(
                            "display_data",
                            data={"image/svg+xml": svg.read_text(encoding="utf-8"), "text/plain": image["alt"]},
                        )
                    )
                    line = line.replace(image.group(0), "")
            if line.strip() or not prose or prose[-1].strip():
                prose.append(line)
            i += 1
            continue
        # A fence: find its end.
        fence = m.group("fence")
        info = line[m.end() :].strip()
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            j += 1
        body = "\n".join(lines[i + 1 : j])
        shown_block = None
        runnable = info == "python" or (info in SHELL and _checked(lines, j + 1))
        if runnable and runs and runs[0].code.rstrip("\n") == body.rstrip("\n"):
            shown_block = runs.pop(0)  # else a block the tests reject anyway: left as Markdown
        if shown_block is not None:
            flush()
            if info == "python" and shown_block.file:
                code, kind = f"%%writefile {shown_block.file}\n{body}", "file"
            elif info == "python":
                code, kind = body, "python"
            else:
                code, kind = notebook_shell(body), "shell"
            cell = new_code_cell(code)
            cell.outputs = []
            if kind == "file":
                cell.outputs.append(new_output("stream", name="stdout", text=f"Writing {shown_block.file}\n"))
            if shown_block.check is not None:
                text = shown_block.check.shown.rstrip("\n") + "\n"
                cell.outputs.append(new_output("stream", name="stdout", text=text))
            cells.append(cell)
            code_cells.append(cell)
            last_code = cell
            checks.append(
                Cell(
                    index=len(cells) - 1,
                    kind=kind,
                    code=code,
                    check=(Check(EXACT, f"Writing {shown_block.file}\n") if kind == "file" else shown_block.check),
                    where=f"{name}:{page_lines[i]}",
                )
            )
        elif _is_output(lines, i):
            pass  # attached to its code cell above
        else:
            prose.extend(lines[i : j + 1])
        i = j + 1
    flush()

    for cell in cells:
        if cell.cell_type == "markdown":
            cell.source = _plain_markdown(site, path, cell.source)
    title = site.config.get("site_name", "")
    intro = new_markdown_cell(
        f"*From [{title}]({page_url(site, path)}): every code cell of this notebook ran in the"
        " tests, and the outputs attached are the ones the page shows.*"
    )
    cells.insert(1 if cells and cells[0].cell_type == "markdown" else 0, intro)
    for check, cell in zip(checks, code_cells):
        check.index = next(n for n, c in enumerate(cells) if c is cell)
    for n, cell in enumerate(cells):
        cell.id = f"cell-{n}"  # stable ids: the same page makes the same bytes
    nb = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
    )
    return nb, checks


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


def _checked(lines: list[str], start: int) -> bool:
    """Is the next fence after `start` an output block (the block's output is shown)?"""
    k = start
    while k < len(lines) and not FENCE.match(lines[k]):
        k += 1
    return k < len(lines) and _is_output(lines, k)


def _is_output(lines: list[str], fence_index: int) -> bool:
    """Is the fence at fence_index an output block (a marker comment right above it)?"""
    k = fence_index - 1
    while k >= 0 and not lines[k].strip():
        k -= 1
    return (
        k >= 0
        and lines[k].strip().endswith("-->")
        and ("expected-output" in lines[k] or _inside_machine_marker(lines, k))
    )


def _inside_machine_marker(lines: list[str], end: int) -> bool:
    k = end
    while k >= 0 and "<!--" not in lines[k]:
        k -= 1
    return k >= 0 and bool(OUTPUT_MARKER_START.match(lines[k]))


def _plain_markdown(site: Site, page: Path, text: str) -> str:
    """MkDocs Markdown -> Markdown that Jupyter and Colab render."""
    out: list[str] = []
    lines = text.split("\n")
    i = 0
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
            if has_code(site.read(path)):
                out.append(path)
        except PageError:
            out.append(path)
    return out


def committed(site: Site, path: Path) -> Path:
    return site.root / NOTEBOOKS / f"{topic(site, path)}.ipynb"


def main() -> int:
    """`make notebooks`: write notebooks/<topic>.ipynb for every page with code, and
    re-execute the notebook pages (docs/notebooks/<topic>.ipynb) with real outputs."""
    import tempfile

    site = Site()
    (site.root / NOTEBOOKS).mkdir(exist_ok=True)
    for path in pages_with_notebooks(site):
        nb, _ = notebook(site, path)
        target = committed(site, path)
        target.write_text(dumps(nb), encoding="utf-8")
        print(f"wrote {site.rel(target)}", file=sys.stderr)
    status = 0
    for target in rendered(site):
        with tempfile.TemporaryDirectory() as tmp:
            problems, nb, _ = execute(site, page_of_rendered(site, target), Path(tmp))
        if problems:
            print("\n".join(problems), file=sys.stderr)
            status = 1
            continue
        target.write_text(dumps(nb), encoding="utf-8")
        print(f"executed {site.rel(target)}", file=sys.stderr)
    return status


# -- executing a notebook ------------------------------------------------------------------
# Run first, in the tests only (not part of the notebook a reader downloads): warnings are
# errors, as in every other run of the tutorial's code.
# (ipykernel's own shutdown warns PendingDeprecationWarning in 7.x: not the page's code.)
PREAMBLE = (
    "import warnings\n"
    "warnings.simplefilter('error')\n"
    "warnings.filterwarnings('ignore', category=PendingDeprecationWarning, module='ipykernel')"
)


def execute(
    site: Site, path: Path, workdir: Path, threads: int = THREADS
) -> tuple[list[str], nbformat.NotebookNode, list[str]]:
    """Execute a page's notebook top to bottom in a fresh kernel; compare with the page.

    Returns what is wrong, the executed notebook (without the preamble), and what each code
    cell printed (empty where a cell failed).
    """
    nb, checks = notebook(site, path)
    name = site.rel(path)
    runs = site.read(path).runs
    if len(checks) != len(runs):
        missing = [b.where for b in runs if b.where not in {c.where for c in checks}]
        return [f"{name}: the notebook has {len(checks)} code cell(s), the page runs {len(runs)}: {missing}"], nb, []
    # The page's alt text for the pictures a cell draws, to give the executed outputs.
    alts = {
        c.id: [o.data.get("text/plain", "") for o in c.outputs if o.output_type == "display_data"]
        for c in nb.cells
        if c.cell_type == "code"
    }
    nb.cells.insert(0, new_code_cell(PREAMBLE, id="preamble"))
    # Warnings are errors in the kernel (PREAMBLE) and in every process it starts (a shell
    # cell's python, DataLoader workers, torchrun), as in the page runner.
    # A downloaded notebook runs where the reader runs it: Jupyter started from a virtual
    # environment that is not activated, whose PATH finds another `python` (one without
    # torch). Here the first python, python3 and torchrun on PATH fail loudly: a cell must
    # run scripts with the kernel's own interpreter (notebook_shell).
    no_torch = Path(tempfile.mkdtemp(prefix="path-without-torch-"))
    for program in PROGRAMS:
        shim = no_torch / program
        shim.write_text(
            f'#!/bin/sh\necho "{program} on PATH is not the kernel\'s interpreter (it has no torch)" >&2\nexit 1\n',
            encoding="utf-8",
        )
        shim.chmod(0o755)
    # ipykernel's own shutdown warns (PendingDeprecationWarning): not the page's code.
    warnings = "error,ignore::PendingDeprecationWarning:ipykernel.kernelbase"
    env = child_env(threads, path=str(no_torch), warnings=warnings)
    try:
        return _run(nb, checks, alts, env, workdir, name)
    finally:
        shutil.rmtree(no_torch, ignore_errors=True)


def _run(nb, checks, alts, env, workdir, name):
    """Execute `nb` (its first cell the preamble) with nbclient; compare with the page."""
    import asyncio

    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    client = NotebookClient(
        nb,
        timeout=PAGE_TIMEOUT_S,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(workdir)}},
    )
    problems: list[str] = []
    try:
        # asyncio.run closes its event loop (client.execute() leaves one open per thread).
        asyncio.run(client.async_execute(env=env, cwd=str(workdir)))
    except CellExecutionError as e:
        cell_index = next(
            (n for n, c in enumerate(nb.cells) if any(o.get("output_type") == "error" for o in c.get("outputs", []))),
            None,
        )
        where = next((c.where for c in checks if c.index + 1 == cell_index), name)
        problems.append(f"{where}: the notebook's cell {cell_index} failed in a fresh kernel:\n{_strip_ansi(str(e))}")
        nb.cells.pop(0)
        return problems, nb, []
    nb.cells.pop(0)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs = _coalesce(cell.outputs)
        pictures = [o for o in cell.outputs if o.output_type == "display_data" and _is_image(o)]
        for output, alt in zip(pictures, alts.get(cell.id, [])):
            output.setdefault("metadata", {})["alt"] = alt
        if len(pictures) != len(alts.get(cell.id, [])):
            problems.append(
                f"{next((c.where for c in checks if nb.cells[c.index] is cell), name)}: in the notebook the"
                f" cell shows {len(pictures)} picture(s), the page shows {len(alts.get(cell.id, []))} under it"
            )
    printed_all: list[str] = []  # what each code cell printed, in order
    for check in checks:
        cell = nb.cells[check.index]
        stdout = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")
        stderr = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stderr")
        results = [o.data.get("text/plain", "") for o in cell.outputs if o.output_type == "execute_result"]
        if stderr.strip():
            problems.append(f"{check.where}: in the notebook the cell writes to stderr:\n{stderr}")
        if results:
            problems.append(
                f"{check.where}: in the notebook the cell shows a value (Out[]) the page does not show:"
                f" {results[0][:200]!r}; end the code with a statement, not an expression"
            )
        printed_all.append(stdout)
        if check.check is not None:
            problems += [str(p) for p in check.check.compare(stdout, check.where, label="the notebook cell prints")]
        elif norm(stdout):
            problems.append(f"{check.where}: the notebook cell prints what the page does not show:\n{stdout}")
    return problems, nb, printed_all


def _is_image(output) -> bool:
    return any(k.startswith("image/") for k in output.get("data", {}))


def _coalesce(outputs: list) -> list:
    """One stream output per run of writes: how a kernel chunks a stream varies by run."""
    merged: list = []
    for o in outputs:
        if o.output_type == "stream" and merged and merged[-1].output_type == "stream" and merged[-1].name == o.name:
            merged[-1].text += o.text
        else:
            merged.append(o)
    return merged


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def rendered(site: Site) -> list[Path]:
    """Executed notebooks rendered as pages by mkdocs-jupyter: docs/notebooks/<topic>.ipynb."""
    return sorted((site.docs_dir / NOTEBOOKS).glob("*.ipynb"))


def page_of_rendered(site: Site, rendered_nb: Path) -> Path:
    return site.docs_dir / f"{rendered_nb.stem}.md"


def compare_rendered(
    site: Site, page: Path, stored: nbformat.NotebookNode, executed: nbformat.NotebookNode
) -> list[str]:
    """What makes a stored notebook page stale against executing its page's notebook now.

    Cell types and sources must be equal. A cell's text output is compared by its page block's
    check (pipeline.checks), the stored text standing where the page's would: exact output
    exactly, a recorded run by its assertions. Pictures must be equal, except those drawn
    from a recorded run or a measurement ({ .recorded }, { .measured }) where the recorded
    run did not reproduce verbatim: there, only their number."""
    name = site.rel(page)
    nb_name = site.rel(site.docs_dir / NOTEBOOKS / f"{page.stem}.ipynb")
    if len(stored.cells) != len(executed.cells):
        return [f"{nb_name} has {len(stored.cells)} cells, executing {name} gives {len(executed.cells)}"]
    _, cell_checks = notebook(site, page)
    by_index = {c.index: c for c in cell_checks}
    loose = {i.alt for i in site.read(page).drawn if i.recorded or i.measured}

    def stdout(cell) -> str:
        return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")

    same_run = all(
        stdout(stored.cells[i]) == stdout(executed.cells[i])
        for i, c in by_index.items()
        if c.check is not None and c.check.mode == RUN
    )
    problems = []
    stale = "; run `make notebooks`"
    for n, (w, g) in enumerate(zip(stored.cells, executed.cells)):
        if (w.cell_type, w.source) != (g.cell_type, g.source):
            problems.append(f"{nb_name}: cell {n} ({w.cell_type}) differs from {name}'s now{stale}")
            continue
        if w.cell_type != "code":
            continue
        check = by_index.get(n)
        if check is not None and check.check is not None:
            replaced = dataclasses.replace(check.check, shown=stdout(w))
            found = replaced.compare(stdout(g), f"{nb_name} cell {n}", label="executing the page gives")
            problems += [f"{p}{stale}" for p in found]
        elif stdout(w) != stdout(g):
            problems.append(f"{nb_name}: cell {n}'s text differs from what executing {name} gives{stale}")
        pictures = []
        for cell in (w, g):
            outs = [o for o in cell.get("outputs", []) if o.output_type in ("display_data", "execute_result")]
            pictures.append(
                [
                    None if (o.get("metadata", {}).get("alt") in loose and not same_run) else comparable_output(o)
                    for o in outs
                ]
            )
        if pictures[0] != pictures[1]:
            problems.append(f"{nb_name}: cell {n}'s pictures differ from what executing {name} gives{stale}")
    return problems


def comparable_output(o) -> tuple:
    return (o.output_type, tuple(sorted((k, str(v)) for k, v in o.get("data", {}).items())))


def check_rendered_html(html: str, stored: nbformat.NotebookNode, who: str) -> list[str]:
    """The guard for a notebook page: the HTML shows exactly the stored notebook's code and
    text outputs (which the tests executed and compared), and no Python in its prose."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    problems = []
    shown_code = [norm(pre.get_text()) for pre in soup.select(".jp-CodeCell .jp-InputArea pre")]
    code = [norm(c.source) for c in stored.cells if c.cell_type == "code"]
    if shown_code != code:
        problems.append(
            f"{who}: the page shows {len(shown_code)} code cell(s), the notebook the tests ran has {len(code)}"
        )
    shown_text = [norm(pre.get_text()) for pre in soup.select(".jp-OutputArea-output pre")]
    text = []
    for c in stored.cells:
        for o in c.get("outputs", []):
            if o.output_type == "stream":
                text.append(norm(o.text))
            elif o.output_type == "execute_result" and "text/plain" in o.data:
                text.append(norm(o.data["text/plain"]))
    if shown_text != text:
        problems.append(
            f"{who}: the page shows {len(shown_text)} text output(s), the executed notebook has {len(text)}"
        )
    for code_el in soup.select(".jp-MarkdownCell pre code"):
        classes = " ".join(code_el.get("class", []))
        if "language-" not in classes or "python" in classes:
            problems.append(
                f"{who}: a Markdown cell shows a code block the tests never ran: {code_el.get_text()[:80]!r}"
            )
    return problems
