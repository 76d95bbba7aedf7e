"""A page, expanded once and read once into a Document: what every other part reads.

Reading (Sybil's shape: a document of regions, each carrying what evaluates it):

1. expand: pymdownx.snippets' own preprocessor, configured from mkdocs.yml, gives the
   Markdown MkDocs renders; every line keeps its origin (snippet file and line) and the
   page line of its include, so a problem names both;
2. lex: one grammar for every directive, an HTML comment alone on its lines:
   ``<!--pytest-codeblocks:expected-output-->``, ``<!--file:NAME.py-->``,
   ``<!--output:MODE ...-->`` (pipeline/checks.py), ``<!--exercise:start|check-->``;
3. extract: pytest-codeblocks' extractor finds the fenced blocks; each output block is
   folded into the code block above it as its Check;
4. what is left is prose, with its images.

The page runner (run.py), the notebook writer (notebooks.py), the figure checks and the
HTML guard read the Document; none parses Markdown again. Lints (rules.py) turn what
the reading finds into problems.
"""

from __future__ import annotations

import dataclasses
import io
import re
from pathlib import Path

from pymdownx.snippets import SnippetMissingError
from pytest_codeblocks import extract_from_buffer

from pipeline import FIGURES, SHELL, PageError, Site, checks
from pipeline.checks import EXACT, Check

# A directive: <!--NAME:ARGUMENT-->, alone on its line(s). NAME is one of DIRECTIVES.
NAMES = "pytest-codeblocks|file|output|exercise|facts"  # facts: pipeline/quotes.py
DIRECTIVE = re.compile(rf"<!--[-\s]*(?P<name>{NAMES})\s*:(?P<arg>.*?)[-\s]*-->", re.S)
DIRECTIVE_START = re.compile(rf"^\s*<!--[-\s]*(?:{NAMES})\s*:")
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})")
IMAGE = re.compile(
    r"!\[(?P<alt>(?:[^\[\]]|\[[^\[\]]*\])*)\]\((?P<src>[^)\s]+)(?:\s+\"[^\"]*\")?\)(?:\{(?P<attrs>[^}]*)\})?"
)


@dataclasses.dataclass(frozen=True)
class Directive:
    name: str  # pytest-codeblocks | file | output
    arg: str  # what follows the colon, e.g. "expected-output", "probe.py", "numbers rtol=1e-3"
    text: str  # the whole comment
    start: int  # index of its first line in the expanded page
    end: int  # index of the line after it


@dataclasses.dataclass(frozen=True)
class Block:
    """One fenced code block of an expanded page, with the output block under it folded in."""

    page: str  # e.g. "docs/tensors.md"
    line: int  # page line of the opening fence
    syntax: str
    code: str
    origins: list[tuple[str, int]]  # per code line: (file, line), a snippet or the page
    page_lines: list[int]  # per code line: the page line that produced it
    span: tuple[int, int] = (0, 0)  # expanded-page indexes: its fence, and the line after its closing fence
    output: tuple[int, int] | None = None  # the same for the output block under it
    check: Check | None = None  # how the output block under it is compared (pipeline.checks)
    file: str | None = None  # <!--file:NAME-->: written to NAME, run by a later shell block
    exercise: str | None = None  # <!--exercise:start--> or <!--exercise:check--> (pipeline/rules.py)

    @property
    def checked(self) -> bool:
        return self.check is not None

    @property
    def runs(self) -> bool:
        """Run by the tests: a ```python block; a shell block whose output the page shows."""
        return self.syntax == "python" or (self.syntax in SHELL and self.checked)

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def source(self) -> str:
        """The snippet file and line this block starts at (or the page, if hand-typed)."""
        return f"{self.origins[0][0]}:{self.origins[0][1]}" if self.origins else self.where


@dataclasses.dataclass(frozen=True)
class Image:
    """An image on a page: ![alt](src){ attrs }."""

    page: str
    line: int
    alt: str
    src: str
    attrs: str
    path: Path  # resolved
    figure: bool  # a picture under docs/figures/ (all of the site's pictures live there)

    @property
    def script(self) -> Path:
        return self.path.with_suffix(".py")

    def has(self, attr: str) -> bool:
        """{ .recorded }: drawn from the page's recorded run; { .measured }: from timings."""
        return attr in self.attrs.split()

    @property
    def atol(self) -> float:
        """How far a coordinate may move, in SVG units: checks.SVG_ATOL, or the page's own
        { data-atol="N" } for a plot whose data sits where float rounding jitters."""
        m = re.search(r"""(?:^|\s)data-atol=(["']?)(?P<n>\d+(?:\.\d+)?)\1(?:\s|$)""", self.attrs)
        return float(m["n"]) if m else checks.SVG_ATOL


@dataclasses.dataclass(frozen=True)
class Prose:
    """Markdown between blocks (directives left out)."""

    lines: tuple[str, ...]
    start: int = 0  # index of its first line in the expanded page


@dataclasses.dataclass(frozen=True)
class Document:
    """A page after expansion: its lines (with origins), and its parts in page order."""

    path: str
    lines: list[str]
    origins: list[tuple[str, int]]
    page_lines: list[int]
    parts: list[Prose | Block]
    directives: list[Directive]
    images: list[Image]
    orphans: list[tuple[int, str]]  # (page line, why): output blocks and markers that check no code block

    @property
    def blocks(self) -> list[Block]:
        return [p for p in self.parts if isinstance(p, Block)]

    @property
    def python(self) -> list[Block]:
        return [b for b in self.blocks if b.syntax == "python"]

    @property
    def runs(self) -> list[Block]:
        """What the runner runs, in page order: every Python block, and every shell block
        whose output the page shows (other shell blocks, such as installs, are not run)."""
        return [b for b in self.blocks if b.runs]

    @property
    def drawn(self) -> list[Image]:
        """Images the page's own code draws: figures/NAME.svg with no docs/figures/NAME.py."""
        return [i for i in self.images if i.figure and not i.script.exists()]

    @property
    def problems(self) -> list[checks.Problem]:
        from pipeline.rules import problems

        return problems(self)


# -- expanding ----------------------------------------------------------------------------
def expand(site: Site, page: Path) -> tuple[list[str], list[tuple[str, int]], list[int]]:
    """Expand a page as MkDocs does; also return each line's origin and page line."""
    name, pre = site.rel(page), site.preprocessor()
    raw = page.read_text(encoding="utf-8").split("\n")
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
        got = pre.run([line]) if m and m.group("inline_marker") and not m.group("escape") else [line]
        lines.extend(got)
        origins.extend(_locate(site, pre, m.group("snippet")[1:-1].strip(), got) if got != [line] else [(name, n)])
        page_lines.extend([n] * len(got))
        if len(origins) < len(lines):  # an include line left as it was, or a line we could not trace
            origins.extend([(name, n)] * (len(lines) - len(origins)))
    if lines != expanded:  # pragma: no cover - a guard on our own bookkeeping
        raise PageError(f"{name}: could not trace the expanded page back to its sources")
    return lines, origins, page_lines


def _locate(site: Site, pre, spec: str, got: list[str]) -> list[tuple[str, int]]:
    """Find each included line in its snippet file (section markers are skipped over)."""
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
    rel, out, j = site.rel(file), [], start
    for line in got:
        k = next((k for k in range(j, len(text)) if text[k].strip() == line.strip()), None)
        if k is None:  # not found: the caller falls back to the include line on the page
            return out
        out.append((rel, k + 1))
        j = k + 1
    return out


# -- reading ------------------------------------------------------------------------------
def lex(lines: list[str]) -> list[Directive]:
    """Every directive outside code fences, in page order."""
    found, fence, i = [], None, 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if m and (fence is None or lines[i].strip().startswith(fence)):
            fence = m["fence"] if fence is None else None
        elif fence is None and DIRECTIVE_START.match(lines[i]):
            end = next((j for j in range(i, len(lines)) if "-->" in lines[j]), len(lines) - 1) + 1
            text = "\n".join(s.strip() for s in lines[i:end])
            m = DIRECTIVE.fullmatch(text)
            found.append(Directive(m["name"] if m else "", (m["arg"] if m else "").strip(), text, i, end))
            i = end
            continue
        i += 1
    return found


def read(site: Site, page: Path) -> Document:
    """Expand a page once and read it into a Document."""
    name = site.rel(page)
    lines, origins, page_lines = expand(site, page)
    directives = lex(lines)
    above = {_next_line(lines, d.end, str.strip): d for d in directives}  # the fence each one is above
    try:
        extracted = extract_from_buffer(io.StringIO("\n".join(lines) + "\n"))
    except RuntimeError as e:
        raise PageError(f"{name}: {e}") from None
    blocks: list[Block] = []
    skip = {d.start: d.end for d in directives}  # line index -> the index after it: not prose
    orphans: list[tuple[int, str]] = []
    outputs: set[int] = set()  # the fences that are <!--output:...--> blocks
    for cb in extracted:
        start, n = cb.lineno - 1, cb.code.count("\n")
        lines_of = slice(start + 1, start + 1 + n)
        block = Block(name, page_lines[start], cb.syntax or "", cb.code, origins[lines_of], page_lines[lines_of])
        block = dataclasses.replace(block, span=(start, start + n + 2))
        d = above.get(start)
        if d is not None and d.name == "output" and block.syntax != "python":
            skip[start] = block.span[1]  # an output block: its check goes to the code block above it
            outputs.add(start)
            orphans += _attach(blocks, d, block, page_lines[d.start])
            continue
        if d is not None and d.name in ("file", "exercise") and block.syntax == "python":
            block = dataclasses.replace(block, **{d.name: d.arg})
        if cb.expected_output is not None:  # the extractor took the next fence as its output
            at = _next_line(lines, block.span[1], lambda s: s.lstrip().startswith("```"))
            output = (at, at + cb.expected_output.count("\n") + 2)
            block = dataclasses.replace(block, check=Check(EXACT, cb.expected_output, page_lines[at]), output=output)
            skip[at] = output[1]
        blocks.append(block)
    orphans += [
        (
            page_lines[d.start],
            "an <!--output:...--> marker checks the output fence right under it (```text); there is none here",
        )
        for fence, d in above.items()
        if d.name == "output" and fence not in outputs
    ]
    parts, images = _parts(site, page, lines, page_lines, blocks, skip)
    return Document(name, lines, origins, page_lines, parts, directives, images, sorted(orphans))


def _attach(blocks: list[Block], d: Directive, output: Block, marker_line: int) -> list[tuple[int, str]]:
    """Give an <!--output:...--> block's check to the code block above it -> problems."""
    owner = next(
        (k for k in range(len(blocks) - 1, -1, -1) if blocks[k].syntax == "python" or blocks[k].syntax in SHELL), None
    )
    if owner is None or blocks[owner].check is not None:
        return [(output.line, "an <!--output:...--> block with no code block of its own above it")]
    try:
        check = checks.parse(d.text, output.code, output.line)
        blocks[owner] = dataclasses.replace(blocks[owner], check=check, output=output.span)
    except checks.MarkerError as e:
        return [(marker_line, str(e))]
    return []


def _next_line(lines: list[str], start: int, test) -> int:
    """The index of the first line from `start` that passes `test` (or len(lines))."""
    return next((k for k in range(start, len(lines)) if test(lines[k])), len(lines))


def _parts(site, page, lines, page_lines, blocks, skip) -> tuple[list[Prose | Block], list[Image]]:
    """The page in order: prose runs and blocks (output blocks and directives left out)."""
    at = {b.span[0]: b for b in blocks}
    parts: list[Prose | Block] = []
    images: list[Image] = []
    prose: list[str] = []
    i = 0
    while i < len(lines):
        if i in at or i in skip:
            if prose:
                parts.append(Prose(tuple(prose), i - len(prose)))
                prose = []
            if i in at:
                parts.append(at[i])
            i = at[i].span[1] if i in at else skip[i]
            continue
        for m in IMAGE.finditer(lines[i]):
            path = (page.parent / m["src"]).resolve()
            figure = path.parent == (site.docs_dir / FIGURES).resolve() and path.suffix == ".svg"
            images.append(
                Image(site.rel(page), page_lines[i], m["alt"].strip(), m["src"], m["attrs"] or "", path, figure)
            )
        prose.append(lines[i])
        i += 1
    if prose:
        parts.append(Prose(tuple(prose), len(lines) - len(prose)))
    return parts, images
