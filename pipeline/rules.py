"""What a page may not hold: each rule reads the Document and returns problems (values).

Every Python block comes from snippets/ and runs; every output block is checked; no fence
is one that no test runs (an alias, attributes, an untagged block); a file a page saves is
run by a later shell block. The page runner adds these to what its run finds.
"""

from __future__ import annotations

import re

from pipeline import PYTHON_LIKE, SHELL
from pipeline.checks import EXACT, Problem
from pipeline.document import Document

# What an exact output may not show: the machine it ran on (a device name as code prints it,
# a path of this machine). It would pass here and fail on a GPU or in another folder.
MACHINE = re.compile(
    r"\bdevice=['\"]?(?:cpu|cuda|mps|xpu)"  # a tensor's repr: device='cuda:0'
    r"|(?<!['\"=.])\b(?:cpu|cuda(?::\d+)?|mps|xpu)\b(?!['\"]|\.\w)"  # a device as printed (not torch.cuda.amp)
    r"|(?:/home/|/Users/|/tmp/|/work/|/root/)\S*"  # a path of this machine
)


def problems(doc: Document) -> list[Problem]:
    found = [Problem(f"{doc.path}:{line}", why) for line, why in doc.orphans]
    for d in doc.directives:
        if d.name == "pytest-codeblocks" and d.arg != "expected-output":
            found.append(
                Problem(
                    f"{doc.path}:{doc.page_lines[d.start]}",
                    f"<!--pytest-codeblocks:{d.arg}--> is not used here: every Python block runs; show its output"
                    " with <!--pytest-codeblocks:expected-output--> or an <!--output:...--> mode",
                )
            )
    found += _exercises(doc)
    blocks = doc.blocks
    for i, b in enumerate(blocks):
        found += _fence(doc, b)
        if b.check is not None and b.check.mode == EXACT and (m := MACHINE.search(b.check.shown)):
            what = f"this exact output shows {m[0]!r}, which names the machine that ran it: it would fail on another"
            found.append(Problem(f"{doc.path}:{b.check.line}", f"{what}; check it with <!--output:claims-->"))
        if b.file is None:
            continue
        if b.checked:
            found.append(
                Problem(
                    b.where,
                    f"a <!--file:{b.file}--> block prints nothing itself; show the output"
                    " under the shell block that runs it",
                )
            )
        if not any(later.syntax in SHELL and later.checked and b.file in later.code for later in blocks[i + 1 :]):
            found.append(
                Problem(
                    b.where,
                    f"<!--file:{b.file}--> is never run: add a ```bash block that runs it"
                    f" (python {b.file}) with its output under it",
                )
            )
    return found


def _fence(doc: Document, b) -> list[Problem]:
    """A Python block typed into the page, a Python fence that is never run, an unchecked text block."""
    syntax = b.syntax.strip()
    lang = re.split(r"[\s{]", syntax.lstrip("{. "), maxsplit=1)[0].lower()
    if syntax == "python":
        lines = b.code.split("\n")
        hand = [pl for (f, _), pl, c in zip(b.origins, b.page_lines, lines) if f == doc.path and c.strip()]
        if hand:
            return [
                Problem(
                    f"{doc.path}:{hand[0]}",
                    "Python typed into the page; include it from snippets/ with"
                    ' --8<-- "snippets/<topic>.py:<section>" so the tests run what readers copy',
                )
            ]
    elif lang in PYTHON_LIKE:
        return [
            Problem(
                b.where,
                f"a ```{syntax} block is never run (only a bare ```python fence is): drop the attributes or the alias",
            )
        ]
    elif lang in ("", "text", "txt", "output"):
        what = "```" + syntax if syntax else "fence with no language"
        return [
            Problem(
                b.where,
                f"a {what} block that no test checks: put <!--pytest-codeblocks:expected-output-->"
                " or an <!--output:...--> marker before an output, or give code its language",
            )
        ]
    return []


FOLDED = re.compile(r"^\s*\?\?\? ")  # a collapsed admonition: closed until the reader opens it


def _exercises(doc: Document) -> list[Problem]:
    """An exercise is a start block (<!--exercise:start-->, `...` where the reader writes), its
    solution in a collapsed admonition (??? success "Solution"), then the check the reader runs
    (<!--exercise:check-->), which prints what the page shows for a right answer."""
    found, python = [], doc.python
    for i, b in enumerate(python):
        if b.exercise not in (None, "start", "check"):
            found.append(Problem(b.where, f"<!--exercise:{b.exercise}-->: an exercise block is start or check"))
        if b.exercise == "check" and not any(p.exercise == "start" for p in python[:i]):
            found.append(Problem(b.where, "an exercise's check with no <!--exercise:start--> block before it"))
        if b.exercise != "start":
            continue
        rest = python[i + 1 :]
        end = next((k for k, c in enumerate(rest) if c.exercise in ("start", "check")), len(rest))
        if "..." not in b.code:
            found.append(Problem(b.where, "an exercise's start block leaves `...` where the reader writes"))
        if end == len(rest) or rest[end].exercise != "check":
            found.append(Problem(b.where, "an exercise's start block needs a <!--exercise:check--> block after it"))
        elif rest[end].check is None:
            found.append(Problem(rest[end].where, "an exercise's check prints what a right answer gets: show it"))
        if not rest[:end] or not all(_folded(doc, s) for s in rest[:end]):
            what = 'an exercise\'s solution goes between its start and its check, folded: ??? success "Solution"'
            found.append(Problem(b.where, what))
    return found


def _folded(doc: Document, block) -> bool:
    """Is the block inside a collapsed admonition (indented under a ??? line)?"""
    indent = len(doc.lines[block.span[0]]) - len(doc.lines[block.span[0]].lstrip())
    for line in reversed(doc.lines[: block.span[0]]):
        if line.strip() and len(line) - len(line.lstrip()) < indent:
            return FOLDED.match(line) is not None
    return False
