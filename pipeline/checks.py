"""Output checks: how an output block on a page is compared with what its code prints.

Every comparison of the tutorial lives here; the page runner, the notebook run and the
figure checks all call it. The marker right above an output fence sets its mode (README,
"Output check modes"): exact (``<!--pytest-codeblocks:expected-output-->``), numbers
(``<!--output:numbers [rtol= atol=]-->``: each number to the precision shown), claims
(``<!--output:claims`` + a regular expression per line) or a recorded run (``<!--output:run``
+ ``line:`` patterns whose named groups become lists, and ``assert:`` expressions over them).
Every mode is symmetric: what the page shows must pass the check that the printed text
must. Problems are values (``Problem``); ``str(problem)`` is the report a test prints.
"""

from __future__ import annotations

import ast
import builtins
import dataclasses
import difflib
import math
import re

EXACT, NUMBERS, CLAIMS, RUN = "exact", "numbers", "claims", "run"
MODES = (EXACT, NUMBERS, CLAIMS, RUN)
# <!--output:MODE options ... -->: the markers this module reads (exact is pytest-codeblocks').
OUTPUT_MARKER = re.compile(r"<!--\s*output:(?P<mode>[\w-]*)(?P<rest>.*?)-->", re.S)
# A number as text: optional sign, digits with an optional fraction, optional exponent; not
# part of a word (float32, x2) nor of a dotted version (2.13.0).
NUMBER = re.compile(
    r"(?<![\w.])(?P<number>[-+]?(?:\d+(?P<point>\.(?P<fraction>\d*))?|\.(?P<fraction2>\d+))(?:[eE](?P<exp>[-+]?\d+))?)(?!\w|\.\d)"
)
# What an assertion of a recorded run may call.
SAFE_BUILTINS = {
    name: getattr(builtins, name)
    for name in "len min max sum abs all any sorted range zip set list str round enumerate".split()  # noqa: SIM905
}


@dataclasses.dataclass(frozen=True)
class Problem:
    """Something wrong with a page, at a page line; `str()` is the report."""

    where: str  # "docs/page.md:12"
    message: str
    detail: str = ""  # a diff, the two texts, a traceback
    source: str = ""  # the snippet file and line it comes from, where known

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" + (f"\n{self.detail}" if self.detail else "")


class MarkerError(ValueError):
    """A marker that cannot be read: an unknown mode, a bad pattern, a bad assertion."""


def norm(text: str) -> list[str]:
    """Lines as compared: trailing spaces and trailing blank lines do not count."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


@dataclasses.dataclass(frozen=True)
class Check:
    """How one output block is checked: its mode, what the page shows, and the mode's terms."""

    mode: str
    shown: str  # the output block's text as the page shows it
    line: int | None = None  # page line of the output fence
    rtol: float | None = None  # numbers
    atol: float | None = None  # numbers
    patterns: tuple[str, ...] = ()  # claims: one per line; run: the line: patterns
    asserts: tuple[str, ...] = ()  # run

    @property
    def exact(self) -> bool:
        return self.mode == EXACT

    def verbatim(self, printed: str) -> bool:
        """Did the code print exactly what the page shows (whatever the mode asks)?"""
        return norm(printed) == norm(self.shown)

    def compare(
        self, printed: str, where: str, source: str = "", label: str = "code prints", origins: list | None = None
    ) -> list[Problem]:
        """What is wrong with `printed` (the code's output) against this check; [] if nothing.

        `where` names the code block (page:line), `source` the snippet line it starts at;
        `origins`, where known, the snippet (file, line) that printed each printed line."""
        shown_at = f"{where.rsplit(':', 1)[0]}:{self.line}" if self.line else where
        if self.mode == EXACT:
            return _compare_exact(self, printed, where, shown_at, source, label, origins)
        if self.mode == NUMBERS:
            return _compare_numbers(self, printed, where, shown_at, source, label)
        if self.mode == CLAIMS:
            return _check_claims(self, printed, where, label)
        return _check_run(self, printed, where, label)


def _compare_exact(check, printed, where, shown_at, source, label, origins) -> list[Problem]:
    """One problem, at the page line of the first line that differs, naming the snippet line
    that printed it (or, where that is not known, the block's first line)."""
    shown, got = norm(check.shown), norm(printed)
    if shown == got:
        return []
    k = next((i for i, (a, b) in enumerate(zip(shown, got)) if a != b), min(len(shown), len(got)))
    at = f"{where.rsplit(':', 1)[0]}:{check.line + 1 + min(k, len(shown))}" if check.line else where
    known = [o for o in (origins or [])[: k + 1] if o]
    by = f"{known[-1][0]}:{known[-1][1]}" if known else source
    what = f"output differs from the page at its line {k + 1}" + (f", printed by {by}" if by else "")
    return [Problem(at, what, _diff(check.shown, printed, shown_at, source, label), by)]


def _diff(shown: str, printed: str, shown_at: str, source: str, label: str) -> str:
    return "\n".join(
        difflib.unified_diff(
            norm(shown),
            norm(printed),
            f"page shows ({shown_at})",
            f"{label} ({source})" if source else label,
            lineterm="",
        )
    )


# -- markers -------------------------------------------------------------------------------
def parse(comment: str, shown: str, line: int | None = None) -> Check:
    """The check an ``<!--output:MODE ...-->`` comment sets for the output block `shown`.

    Raises MarkerError, with a message a writer can act on, for a marker that cannot be
    read."""
    m = OUTPUT_MARKER.fullmatch(comment.strip())
    if not m:
        raise MarkerError(f"not an output marker: {comment.strip()[:60]!r}")
    mode, rest = m["mode"], m["rest"]
    first, _, body = rest.partition("\n")
    if mode not in (NUMBERS, CLAIMS, RUN):
        hint = " (output:machine is now output:claims)" if mode == "machine" else ""
        raise MarkerError(
            f"unknown output mode {mode!r}{hint}: use <!--pytest-codeblocks:expected-output--> (exact),"
            " <!--output:numbers-->, <!--output:claims ...--> or <!--output:run ...-->"
        )
    options = _options(first, mode)
    lines = [s.strip() for s in body.split("\n") if s.strip()]
    if mode == NUMBERS:
        if lines:
            raise MarkerError("output:numbers takes only rtol=... atol=... on its first line, no body")
        return Check(NUMBERS, shown, line, rtol=options.get("rtol"), atol=options.get("atol"))
    if options:
        raise MarkerError(f"output:{mode} takes no options on its first line: {first.strip()!r}")
    if mode == CLAIMS:
        if not lines:
            raise MarkerError("output:claims needs one regular expression per output line")
        for pat in lines:
            _compile(pat)
        return Check(CLAIMS, shown, line, patterns=tuple(lines))
    patterns, asserts = [], []
    for s in lines:
        key, sep, value = s.partition(":")
        if not sep or key.strip() not in ("line", "assert"):
            raise MarkerError(f"output:run: each line is 'line: REGEX' or 'assert: EXPRESSION', not {s!r}")
        (patterns if key.strip() == "line" else asserts).append(value.strip())
    if not patterns or not asserts:
        raise MarkerError("output:run needs at least one 'line:' pattern and one 'assert:'")
    names = set()
    for pat in patterns:
        names |= set(_compile(pat).groupindex)
    for expr in asserts:
        _check_assertion(expr, names)
    return Check(RUN, shown, line, patterns=tuple(patterns), asserts=tuple(asserts))


def _options(text: str, mode: str) -> dict[str, float]:
    out = {}
    for word in text.split():
        key, sep, value = word.partition("=")
        if not sep or key not in ("rtol", "atol") or mode != NUMBERS:
            raise MarkerError(f"output:{mode}: unknown option {word!r} (output:numbers takes rtol=... and atol=...)")
        try:
            out[key] = float(value)
        except ValueError:
            raise MarkerError(f"output:{mode}: {key}={value!r} is not a number") from None
        if not out[key] >= 0:
            raise MarkerError(f"output:{mode}: {key} must be >= 0")
    return out


def _compile(pattern: str) -> re.Pattern:
    try:
        return re.compile(pattern)
    except re.error as e:
        raise MarkerError(f"bad regular expression /{pattern}/: {e}") from None


def _check_assertion(expr: str, names: set[str]) -> None:
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as e:
        raise MarkerError(f"assert: {expr!r} does not parse: {e.msg}") from None
    local = {
        t.id
        for node in ast.walk(tree)
        if isinstance(node, ast.comprehension)
        for t in ast.walk(node.target)
        if isinstance(t, ast.Name)
    }
    local |= {a.arg for node in ast.walk(tree) if isinstance(node, ast.Lambda) for a in node.args.args}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in names | local | set(SAFE_BUILTINS):
            raise MarkerError(
                f"assert: {expr!r} uses {node.id!r}, which no line: pattern names"
                f" (groups: {', '.join(sorted(names)) or 'none'})"
            )
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            raise MarkerError(f"assert: {expr!r}: no private attributes")


# -- numbers -------------------------------------------------------------------------------
def _numbers(text: str) -> tuple[list[str], list[re.Match]]:
    """The text between the numbers, and the numbers."""
    joined = "\n".join(norm(text))
    found = list(NUMBER.finditer(joined))
    between, last = [], 0
    for m in found:
        between.append(joined[last : m.start()])
        last = m.end()
    between.append(joined[last:])
    return between, found


def tolerance(shown: re.Match, rtol: float | None, atol: float | None) -> float:
    """How far a printed number may be from a shown one: the rtol/atol of the marker, or one
    unit of the last digit shown. 0 for a number shown without decimals."""
    value = float(shown["number"])
    if rtol is not None or atol is not None:
        return (atol or 0.0) + (rtol or 0.0) * abs(value)
    fraction = shown["fraction"] if shown["fraction"] is not None else shown["fraction2"]
    if not fraction:
        return 0.0  # "20", "1.", "1e-05": exact (doctest NUMBER's trap: "1." would accept 0 to 2)
    return 10.0 ** (int(shown["exp"] or 0) - len(fraction))


def _compare_numbers(check: Check, printed: str, where: str, shown_at: str, source: str, label: str) -> list[Problem]:
    text_s, nums_s = _numbers(check.shown)
    text_p, nums_p = _numbers(printed)
    if text_s != text_p or len(nums_s) != len(nums_p):
        return [
            Problem(
                where,
                "output differs from the page in its text, not only in its numbers (output:numbers)",
                _diff(check.shown, printed, shown_at, source, label),
            )
        ]
    off = []
    for s, p in zip(nums_s, nums_p):
        allowed = tolerance(s, check.rtol, check.atol)
        a, b = float(s["number"]), float(p["number"])
        if not (abs(a - b) <= allowed * (1 + 1e-9) or (math.isnan(a) and math.isnan(b))):
            off.append(f"{s['number']} shown, {p['number']} printed (allowed +-{allowed:g})")
    if not off:
        return []
    return [
        Problem(
            where,
            f"{len(off)} number(s) differ from the page beyond the precision it shows (output:numbers): "
            + "; ".join(off[:5]),
            _diff(check.shown, printed, shown_at, source, label),
        )
    ]


# -- claims --------------------------------------------------------------------------------
def _check_claims(check: Check, printed: str, where: str, label: str) -> list[Problem]:
    problems = []
    printed_by = "printed" if label == "code prints" else f"printed ({label})"
    for who, text in (("shown on the page", check.shown), (printed_by, printed)):
        lines = norm(text)
        if len(lines) != len(check.patterns):
            problems.append(
                Problem(
                    where,
                    f"{len(check.patterns)} pattern(s) in <!--output:claims--> but {len(lines)} line(s) {who}",
                    "\n".join(lines),
                )
            )
            continue
        for pat, line in zip(check.patterns, lines):
            if not re.fullmatch(pat, line):
                problems.append(
                    Problem(where, f"line {line!r} {who} does not match the claim /{pat}/", "\n".join(lines))
                )
    return problems


# -- recorded runs -------------------------------------------------------------------------
def values(check: Check, text: str) -> tuple[dict[str, list], list[str]]:
    """The named groups of a run's lines, as lists in order; and the lines no pattern matches."""
    compiled = [re.compile(p) for p in check.patterns]
    out: dict[str, list] = {name: [] for c in compiled for name in c.groupindex}
    unmatched = []
    for line in norm(text):
        if not line.strip():
            continue
        m = next((m for c in compiled if (m := c.fullmatch(line))), None)
        if m is None:
            unmatched.append(line)
            continue
        for name, value in m.groupdict().items():
            if value is not None:
                out[name].append(_value(value))
    return out, unmatched


def _value(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _check_run(check: Check, printed: str, where: str, label: str) -> list[Problem]:
    problems = []
    for who, text in (("the page shows", check.shown), (label, printed)):
        found, unmatched = values(check, text)
        if unmatched:
            problems.append(
                Problem(
                    where,
                    f"{len(unmatched)} line(s) that {who} match no line: pattern of the recorded run",
                    "\n".join(unmatched[:10]),
                )
            )
            continue
        for expr in check.asserts:
            try:
                # The values are globals, so generators and lambdas in the expression see them.
                ok = eval(expr, {"__builtins__": SAFE_BUILTINS, **found})  # noqa: S307 - the page's own assertion
            except Exception as e:  # noqa: BLE001 - any error is the assertion failing
                ok, why = False, f"{type(e).__name__}: {e}"
            else:
                why = ""
            if not ok:
                used = {n.id for n in ast.walk(ast.parse(expr, mode="eval")) if isinstance(n, ast.Name)}
                shown_values = "; ".join(f"{k} = {_short(found[k])}" for k in sorted(used) if k in found)
                problems.append(
                    Problem(where, f"the recorded run's assertion `{expr}` fails on what {who}", why or shown_values)
                )
    return problems


def _short(items: list) -> str:
    text = repr(items)
    return text if len(text) <= 200 else text[:197] + "..."


# -- figures -------------------------------------------------------------------------------
# A plot is compared with its committed SVG by structure and text exactly, every number
# within this many SVG user units (points): last-bit differences move a coordinate by about
# 1e-5; a changed curve moves it by whole units.
SVG_ATOL = 0.01
SVG_ID = re.compile(r'\bid="(?P<id>[^"]+)"')


def _svg_ids(text: str) -> str:
    """matplotlib names clip paths and markers by a hash of their coordinates: rename each id
    by its order of appearance, so a last-digit move does not read as another structure."""
    ids = {}
    for m in SVG_ID.finditer(text):
        ids.setdefault(m["id"], f"id{len(ids)}")
    if not ids:
        return text
    alternatives = "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w.])(?:{alternatives})(?![\w.])")
    return pattern.sub(lambda m: ids[m.group(0)], text)


def compare_svg(committed: bytes, drawn: bytes, atol: float = SVG_ATOL) -> str | None:
    """None if `drawn` is `committed` up to `atol` in every number; else what differs."""
    if committed == drawn:
        return None
    a, b = _svg_ids(committed.decode("utf-8")), _svg_ids(drawn.decode("utf-8"))
    text_a, nums_a = _numbers(a)
    text_b, nums_b = _numbers(b)
    if text_a != text_b or len(nums_a) != len(nums_b):
        first = next((i for i, (x, y) in enumerate(zip(text_a, text_b)) if x != y), min(len(text_a), len(text_b)))
        near = text_a[first][:80] if first < len(text_a) else ""
        return f"its structure or text differs (first near {near!r})"
    worst = max((abs(float(x["number"]) - float(y["number"])) for x, y in zip(nums_a, nums_b)), default=0.0)
    if worst > atol:
        return f"a coordinate moved by {worst:g} (tolerance {atol:g} SVG units)"
    return None
