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
    r"|(?<!['\"=])\b(?:cpu|cuda(?::\d+)?|mps|xpu)\b(?!['\"])"  # a device as code prints it
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
