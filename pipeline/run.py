"""Running a page: its blocks in one fresh process (runner.py), compared with the page.

Every Python block runs, in page order, in one fresh Python process per page, with warnings
as errors, in a temp directory. A ``<!--file:NAME.py-->`` block is written to NAME.py
instead, for a later shell block to run (``python NAME.py``); a shell block runs only when
the page shows its output. What each block printed is compared by its check
(pipeline/checks.py); a failure names the page line, the snippet file and line.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from pipeline import PAGE_TIMEOUT_S, SHELL, THREADS, PageError, Site, checks, child_env
from pipeline.checks import Problem, norm
from pipeline.document import Block, Document

RUNNER = Path(__file__).with_name("runner.py")


@dataclasses.dataclass
class Run:
    """What a page's run found, each block's result (runner.run_block) and what it drew."""

    problems: list[Problem]
    results: list[dict] = dataclasses.field(default_factory=list)
    drawn: dict[str, bytes] = dataclasses.field(default_factory=dict)  # the SVG files it wrote

    @property
    def printed(self) -> list[str | None]:
        """What each block printed, None where it failed."""
        return [r["stdout"] if not r["error"] else None for r in self.results]


def run(doc: Document, workdir: Path | None = None, threads: int = THREADS) -> Run:
    """Run a page's blocks in one fresh process (`threads` torch threads, see THREADS)."""
    blocks = doc.runs
    if not blocks:
        return Run([])
    kinds = {b.where: "file" if b.file else "python" if b.syntax == "python" else "shell" for b in blocks}
    spec = [
        {"code": b.code, "kind": kinds[b.where], "file": b.file, "origins": b.origins, "page": b.page}
        | {"page_lines": b.page_lines, "exercise": b.exercise}
        for b in blocks
    ]
    with tempfile.TemporaryDirectory(prefix="page-run-") as tmp:
        tmp = Path(tmp)
        (tmp / "spec.json").write_text(json.dumps({"blocks": spec}), encoding="utf-8")
        work = workdir or tmp / "work"
        work.mkdir(exist_ok=True)
        # Shell blocks find this interpreter (and its torchrun, tensorboard...) first.
        env = child_env(threads, path=str(Path(sys.executable).parent))
        command = [sys.executable, "-u", "-W", "error", str(RUNNER), str(tmp / "spec.json"), str(tmp / "result.json")]
        proc = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=PAGE_TIMEOUT_S)
        if proc.returncode != 0 or not (tmp / "result.json").exists():
            crash = Problem(doc.path, f"the page runner crashed (exit {proc.returncode})", proc.stdout + proc.stderr)
            return Run([crash])
        results = json.loads((tmp / "result.json").read_text(encoding="utf-8"))
        drawn = {f.name: f.read_bytes() for f in work.glob("*.svg")}
    return Run(compare(blocks, results), results, drawn)


def compare(blocks: list[Block], results: list[dict], label: str = "code prints") -> list[Problem]:
    """Compare what each block printed with what its page shows (pipeline.checks); `label`
    names the printer in a diff."""
    problems = []
    for block, result in zip(blocks, results):
        if err := result["error"]:
            loc = err["where"]
            at = f"{loc['file']}:{loc['line']}" if loc else block.source
            what = (
                f"the command failed with exit status {err['status']}"
                if err["status"] is not None
                else f"the block raised {err['type']} at {at} (block starts at {block.source})"
            )
            return problems + [Problem(block.where, what, err["traceback"], at)]
        if result["stderr"].strip():
            what = f"the block wrote to stderr, which the page does not show ({block.source})"
            problems.append(Problem(block.where, what, result["stderr"]))
        if "check_on_start" in result and result["check_on_start"] is None:
            what = "this exercise's check passes on its starting block: it would pass any answer"
            problems.append(Problem(block.where, what, source=block.source))
        if block.check is not None:
            problems += block.check.compare(result["stdout"], block.where, block.source, label, result.get("origins"))
        elif printed := norm(result["stdout"]):
            what = f"the block prints {len(printed)} line(s) that the page does not show ({block.source})"
            problems.append(Problem(block.where, what, "\n".join(printed[:10])))
    if len(results) < len(blocks):
        problems.append(Problem(blocks[len(results)].where, "never ran (the runner stopped early)"))
    return problems


def reproduced(blocks: list[Block], printed: list[str | None]) -> bool:
    """Did every recorded run among `blocks` print exactly what the page shows?"""
    return len(printed) >= len(blocks) and all(
        out is not None and b.check.verbatim(out)
        for b, out in zip(blocks, printed)
        if b.check is not None and b.check.mode == checks.RUN
    )


def standalone(snippet: Path) -> subprocess.CompletedProcess:
    """`python snippets/<topic>.py`: a fresh process, warnings as errors, a temp dir."""
    with tempfile.TemporaryDirectory(prefix="standalone-") as work:
        command = [sys.executable, "-W", "error", str(snippet)]
        env = child_env()
        return subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=PAGE_TIMEOUT_S)


def page_runs_script(site: Site, snippet: Path) -> str | None:
    """The page whose run already is `python <snippet>`, if there is one -> its path.

    Either the page's Python blocks are, in page order, the snippet file's lines, all of
    them, in file order, unchanged (blocks that save other files and shell blocks aside);
    or the page writes all of them, so, into a file (<!--file:NAME.py-->) and a later shell
    block that shows its output runs `python NAME.py`. Its run executes the same statements
    in one fresh process, warnings as errors: running the file standalone checks nothing more."""
    page_path = site.page_of_snippet(snippet)
    try:
        runs = site.read(page_path).runs if page_path.exists() else []
    except PageError:
        return None
    rel, pre = site.rel(snippet), site.preprocessor()
    text = snippet.read_text(encoding="utf-8").split("\n")
    in_file = [(rel, n, line) for n, line in enumerate(text, start=1) if line.strip() and not pre.match_section(line)]

    def lines(blocks: list[Block]) -> list[tuple[str, int, str]]:
        return [(f, n, s) for b in blocks for (f, n), s in zip(b.origins, b.code.split("\n")) if s.strip()]

    python = [b for b in runs if b.syntax == "python" and not b.file]
    others = [b for b in runs if b not in python]
    if python and lines(python) == in_file and all(b.syntax in SHELL or rel not in dict(b.origins) for b in others):
        return site.rel(page_path)
    for i, b in enumerate(runs):
        if b.file and lines([b]) == in_file:
            command = re.compile(rf"(^|[\s;&|])python3?(\s+-\S+)*\s+{re.escape(b.file)}(\s|$)", re.M)
            if any(s.syntax in SHELL and s.checked and command.search(s.code) for s in runs[i + 1 :]):
                return site.rel(page_path)
    return None
