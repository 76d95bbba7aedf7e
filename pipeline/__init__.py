"""The verified-snippet pipeline: find pages, expand them as MkDocs does, run their code.

A page is expanded with pymdownx.snippets' own preprocessor, configured from mkdocs.yml,
so the tests see exactly the Markdown that MkDocs renders. Its code blocks are extracted
with pytest-codeblocks' parser. Every Python block runs, in page order, in one fresh
Python process per page (pipeline/runner.py), with warnings as errors, in a temp directory.

Every code line keeps its origin (snippet file and line, and the page line of the include),
so a failure names the page, the snippet file and the line.

Every output block on a page is checked, by the mode its marker sets (pipeline/checks.py):
exact (``<!--pytest-codeblocks:expected-output-->``, the default), numbers, claims or a
recorded run (``<!--output:numbers|claims|run ...-->``). One comparator serves the page
runner, the notebook run and the figure checks.

Code that must run as a file of its own (several processes, DataLoader workers on a
platform that spawns them) is shown as a Python block with ``<!--file:NAME.py-->`` before
it: the runner writes it to NAME.py in the working directory instead of running it in the
namespace, and a later ```bash block that shows its output (``python NAME.py``) runs it.
A shell block runs only when the page shows its output; then it is checked like any other.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import re
import subprocess
import sys
import tempfile
from functools import cached_property
from pathlib import Path

import markdown
from mkdocs.config import load_config
from pymdownx.snippets import SnippetMissingError
from pytest_codeblocks import extract_from_buffer

from pipeline import checks
from pipeline.checks import EXACT, Check, norm

ROOT = Path(__file__).resolve().parent.parent
RUNNER = Path(__file__).with_name("runner.py")
FIGURES = "figures"  # docs/figures/: every picture on the site, drawn by code
# Makes matplotlib's SVGs byte-for-byte reproducible (fixed ids, fixed date), so a
# committed figure can be compared with what its code draws now.
MATPLOTLIBRC = Path(__file__).with_name("matplotlibrc")
FIGURE_ENV = {"MATPLOTLIBRC": str(MATPLOTLIBRC), "SOURCE_DATE_EPOCH": "0"}
IMAGE = re.compile(
    r"!\[(?P<alt>(?:[^\[\]]|\[[^\[\]]*\])*)\]\((?P<src>[^)\s]+)(?:\s+\"[^\"]*\")?\)(?:\{(?P<attrs>[^}]*)\})?"
)

EXPECTED_OUTPUT = "expected-output"
FILE_MARKER = re.compile(r"<!--\s*file:\s*(?P<name>[\w.-]+)\s*-->")
OUTPUT_MARKER_START = re.compile(r"^\s*<!--\s*output:")
CODEBLOCKS_MARKER = re.compile(r"<!--[-\s]*pytest-codeblocks:(?P<keyword>.*?)[-\s]*-->")
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})")
# Languages a reader would take for Python. Only a bare ```python fence is executed.
PYTHON_LIKE = {"python", "py", "python3", "py3", "pycon", "ipython", "ipython3", "python-repl"}
SHELL = {"bash", "sh", "console", "shell", "shell-session"}
PAGE_TIMEOUT_S = 300
# Every run of a page's code uses one torch CPU thread. Float sums come out in the last
# bits differently with 1 and 2 threads, which moves a plotted curve: the committed figures
# are drawn with this one setting, by `make figures` and by the tests alike. (Pages also run
# side by side: two pages with two OpenMP threads each on two cores ran up to 7x slower.)
THREADS = 1


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


@dataclasses.dataclass
class Block:
    """One fenced code block of an expanded page."""

    page: str  # e.g. "docs/tensors.md"
    line: int  # page line of the opening fence
    syntax: str
    code: str
    origins: list[tuple[str, int]]  # per code line: (file, line), a snippet or the page
    page_lines: list[int]  # per code line: the page line that produced it
    check: Check | None = None  # how the output block under it is compared (pipeline.checks)
    file: str | None = None  # <!--file:NAME-->: written to NAME, run by a later shell block

    @property
    def checked(self) -> bool:
        return self.check is not None

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def source(self) -> str:
        """The snippet file and line this block starts at (or the page, if hand-typed)."""
        if not self.origins:
            return self.where
        file, line = self.origins[0]
        return f"{file}:{line}"


@dataclasses.dataclass
class Image:
    """An image on a page: ![alt](src){ attrs }."""

    page: str
    line: int
    alt: str
    src: str
    attrs: str
    base: Path  # the page's folder: src is relative to it
    docs_dir: Path

    @property
    def path(self) -> Path:
        return (self.base / self.src).resolve()

    @property
    def figure(self) -> bool:
        """A picture under docs/figures/ (all of the site's pictures live there)."""
        return self.path.parent == (self.docs_dir / FIGURES).resolve() and self.path.suffix == ".svg"

    @property
    def script(self) -> Path:
        return self.path.with_suffix(".py")

    @property
    def atol(self) -> float:
        """How far a coordinate may move, in SVG units: checks.SVG_ATOL, or the page's own
        { data-atol="N" } for a plot whose data sits where float rounding jitters."""
        m = re.search(r"""(?:^|\s)data-atol=(["']?)(?P<n>\d+(?:\.\d+)?)\1(?:\s|$)""", self.attrs)
        return float(m["n"]) if m else checks.SVG_ATOL

    @property
    def recorded(self) -> bool:
        """{ .recorded }: drawn from the page's recorded run (an <!--output:run--> block)."""
        return ".recorded" in self.attrs.split()

    @property
    def measured(self) -> bool:
        """{ .measured }: drawn from machine-dependent numbers (timings); compared with
        its numbers masked, as an output claim is compared by its pattern."""
        return ".measured" in self.attrs.split()


@dataclasses.dataclass
class Page:
    """A page's code blocks after snippet expansion, and what is wrong with them."""

    path: str
    blocks: list[Block]
    problems: list[str]
    images: list[Image] = dataclasses.field(default_factory=list)

    @property
    def drawn(self) -> list[Image]:
        """Images the page's own code draws: figures/NAME.svg with no docs/figures/NAME.py."""
        return [i for i in self.images if i.figure and not i.script.exists()]

    @property
    def python(self) -> list[Block]:
        return [b for b in self.blocks if b.syntax == "python"]

    @property
    def runs(self) -> list[Block]:
        """What the runner runs, in page order: every Python block, and every shell block
        whose output the page shows (other shell blocks, such as installs, are not run)."""
        return [b for b in self.blocks if b.syntax == "python" or (b.syntax in SHELL and b.checked)]


class Site:
    """The tutorial as MkDocs sees it: mkdocs.yml, docs/, snippets/."""

    def __init__(self, root: Path = ROOT):
        self.root = Path(root).resolve()

    # -- configuration --------------------------------------------------------------
    @cached_property
    def config(self):
        return load_config(config_file=str(self.root / "mkdocs.yml"))

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

    # -- discovery ------------------------------------------------------------------
    def pages(self) -> list[Path]:
        return sorted(self.docs_dir.rglob("*.md"))

    def snippet_files(self) -> list[Path]:
        return sorted((self.root / "snippets").rglob("*.py"))

    def page_of_snippet(self, snippet: Path) -> Path:
        """Mirror names: snippets/<topic>.py is docs/<topic>.md's code; a file that page saves
        and runs as a script of its own (<!--file:NAME.py-->) is snippets/<topic>/NAME.py."""
        rel = snippet.resolve().relative_to(self.root / "snippets")
        return self.docs_dir / (rel.parent if rel.parent.name else rel).with_suffix(".md")

    def page_runs_script(self, snippet: Path) -> str | None:
        """The page whose run already is `python <snippet>`, if there is one: a page that runs
        Python blocks which, in page order, are the snippet file's lines, all of them, in
        file order, unchanged (not dedented), besides blocks that save other files and shell
        blocks; or a page that writes all of them, so, into a
        file (<!--file:NAME.py-->) and then runs `python NAME.py` in a shell block whose
        output it shows. Its run executes the same statements in the same order in one
        fresh process, warnings as errors: running the file standalone too would check
        nothing more. -> the page's path relative to the root, or None."""
        page_path = self.page_of_snippet(snippet)
        if not page_path.exists():
            return None
        try:
            page = self.read(page_path)
        except PageError:
            return None
        runs = page.runs
        if not runs:
            return None
        pre = self.preprocessor()
        rel = self.rel(snippet)
        in_file = [
            (rel, n, line)
            for n, line in enumerate(snippet.read_text(encoding="utf-8").split("\n"), start=1)
            if line.strip() and not pre.match_section(line)
        ]

        def lines(blocks: list[Block]) -> list[tuple[str, int, str]]:
            return [
                (file, n, line)
                for b in blocks
                for (file, n), line in zip(b.origins, b.code.split("\n"))
                if line.strip()
            ]

        # The page's own Python blocks are the file; blocks that save another file and the
        # shell blocks that run it leave the page's namespace as it was.
        python = [b for b in runs if b.syntax == "python" and not b.file]
        others = [b for b in runs if b.syntax in SHELL or b.file]
        saves_others = all(b.syntax in SHELL or all(f != rel for f, _ in b.origins) for b in others)
        if python and len(python) + len(others) == len(runs) and lines(python) == in_file and saves_others:
            return page.path
        # Or: the page writes the whole file (<!--file:NAME.py-->) and a later shell block
        # runs it as a script, `python NAME.py`, showing what it prints.
        for i, b in enumerate(runs):
            if b.file and lines([b]) == in_file:
                command = re.compile(rf"(^|[\s;&|])python3?(\s+-\S+)*\s+{re.escape(b.file)}(\s|$)", re.M)
                if any(s.syntax in SHELL and s.checked and command.search(s.code) for s in runs[i + 1 :]):
                    return page.path
        return None

    def url_of(self, page: Path) -> str:
        """The built HTML file of a page (use_directory_urls, MkDocs' default)."""
        rel = page.resolve().relative_to(self.docs_dir).with_suffix("")
        if rel.name in ("index", "README"):
            return (rel.parent / "index.html").as_posix()
        return (rel / "index.html").as_posix()

    # -- expansion ------------------------------------------------------------------
    def expand(self, page: Path) -> tuple[list[str], list[tuple[str, int]], list[int]]:
        """Expand a page as MkDocs does; also return each line's origin and page line."""
        name = self.rel(page)
        raw = page.read_text(encoding="utf-8").split("\n")
        pre = self.preprocessor()
        try:
            expanded = pre.run(list(raw))
        except SnippetMissingError as e:
            raise PageError(f"{name}: {e}") from None

        lines: list[str] = []
        origins: list[tuple[str, int]] = []
        page_lines: list[int] = []
        for n, line in enumerate(raw, start=1):
            m = pre.RE_ALL_SNIPPETS.match(line)
            if m and not m.group("escape") and not m.group("inline_marker"):
                raise PageError(
                    f'{name}:{n}: use one include per line, --8<-- "snippets/<topic>.py:<section>", not a --8<-- block'
                )
            if not (m and m.group("inline_marker") and not m.group("escape")):
                lines.append(line)
                origins.append((name, n))
                page_lines.append(n)
                continue
            got = pre.run([line])
            lines.extend(got)
            origins.extend(self._locate(pre, m.group("snippet")[1:-1].strip(), got, name, n))
            page_lines.extend([n] * len(got))
        if lines != expanded:  # pragma: no cover - a guard on our own bookkeeping
            raise PageError(f"{name}: could not trace the expanded page back to its sources")
        return lines, origins, page_lines

    def _locate(self, pre, spec, got, page, n):
        """Find each included line in its snippet file (markers are skipped over)."""
        target = pre.parse_snippet_target(spec)
        file = pre.get_snippet_path(target["path"])
        text = Path(file).read_text(encoding="utf-8").split("\n")
        start = 0
        if target["section"]:
            for i, line in enumerate(text):
                m = pre.match_section(line)
                if m and m.group("name") == target["section"] and m.group("type") == "start":
                    start = i + 1
                    break
        elif target["start"] and target["start"][0]:
            start = max(0, target["start"][0])
        rel = self.rel(file)
        out, j = [], start
        for line in got:
            k = j
            while k < len(text) and text[k].strip() != line.strip():
                k += 1
            if k == len(text):  # not found: fall back to the include line on the page
                out.append((page, n))
            else:
                out.append((rel, k + 1))
                j = k + 1
        return out

    # -- reading a page -------------------------------------------------------------
    def read(self, page: Path) -> Page:
        """Expand a page and sort its blocks into code, checked output and the rest."""
        name = self.rel(page)
        lines, origins, page_lines = self.expand(page)
        problems: list[str] = []

        for i, line in enumerate(lines):
            m = CODEBLOCKS_MARKER.fullmatch(line.strip())
            if m and m.group("keyword") != EXPECTED_OUTPUT:
                problems.append(
                    f"{name}:{page_lines[i]}: <!--pytest-codeblocks:{m.group('keyword')}--> is not"
                    " used here: every Python block runs; show its output with"
                    " <!--pytest-codeblocks:expected-output--> or an <!--output:...--> mode"
                )
        try:
            extracted = extract_from_buffer(io.StringIO("\n".join(lines) + "\n"))
        except RuntimeError as e:
            raise PageError(f"{name}: {e}") from None

        blocks: list[Block] = []
        markers_used: set[int] = set()
        for cb in extracted:
            first = cb.lineno  # 0-based index of the first code line in `lines`
            n = cb.code.count("\n")
            block = Block(
                page=name,
                line=page_lines[cb.lineno - 1],
                syntax=cb.syntax or "",
                code=cb.code,
                origins=origins[first : first + n],
                page_lines=page_lines[first : first + n],
            )
            if cb.expected_output is not None:
                block.check = Check(EXACT, cb.expected_output, self._next_fence(lines, page_lines, first + n + 1))
            if cb.syntax == "python":
                block.file = self._file_marker(lines, cb.lineno - 1)
            marker = None if cb.syntax == "python" else self._output_marker(lines, cb.lineno - 1)
            if marker is not None:
                # An output fence for the Python or shell block before it.
                comment, at = marker
                markers_used.add(at)
                owner = next((b for b in reversed(blocks) if b.syntax == "python" or b.syntax in SHELL), None)
                if owner is None or owner.check is not None:
                    problems.append(f"{block.where}: an <!--output:...--> block with no code block of its own above it")
                    continue
                try:
                    owner.check = checks.parse(comment, cb.code, block.line)
                except checks.MarkerError as e:
                    problems.append(f"{name}:{page_lines[at]}: {e}")
                continue
            blocks.append(block)
        for i, line in enumerate(lines):
            if OUTPUT_MARKER_START.match(line) and i not in markers_used:
                problems.append(
                    f"{name}:{page_lines[i]}: an <!--output:...--> marker checks the output fence right under it"
                    " (```text); there is none here"
                )

        for b in blocks:
            syntax = b.syntax.strip()
            lang = re.split(r"[\s{]", syntax.lstrip("{. "), maxsplit=1)[0].lower()
            if syntax == "python":
                code_lines = b.code.split("\n")
                hand = [pl for (f, _), pl, c in zip(b.origins, b.page_lines, code_lines) if f == name and c.strip()]
                if hand:
                    problems.append(
                        f"{name}:{hand[0]}: Python typed into the page; include it from snippets/"
                        ' with --8<-- "snippets/<topic>.py:<section>" so the tests run what readers copy'
                    )
            elif lang in PYTHON_LIKE:
                problems.append(
                    f"{b.where}: a ```{syntax} block is never run (only a bare ```python fence is):"
                    " drop the attributes or the alias"
                )
            elif lang in ("", "text", "txt", "output"):
                problems.append(
                    f"{b.where}: a {'```' + syntax if syntax else 'fence with no language'} block that no test checks:"
                    " put <!--pytest-codeblocks:expected-output--> or an <!--output:...--> marker before an output,"
                    " or give code its language"
                )
        for i, b in enumerate(blocks):
            if b.file is None:
                continue
            if b.checked:
                problems.append(
                    f"{b.where}: a <!--file:{b.file}--> block prints nothing itself; show the output"
                    f" under the shell block that runs it"
                )
            if not any(later.syntax in SHELL and later.checked and b.file in later.code for later in blocks[i + 1 :]):
                problems.append(
                    f"{b.where}: <!--file:{b.file}--> is never run: add a ```bash block that runs it"
                    f" (python {b.file}) with its output under it"
                )
        images = []
        in_fence = False
        for i, line in enumerate(lines):
            if FENCE.match(line):
                in_fence = not in_fence
            if in_fence:
                continue
            for m in IMAGE.finditer(line):
                images.append(
                    Image(name, page_lines[i], m["alt"].strip(), m["src"], m["attrs"] or "", page.parent, self.docs_dir)
                )
        return Page(path=name, blocks=blocks, problems=problems, images=images)

    @staticmethod
    def _next_fence(lines, page_lines, start):
        for i in range(start, len(lines)):
            if FENCE.match(lines[i]):
                return page_lines[i]
        return None

    @staticmethod
    def _file_marker(lines, fence_index):
        """NAME of a <!--file:NAME--> comment right above a fence."""
        i = fence_index - 1
        while i >= 0 and not lines[i].strip():
            i -= 1
        m = FILE_MARKER.fullmatch(lines[i].strip()) if i >= 0 else None
        return m.group("name") if m else None

    @staticmethod
    def _output_marker(lines, fence_index):
        """(the comment, its first line's index) of an <!--output:...--> comment right above a fence."""
        i = fence_index - 1
        while i >= 0 and not lines[i].strip():
            i -= 1
        if i < 0 or not lines[i].strip().endswith("-->"):
            return None
        j = i
        while j >= 0 and "<!--" not in lines[j]:
            j -= 1
        if j < 0 or not OUTPUT_MARKER_START.match(lines[j]):
            return None
        return "\n".join(s.strip() for s in lines[j : i + 1]), j

    # -- running a page -------------------------------------------------------------
    def run(
        self,
        page: Page,
        workdir: Path | None = None,
        threads: int = THREADS,
        drawn: dict | None = None,
        printed: list | None = None,
    ) -> list[str]:
        """Run a page's Python blocks in one fresh process; return what is wrong.

        `drawn`, if given, receives the SVG files the run wrote ({name: bytes}); `printed`,
        what each block printed, in order (for `reproduced`).

        `threads` sets torch's CPU threads (OMP_NUM_THREADS); see THREADS.
        """
        blocks = page.runs
        if not blocks:
            return []
        spec = {
            "blocks": [
                {
                    "code": b.code,
                    "kind": "file" if b.file else "python" if b.syntax == "python" else "shell",
                    "file": b.file,
                    "origins": b.origins,
                    "page": b.page,
                    "page_lines": b.page_lines,
                }
                for b in blocks
            ]
        }
        with tempfile.TemporaryDirectory(prefix="page-run-") as tmp:
            tmp = Path(tmp)
            (tmp / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
            work = workdir or tmp / "work"
            work.mkdir(exist_ok=True)
            # Shell blocks find this interpreter (and its torchrun, tensorboard...) first.
            env = child_env(threads, path=str(Path(sys.executable).parent))
            proc = subprocess.run(
                [sys.executable, "-u", "-W", "error", str(RUNNER), str(tmp / "spec.json"), str(tmp / "result.json")],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=PAGE_TIMEOUT_S,
            )
            if proc.returncode != 0 or not (tmp / "result.json").exists():
                return [f"{page.path}: the page runner crashed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}"]
            results = json.loads((tmp / "result.json").read_text(encoding="utf-8"))
            if drawn is not None:
                drawn.update({f.name: f.read_bytes() for f in work.glob("*.svg")})
            if printed is not None:
                printed.extend(r["stdout"] if not r["error"] else None for r in results)
        return check_results(blocks, results)


def mask_numbers(svg: bytes) -> str:
    """An SVG with its numbers masked: what stays is its structure, text and styles."""
    return re.sub(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", "#", svg.decode("utf-8"))


def check_drawn(page: Page, drawn: dict[str, bytes], reproduced: bool = True) -> list[str]:
    """The figures a page's code draws must be the committed ones it shows.

    A plot is compared with the committed SVG by structure and text exactly and every number
    within checks.SVG_ATOL (a last-bit difference passes, a changed curve fails); a
    ``{ .measured }`` one (timings) with its numbers masked. A ``{ .recorded }`` one is drawn
    from the page's recorded run: it is compared so only where that run reproduced verbatim
    (`reproduced`: this machine computes what the recording machine did); elsewhere it must
    be drawn, as a well-formed SVG, and is checked like the run's output, by its assertions."""
    problems = []
    for image in page.drawn:
        name = image.path.name
        if name not in drawn:
            problems.append(
                f"{page.path}:{image.line}: the page shows {image.src}, which no figure script draws"
                f" (docs/{FIGURES}/{image.script.name}) and its code did not write {name}"
            )
            continue
        if not image.path.exists():
            problems.append(f"{page.path}:{image.line}: {image.src} is not committed; run `make figures`")
            continue
        committed = image.path.read_bytes()
        if image.measured:
            why = None if mask_numbers(committed) == mask_numbers(drawn[name]) else "(numbers masked) it differs"
        elif image.recorded and not reproduced:
            why = _not_svg(drawn[name])
        else:
            why = checks.compare_svg(committed, drawn[name], image.atol)
        if why:
            problems.append(
                f"{page.path}:{image.line}: {image.src} differs from what the page's code draws now: {why};"
                " run `make figures` and look at the result"
            )
    return problems


def _not_svg(data: bytes) -> str | None:
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        return f"it is not well-formed SVG ({e})"
    return None if root.tag.endswith("svg") else f"its root element is <{root.tag}>, not <svg>"


def reproduced(blocks: list[Block], printed: list[str | None]) -> bool:
    """Did every recorded run among `blocks` print exactly what the page shows?"""
    return all(
        out is not None and b.check.verbatim(out)
        for b, out in zip(blocks, printed)
        if b.check is not None and b.check.mode == checks.RUN
    ) and len(printed) >= len(blocks)


def check_results(blocks: list[Block], results: list[dict]) -> list[str]:
    """Compare what each block printed with what its page shows (pipeline.checks)."""
    problems = []
    for block, result in zip(blocks, results):
        if result["error"]:
            err = result["error"]
            loc = err["where"]
            at = f"{loc['file']}:{loc['line']}" if loc else block.source
            what = (
                f"the command failed with {err['type'].removeprefix('a shell ')}"
                if err["type"].startswith("a shell")
                else f"the block raised {err['type']} at {at} (block starts at {block.source})"
            )
            problems.append(f"{block.where}: {what}\n{err['traceback']}")
            break
        if result["stderr"].strip():
            problems.append(
                f"{block.where}: the block wrote to stderr, which the page does not show"
                f" ({block.source}):\n{result['stderr']}"
            )
        if block.check is not None:
            problems += [str(p) for p in block.check.compare(result["stdout"], block.where, block.source)]
        elif printed := norm(result["stdout"]):
            problems.append(
                f"{block.where}: the block prints {len(printed)} line(s) that the page does not show"
                f" ({block.source}):\n" + "\n".join(printed[:10])
            )
    if len(results) < len(blocks) and not any(r["error"] for r in results):
        problems.append(f"{blocks[len(results)].where}: never ran (the runner stopped early)")
    return problems


# -- the built site ---------------------------------------------------------------------
def build(root: Path, site_dir: Path) -> subprocess.CompletedProcess:
    """`mkdocs build --strict` from the repository root, as the README runs it."""
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=PAGE_TIMEOUT_S,
    )


def html_blocks(html: str) -> list[tuple[str, str]]:
    """(language, text) of every code block on a built page, as the copy button copies it."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    out = []
    for pre in soup.select("article pre"):
        code = pre.find("code")
        if code is None:
            continue
        holder = pre.find_parent(class_="highlight")
        classes = holder.get("class", []) if holder else []
        lang = next((c[len("language-") :] for c in classes if c.startswith("language-")), "")
        # Line numbers live outside <code>; annotation markers are stripped by the copy button.
        for junk in code.select(".md-annotation, .linenos"):
            junk.decompose()
        out.append((lang, code.get_text()))
    return out


def check_html(site: Site, site_dir: Path, pages: dict[str, Page], only: str | None = None) -> list[str]:
    """Every Python block and every output block in the HTML must be one the tests handled.

    `only` limits the check to one page (e.g. "docs/tensors.md"); None checks every HTML file,
    including those that come from no page (they must show no Python at all).
    """
    problems = []
    built = {site.url_of(site.root / p): p for p in pages}
    for html_file in sorted(site_dir.rglob("*.html")):
        url = html_file.relative_to(site_dir).as_posix()
        who = built.get(url, url)
        if only is not None and who != only:
            continue
        problems += check_html_file(html_file, who, pages.get(who))
    return problems


def check_html_file(html_file: Path, who: str, page: Page | None) -> list[str]:
    """Compare one built HTML file's code and output blocks with what the tests ran and checked."""
    blocks = html_blocks(html_file.read_text(encoding="utf-8"))
    python = [norm(text) for lang, text in blocks if lang.lower() in PYTHON_LIKE]
    text = [norm(text) for lang, text in blocks if lang.lower() in ("text", "txt", "output", "")]
    ran = [norm(b.code) for b in page.python] if page else []
    checked = [norm(b.check.shown) for b in (page.runs if page else []) if b.check is not None]
    problems = []
    for kind, shown, handled, verb, participle in (
        ("Python", python, ran, "ran", "run"),
        ("text/output", text, checked, "checked", "checked"),
    ):
        if shown != handled:
            missed = [t for t in shown if t not in handled]
            first = missed[0][0] if missed and missed[0] else "(empty)"
            problems.append(
                f"{who}: the built page shows {len(shown)} {kind} block(s) but the tests {verb}"
                f" {len(handled)} as shown; first one not {participle}: {first!r}"
            )
    return problems


# Markdown that reached the HTML as text: syntax the Markdown processor did not turn into
# markup (a table cut in two by a blank line, bold with a space inside, an admonition that
# lost its indentation, a link inside HTML, an include that did not expand).
LEAKS = (
    (re.compile(r"^[ \t]*\|.*\|[ \t]*$", re.M), "a Markdown table row"),
    (re.compile(r"[^\n\x00]{0,30}\*\*[^\n\x00]{0,30}"), "Markdown bold markers (**)"),
    (re.compile(r"^[ \t]*(?:!!!|\?\?\?\+?)[ \t]+\w", re.M), "admonition syntax (!!! or ???)"),
    (re.compile(r"\[[^\]\n]+\]\([^)\s]+\)"), "a raw Markdown link"),
    (re.compile(r"--8<--"), "a snippet include (--8<--)"),
)
TEXT_BLOCKS = "p, li, h1, h2, h3, h4, h5, h6, td, th, dt, dd, figcaption, summary, blockquote"


def markdown_leaks(html: str) -> list[tuple[str, str]]:
    """(what, the text) of each piece of Markdown syntax shown as text in a built page's
    content. Code (inline or block) is left out: there such characters are code."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    root = soup.select_one("article") or soup
    found: list[tuple[str, str]] = []
    for el in root.select(TEXT_BLOCKS):
        text = "".join(
            "\x00" if s.find_parent(["code", "kbd", "pre", "script", "style"]) else str(s)
            for s in el.find_all(string=True)
        )
        for pattern, what in LEAKS:
            m = pattern.search(text)
            if m and (what, m.group(0).strip()) not in found:
                found.append((what, m.group(0).strip()))
    return found


def leak_line(source: Path, text: str) -> int | None:
    """The line of a page's Markdown that a leaked text most likely comes from: the first,
    outside code fences, holding the text's first four words."""
    words = re.findall(r"\w+", text)[:4]
    in_fence = False
    for n, line in enumerate(source.read_text(encoding="utf-8").split("\n"), start=1):
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        if not in_fence and words and all(w in line for w in words):
            return n
    return None


# Tags and attributes that make a browser fetch something when the page loads.
LOADERS = {
    "script": "src",
    "img": "src",
    "iframe": "src",
    "source": "src",
    "audio": "src",
    "video": "src",
    "embed": "src",
    "object": "data",
    "track": "src",
    "input": "src",
}
REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.I)
CSS_URL = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])(?P<url>[^'")\s]+)""", re.I)


def third_party_loads(site_dir: Path) -> list[str]:
    """Every resource a built page (or its CSS) would fetch from another host."""
    from bs4 import BeautifulSoup

    found = []
    for html_file in sorted(site_dir.rglob("*.html")):
        rel = html_file.relative_to(site_dir).as_posix()
        soup = BeautifulSoup(html_file.read_text(encoding="utf-8"), "html.parser")
        for tag, attr in LOADERS.items():
            for el in soup.find_all(tag):
                for a in (attr, "srcset", "poster"):
                    value = el.get(a)
                    if value and any(REMOTE.match(v.strip().split(" ")[0]) for v in value.split(",")):
                        found.append(f"{rel}: <{tag} {a}={value!r}>")
        for el in soup.find_all("link", href=True):
            rels = {r.lower() for r in el.get("rel", [])}
            if rels & {
                "stylesheet",
                "preload",
                "prefetch",
                "preconnect",
                "dns-prefetch",
                "modulepreload",
                "icon",
                "manifest",
            } and REMOTE.match(el["href"]):
                found.append(f"{rel}: <link rel={' '.join(sorted(rels))} href={el['href']!r}>")
        for el in soup.find_all(style=True):
            found += [f"{rel}: style url {m['url']!r}" for m in CSS_URL.finditer(el["style"]) if REMOTE.match(m["url"])]
        for el in soup.find_all("style"):
            found += [
                f"{rel}: <style> url {m['url']!r}" for m in CSS_URL.finditer(el.get_text()) if REMOTE.match(m["url"])
            ]
    for css in sorted(site_dir.rglob("*.css")):
        text = css.read_text(encoding="utf-8", errors="replace")
        rel = css.relative_to(site_dir).as_posix()
        found += [f"{rel}: url {m['url']!r}" for m in CSS_URL.finditer(text) if REMOTE.match(m["url"])]
    return found
