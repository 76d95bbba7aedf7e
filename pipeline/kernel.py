"""Executing a page's notebook: top to bottom in a fresh kernel, each cell compared with the page.

The notebook is the one readers download (pipeline/notebooks.py), run with nbclient and a
warnings-as-errors preamble; each code cell's output is compared by its block's check
(pipeline/checks.py), and it may write nothing else (no stderr, no Out[] value). The
notebook pages (docs/notebooks/<topic>.ipynb, rendered by mkdocs-jupyter) must be what
executing their page's notebook gives now (`compare_rendered`).
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import tempfile
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell

from pipeline import PAGE_TIMEOUT_S, THREADS, Site, child_env
from pipeline.checks import RUN, Problem, norm
from pipeline.notebooks import NOTEBOOKS, PROGRAMS, notebook

# -- executing a notebook ------------------------------------------------------------------
# Run first, in the tests only (not part of the notebook a reader downloads): warnings are
# errors, as in every other run of the tutorial's code.
# (ipykernel's own shutdown warns PendingDeprecationWarning in 7.x: not the page's code.)
PREAMBLE = (
    "import warnings\n"
    "warnings.simplefilter('error')\n"
    "warnings.filterwarnings('ignore', category=PendingDeprecationWarning, module='ipykernel')"
)


def execute(site: Site, path: Path, workdir: Path, threads: int = THREADS):
    """Execute a page's notebook top to bottom in a fresh kernel; compare with the page.

    -> (what is wrong, the executed notebook without the preamble, what each code cell
    printed: empty where a cell failed)."""
    nb, cells = notebook(site, path)
    name, runs = site.rel(path), site.read(path).runs
    if len(cells) != len(runs):
        missing = [b.where for b in runs if b.where not in {c.where for c in cells}]
        return (
            [Problem(name, f"the notebook has {len(cells)} code cell(s), the page runs {len(runs)}: {missing}")],
            nb,
            [],
        )
    # The page's alt text for the pictures a cell draws, to give the executed outputs.
    alts = {
        c.id: [o.data.get("text/plain", "") for o in c.outputs if o.output_type == "display_data"]
        for c in nb.cells
        if c.cell_type == "code"
    }
    nb.cells.insert(0, new_code_cell(PREAMBLE, id="preamble"))
    # A downloaded notebook runs where the reader runs it: Jupyter started from a virtual
    # environment that is not activated, whose PATH finds another `python` (one without
    # torch). Here the first python, python3 and torchrun on PATH fail loudly: a cell must
    # run scripts with the kernel's own interpreter (notebook_shell).
    no_torch = Path(tempfile.mkdtemp(prefix="path-without-torch-"))
    for program in PROGRAMS:
        shim = no_torch / program
        shim.write_text(
            f'#!/bin/sh\necho "{program} on PATH is not the kernel\'s interpreter (it has no torch)" >&2\nexit 1\n'
        )
        shim.chmod(0o755)
    # Warnings are errors in the kernel (PREAMBLE) and in every process it starts (a shell
    # cell's python, DataLoader workers, torchrun), as in the page runner; ipykernel's own
    # shutdown warns (PendingDeprecationWarning): not the page's code.
    warnings = "error,ignore::PendingDeprecationWarning:ipykernel.kernelbase"
    env = child_env(threads, path=str(no_torch), warnings=warnings)
    try:
        failed = _kernel(nb, env, workdir)
    finally:
        shutil.rmtree(no_torch, ignore_errors=True)
    nb.cells.pop(0)
    if failed is not None:
        index, error = failed
        where = next((c.where for c in cells if c.index == index), name)
        return [Problem(where, f"the notebook's cell {index + 1} failed in a fresh kernel", error)], nb, []
    problems = _pictures(nb, cells, alts, name)
    printed = []  # what each code cell printed, in order
    for cell in cells:
        out, more = _outputs(nb.cells[cell.index], cell)
        printed.append(out)
        problems += more
    return problems, nb, printed


def _kernel(nb: nbformat.NotebookNode, env: dict, workdir: Path) -> tuple[int, str] | None:
    """Run `nb` in a fresh kernel -> None, or (the index of the cell that failed, less the
    preamble, and the error)."""
    import asyncio

    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    resources = {"metadata": {"path": str(workdir)}}
    client = NotebookClient(nb, timeout=PAGE_TIMEOUT_S, kernel_name="python3", record_timing=False, resources=resources)
    try:
        # asyncio.run closes its event loop (client.execute() leaves one open per thread).
        asyncio.run(client.async_execute(env=env, cwd=str(workdir)))
    except CellExecutionError as e:
        errors = (
            n for n, c in enumerate(nb.cells) if any(o.get("output_type") == "error" for o in c.get("outputs", []))
        )
        return next(errors, 0) - 1, re.sub(r"\x1b\[[0-9;]*m", "", str(e))
    return None


def _pictures(nb: nbformat.NotebookNode, cells: list, alts: dict, name: str) -> list[Problem]:
    """Each code cell draws the pictures the page shows under its block; they get its alt text."""
    problems = []
    for cell in (c for c in nb.cells if c.cell_type == "code"):
        cell.outputs = _coalesce(cell.outputs)
        pictures = [o for o in cell.outputs if o.output_type == "display_data" and _is_image(o)]
        for output, alt in zip(pictures, alts.get(cell.id, [])):
            output.setdefault("metadata", {})["alt"] = alt
        if len(pictures) != len(alts.get(cell.id, [])):
            where = next((c.where for c in cells if nb.cells[c.index] is cell), name)
            shown = len(alts.get(cell.id, []))
            problems.append(
                Problem(
                    where, f"in the notebook the cell shows {len(pictures)} picture(s), the page shows {shown} under it"
                )
            )
    return problems


def _outputs(cell: nbformat.NotebookNode, check) -> tuple[str, list[Problem]]:
    """What a code cell printed, and what is wrong with its outputs against the page."""
    streams = {
        name: "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == name)
        for name in ("stdout", "stderr")
    }
    results = [o.data.get("text/plain", "") for o in cell.outputs if o.output_type == "execute_result"]
    problems = []
    if streams["stderr"].strip():
        problems.append(Problem(check.where, "in the notebook the cell writes to stderr", streams["stderr"]))
    if results:
        what = f"in the notebook the cell shows a value (Out[]) the page does not show: {results[0][:200]!r}"
        problems.append(Problem(check.where, f"{what}; end the code with a statement, not an expression"))
    if check.check is not None:
        problems += check.check.compare(streams["stdout"], check.where, label="the notebook cell prints")
    elif norm(streams["stdout"]):
        problems.append(Problem(check.where, "the notebook cell prints what the page does not show", streams["stdout"]))
    return streams["stdout"], problems


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
    loose = {i.alt for i in site.read(page).drawn if i.has(".recorded") or i.has(".measured")}

    def stdout(cell) -> str:
        return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")

    same_run = all(
        stdout(stored.cells[i]) == stdout(executed.cells[i])
        for i, c in by_index.items()
        if c.check is not None and c.check.mode == RUN
    )
    free = set() if same_run else loose  # pictures compared by their number only
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
        if pictures(w, free) != pictures(g, free):
            problems.append(f"{nb_name}: cell {n}'s pictures differ from what executing {name} gives{stale}")
    return problems


def pictures(cell, loose: set[str]) -> list[tuple | None]:
    """A cell's pictures as compared: those whose alt text is in `loose` only by their number."""
    return [
        None if o.get("metadata", {}).get("alt") in loose else (o.output_type, sorted(map(str, o.data.items())))
        for o in cell.get("outputs", [])
        if o.output_type in ("display_data", "execute_result")
    ]
