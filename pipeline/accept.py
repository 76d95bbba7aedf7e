"""`make accept PAGE=<topic>`: run a page and write what its code printed into its exact outputs.

Snapshot testing's accept step (pytest-accept, expect-test's UPDATE_EXPECT=1, cram -i): the
page runs once (pipeline/run.py); each block checked exactly gets what it printed in its
output block; a block that prints with no output block under it gets one. Blocks checked
by numbers, claims or a recorded run are reported, never rewritten: their text is a real
run the writer chose. Then the page's notebook (notebooks/<topic>.ipynb) is written anew.
Prints the diff it applied; exit status 1 if something is left for the writer.
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

from pipeline import Site
from pipeline.checks import EXACT, norm
from pipeline.notebooks import committed, dumps, notebook
from pipeline.run import run


def accept(site: Site, path: Path) -> tuple[str, list[str]]:
    """Rewrite the page's exact output blocks with what its code prints -> (the diff, what
    was left for the writer)."""
    doc = site.read(path)
    ran = run(doc)
    raw = path.read_text(encoding="utf-8").split("\n")
    edits: list[tuple[int, int, list[str]]] = []  # raw line indexes [start, end) -> new lines
    left = [str(p) for p in doc.problems]
    for block, result in zip(doc.runs, ran.results):
        printed = result["stdout"]
        if result["error"]:
            left.append(f"{block.where}: the block fails; nothing under it is accepted\n{result['error']['traceback']}")
            break
        if result["stderr"].strip():
            left.append(f"{block.where}: the block writes to stderr, which no output block shows:\n{result['stderr']}")
        if block.file:
            continue
        shown, check = norm(printed), block.check
        if check is None and shown:
            after = doc.page_lines[block.span[1] - 1]  # the page line of the closing fence
            pad = _indent(raw[after - 1])  # inside an admonition, a block is indented
            marker = ["", "<!--pytest-codeblocks:expected-output-->", "", "```text", *shown, "```"]
            edits.append((after, after, [pad + line if line else line for line in marker]))
        elif check is not None and check.mode == EXACT and not check.verbatim(printed):
            fence, close = (doc.page_lines[i] for i in (block.output[0], block.output[1] - 1))
            edits.append((fence, close - 1, [_indent(raw[fence - 1]) + line for line in shown]))
        elif check is not None and check.mode != EXACT:
            found = check.compare(printed, block.where, block.source)
            left += [f"{p} (output:{check.mode} is not rewritten: its text is the run you chose)" for p in found]
    new = list(raw)
    for start, end, lines in sorted(edits, reverse=True):
        new[start:end] = lines
    if new != raw:
        path.write_text("\n".join(new), encoding="utf-8")
        left.append(f"wrote {site.rel(path)}")
    target, made = committed(site, path), dumps(notebook(site, path)[0])
    if not target.exists() or target.read_text(encoding="utf-8") != made:
        target.write_text(made, encoding="utf-8")
        left.append(f"wrote {site.rel(target)}")
    name = site.rel(path)
    diff = difflib.unified_diff(raw, new, f"{name} (before)", f"{name} (accepted)", lineterm="")
    return "\n".join(diff), left


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def main(argv: list[str]) -> int:
    site = Site()
    if len(argv) != 1 or not (path := site.docs_dir / f"{argv[0]}.md").exists():
        print("usage: make accept PAGE=<topic>, for docs/<topic>.md", file=sys.stderr)
        return 2
    diff, left = accept(site, path)
    print(diff or f"{site.rel(path)}: every exact output is already what the code prints")
    for line in left:
        print(line, file=sys.stderr)
    return 1 if any(not line.startswith("wrote ") for line in left) else 0
