"""Executing a page's notebook: top to bottom in a fresh kernel, each cell compared with the page.

The notebook is the one readers download (pipeline/notebooks.py), run with nbclient after a
warnings-as-errors preamble. What each code cell printed is compared with the page by the
page runner's own comparison (run.compare), and a cell may show nothing else (no Out[]
value). The notebook pages (docs/notebooks/<topic>.ipynb, rendered by mkdocs-jupyter) must
be what executing their page's notebook gives now (`compare_rendered`).
"""

from __future__ import annotations

import dataclasses
import re
import tempfile
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell

from pipeline import PAGE_TIMEOUT_S, THREADS, Site, child_env
from pipeline.checks import RUN, Problem
from pipeline.notebooks import NOTEBOOKS, PROGRAMS, notebook
from pipeline.run import compare

# Run first, in the tests only (not in the notebook a reader downloads): warnings are errors,
# as in every other run of the tutorial's code; ipykernel's own shutdown warns
# PendingDeprecationWarning (in 7.x), which is not the page's code.
PREAMBLE = """import warnings
warnings.simplefilter('error')
warnings.filterwarnings('ignore', category=PendingDeprecationWarning, module='ipykernel')"""
KERNEL_WARNINGS = "error,ignore::PendingDeprecationWarning:ipykernel.kernelbase"


def execute(site: Site, path: Path, workdir: Path, threads: int = THREADS):
    """Execute a page's notebook top to bottom in a fresh kernel; compare with the page.

    -> (what is wrong, the executed notebook, what each code cell printed: [] if one failed)."""
    doc = site.read(path)
    nb, indexes = notebook(site, path, doc)
    where = {nb.cells[n].id: b.where for n, b in zip(indexes, doc.runs)}  # cell id -> its block's page line
    alts = {n: [o.data["text/plain"] for o in nb.cells[n].outputs if o.output_type == "display_data"] for n in indexes}
    hidden = _hidden_cells(nb, indexes, doc.runs, where)
    # A downloaded notebook runs where the reader runs it: Jupyter started from a virtual
    # environment that is not activated, whose PATH finds another `python` (one without
    # torch). Here the first python, python3 and torchrun on PATH fail loudly: a cell must
    # run scripts with the kernel's own interpreter (notebooks.notebook_shell).
    with tempfile.TemporaryDirectory(prefix="path-without-torch-") as no_torch:
        for program in PROGRAMS:
            shim = Path(no_torch) / program
            shim.write_text(
                f'#!/bin/sh\necho "{program} on PATH is not the kernel\'s interpreter (it has no torch)" >&2\nexit 1\n'
            )
            shim.chmod(0o755)
        failed = _kernel(nb, child_env(threads, path=no_torch, warnings=KERNEL_WARNINGS), workdir)
    nb.cells = [c for c in nb.cells if c.id not in hidden]
    for count, cell in enumerate((c for c in nb.cells if c.cell_type == "code"), start=1):
        cell.execution_count = count  # In [1], In [2]...: the hidden cells ran too, and took numbers
        for output in cell.get("outputs", []):
            if "execution_count" in output:
                output.execution_count = count
    if failed is not None:
        cell_id, error = failed
        what = hidden.get(cell_id) or f"the notebook's cell {cell_id.removeprefix('cell-')} failed in a fresh kernel"
        return [Problem(where.get(cell_id, doc.path), what, error)], nb, []
    problems, results = [], []
    for n, block in zip(indexes, doc.runs):
        cell = nb.cells[n]
        cell.outputs = _coalesce(cell.outputs)
        pictures = [o for o in cell.outputs if o.output_type == "display_data" and _is_image(o)]
        for output, alt in zip(pictures, alts[n]):
            output.setdefault("metadata", {})["alt"] = alt
        if len(pictures) != len(alts[n]):
            what = f"in the notebook the cell shows {len(pictures)} picture(s), the page shows {len(alts[n])} under it"
            problems.append(Problem(block.where, what))
        if values := [o.data.get("text/plain", "") for o in cell.outputs if o.output_type == "execute_result"]:
            what = f"in the notebook the cell shows a value (Out[]) the page does not show: {values[0][:200]!r}"
            problems.append(Problem(block.where, f"{what}; end the code with a statement, not an expression"))
        stdout, stderr = (_stream(cell, name) for name in ("stdout", "stderr"))
        results.append(
            {"stdout": stdout.removeprefix(f"Writing {block.file}\n" if block.file else ""), "stderr": stderr}
        )
    problems += compare(doc.runs, [r | {"error": None} for r in results], label="the notebook cell prints")
    return problems, nb, [_stream(nb.cells[n], "stdout") for n in indexes]


def _hidden_cells(nb, indexes: list[int], runs: list, where: dict) -> dict[str, str]:
    """Cells run in the tests only, not in the notebook a reader downloads: the preamble, and
    for each exercise the namespace its start block leaves, on which its check must fail
    before the solution runs (or it would pass any answer). -> {cell id: what its failure means}."""
    hidden = {"preamble": ""}
    cells = [(0, new_code_cell(PREAMBLE, id="preamble"))]
    for n, block in zip(indexes, runs):
        if block.exercise == "start":
            cells.append((n + 1, new_code_cell("__exercise_start = dict(globals())", id=f"exercise-start-{n}")))
            hidden[f"exercise-start-{n}"] = ""
        elif block.exercise == "check":
            code = f"try:\n    exec({block.code!r}, dict(__exercise_start))\nexcept Exception:\n    pass\nelse:\n"
            code += "    raise AssertionError('the check passes on the starting block')"
            cells.append((n, new_code_cell(code, id=f"exercise-check-{n}")))
            hidden[f"exercise-check-{n}"] = (
                "this exercise's check passes on its starting block: it would pass any answer"
            )
            where[f"exercise-check-{n}"] = block.where
    for at, cell in sorted(cells, key=lambda c: c[0], reverse=True):
        nb.cells.insert(at, cell)
    return hidden


def _kernel(nb: nbformat.NotebookNode, env: dict, workdir: Path) -> tuple[str, str] | None:
    """Run `nb` in a fresh kernel -> None, or (the id of the cell that failed, the error)."""
    import asyncio

    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from traitlets.config import Config

    # Over local sockets in the work folder, not TCP: nothing leaves the machine, and the kernel
    # does not warn that TCP carries code unencrypted.
    config = Config({"KernelManager": {"transport": "ipc", "ip": str(workdir / "kernel")}})
    resources = {"metadata": {"path": str(workdir)}}
    client = NotebookClient(nb, config=config, timeout=PAGE_TIMEOUT_S, record_timing=False, resources=resources)
    try:
        # asyncio.run closes its event loop (client.execute() leaves one open per thread).
        asyncio.run(client.async_execute(env=env, cwd=str(workdir)))
    except CellExecutionError as e:
        errors = (c.id for c in nb.cells if any(o.get("output_type") == "error" for o in c.get("outputs", [])))
        return next(errors, "?"), re.sub(r"\x1b\[[0-9;]*m", "", str(e))
    return None


def _stream(cell, name: str | None = None) -> str:
    """What a cell wrote to one stream (or to both)."""
    return "".join(o.text for o in cell.get("outputs", []) if o.output_type == "stream" and name in (None, o.name))


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


def compare_rendered(site: Site, page: Path, stored, executed) -> list[str]:
    """What makes a stored notebook page stale against executing its page's notebook now.

    Cell types and sources must be equal. A cell's text output is compared by its page block's
    check (pipeline.checks), the stored text standing where the page's would: exact output
    exactly, a recorded run by its assertions. Pictures must be equal, except those drawn
    from a recorded run or a measurement ({ .recorded }, { .measured }) where the recorded
    run did not reproduce verbatim: there, only their number."""
    name, nb_name = site.rel(page), site.rel(site.docs_dir / NOTEBOOKS / f"{page.stem}.ipynb")
    if len(stored.cells) != len(executed.cells):
        return [f"{nb_name} has {len(stored.cells)} cells, executing {name} gives {len(executed.cells)}"]
    doc = site.read(page)
    checks = {n: b.check for n, b in zip(notebook(site, page, doc)[1], doc.runs) if b.check is not None}
    runs = [n for n, c in checks.items() if c.mode == RUN]
    same_run = all(_stream(stored.cells[n]) == _stream(executed.cells[n]) for n in runs)
    loose = set() if same_run else {i.alt for i in doc.drawn if i.has(".recorded") or i.has(".measured")}
    problems, stale = [], "; run `make notebooks`"
    for n, (w, g) in enumerate(zip(stored.cells, executed.cells)):
        if (w.cell_type, w.source) != (g.cell_type, g.source):
            problems.append(f"{nb_name}: cell {n} ({w.cell_type}) differs from {name}'s now{stale}")
            continue
        if w.cell_type != "code":
            continue
        if n in checks:
            check = dataclasses.replace(checks[n], shown=_stream(w))
            found = check.compare(_stream(g), f"{nb_name} cell {n}", label="executing the page gives")
            problems += [f"{p}{stale}" for p in found]
        elif _stream(w) != _stream(g):
            problems.append(f"{nb_name}: cell {n}'s text differs from what executing {name} gives{stale}")
        if pictures(w, loose) != pictures(g, loose):
            problems.append(f"{nb_name}: cell {n}'s pictures differ from what executing {name} gives{stale}")
    return problems


def pictures(cell, loose: set[str]) -> list[tuple | None]:
    """A cell's pictures as compared: those whose alt text is in `loose` only by their number."""
    return [
        None if o.get("metadata", {}).get("alt") in loose else (o.output_type, sorted(map(str, o.data.items())))
        for o in cell.get("outputs", [])
        if o.output_type in ("display_data", "execute_result")
    ]
