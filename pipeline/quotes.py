"""Numbers in prose that quote a run: each must be one the page shows that run printing.

The code on a page is run and its outputs compared; the sentences around them are not. This
guard holds the prose to the outputs: a number written the way a run reports one must be
printed on the same page, to the digits the prose gives (pytest's doctest NUMBER rule, as
in checks.py: "67.0" quotes 67.01, "67.1" does not), or be a ratio of two numbers the same
paragraph names ("67.01 against 2.53 ms (26x)").

What counts as quoting a run (a "measure"): a number with decimals (0.9778), a percentage
(97.8%), a ratio (26x, 1.2x), a time (20 s, 3 ms), or a count written with thousands
separators (16,455). Plain small integers (30 epochs, 8x8 pixels, 10 classes) and versions
(Python 3.11, torch 2.13.0) are not measures. A measure passes when it appears among

* the numbers of the page's output blocks, as the page shows them (each is compared with
  its run by checks.py, so the prose is held to the run through them);
* the numbers of the page's code and of its output markers (a bound the code or a recorded
  run's assertion states, ``1e-4``, ``1.2 * fast[0]``): the page's checked claims;
* a percentage may quote a fraction (97.8% quotes 0.9778), a time in ms one in s;
* the page's declared facts: ``<!--facts: 1,797 65,504 (why)-->``, numbers that come from
  no run on the page (a data set's size, a published score). A declared fact the prose
  does not use is a problem too, so the list cannot go stale.
"""

from __future__ import annotations

import ast
import dataclasses
import itertools
import math
import re
from decimal import Decimal

from pipeline.checks import Problem
from pipeline.document import Document, Prose

# A number as prose writes it: 16,455 / 0.9778 / 1e-4 / 3.4e38. Not inside a word (x86, 2D).
NUMBER = re.compile(r"(?<![\w.,/-])(?P<n>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?(?:e[-+]?\d+)?)(?![\w.]?\d)")
UNIT = re.compile(r"\s?(?P<unit>%|x\b(?!\s*\d)|×|ms\b|s\b|µs\b|us\b|ns\b|seconds?\b|minutes?\b|[KMG]iB\b)")
BINARY = {"KiB": 1, "MiB": 2, "GiB": 3}  # 1024 ** n bytes
# A number right after one of these words is a version or a name, not a measure.
VERSION_OF = re.compile(
    r"(?:python|pytorch|torch|cuda|rocm|release|releases|version|versions|mkdocs|numpy|"
    r"scikit-learn|jupyter|material|chromium|cudnn|opset|pep|issue|sm_|compute capability)"
    r"\s*[<>=~]*\s*$"
    r"|(?:before|since|until|after)\s+$",  # "since 2.0": a release, where no unit follows
    re.I,
)
# The arithmetic prose shows before an "=": "28 / 8 = 3.5", "-log(1/10) = 2.30", "ln 10 = 2.30".
ARITHMETIC = re.compile(r"(?P<expr>(?:[-+*/x×^() .,]|\bms\b|\d+(?:\.\d+)?e-?\d+|\d|\blog\b|\bln\b)+?)=\s*$")
# Prose regions that are not sentences: inline code, link and image targets, HTML tags,
# attribute lists, the directive comments.
NOT_PROSE = re.compile(r"`[^`]*`|\]\([^)]*\)|<[^>]*>|\{[:.#][^}]*\}|\{ [^}]*\}|https?://\S+")
WORD_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


@dataclasses.dataclass(frozen=True)
class Measure:
    """A number in prose that reads like a run's result."""

    text: str  # as written, e.g. "97.8%"
    value: Decimal  # 97.8
    unit: str  # "%", "x", "ms", "s", ""
    line: int  # page line
    paragraph: int  # which paragraph of the page it is in


def _decimals(text: str) -> int:
    mantissa, _, exp = text.lower().partition("e")
    places = len(mantissa.partition(".")[2])
    return places - int(exp or 0)


def _value(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def _half_unit(text: str) -> Decimal:
    """Half a unit in the last place written: '97.8' -> 0.05, '26' -> 0.5, '1e-4' -> 5e-5."""
    return Decimal(5) * Decimal(10) ** (-_decimals(text.replace(",", "")) - 1)


def measures(doc: Document) -> list[Measure]:
    """Every number in the page's prose that reads like a run's result."""
    found: list[Measure] = []
    paragraph = 0
    for part in doc.parts:
        if not isinstance(part, Prose):
            paragraph += 1
            continue
        for k, raw in enumerate(part.lines):
            paragraph += not raw.strip()
            line = NOT_PROSE.sub(lambda m: " " * len(m[0]), raw)
            for m in NUMBER.finditer(line):
                text, unit = m["n"], _unit(line, m.end())
                if _version(line[: m.start()], unit, line[m.end() :]) or _computed(line[: m.start()], text, unit):
                    continue
                if unit or any(c in text for c in ".,eE"):  # not a plain integer (a count, a size)
                    line_no = doc.page_lines[part.start + k]
                    found.append(Measure(text + "%" * (unit == "%"), _value(text), unit, line_no, paragraph))
    return found


def _unit(line: str, end: int) -> str:
    """The unit written right after a number: "%", "x", "ms", "s", "KiB"... or ""."""
    m = UNIT.match(line, end)
    if not m:
        return ""
    unit = m["unit"]
    return {"×": "x", "us": "µs", "second": "s", "seconds": "s", "minute": "min", "minutes": "min"}.get(unit, unit)


def _version(before: str, unit: str, after: str) -> bool:
    """A release or a name, not a measure: "Python 3.11", "torch 2.13.0", "before 2.6"."""
    if re.match(r"\.\d", after):  # 2.13.0
        return True
    m = VERSION_OF.search(before)
    return bool(m) and (not unit or not m[0].strip().lower().startswith(("before", "since", "until", "after")))


def _computed(before: str, text: str, unit: str) -> bool:
    """The number is the result of the arithmetic the prose writes right before it."""
    m = ARITHMETIC.search(before)
    if not m or not re.search(r"\d", m["expr"]):
        return False
    expr = m["expr"].lstrip(" ,.")
    scale = 1000 if "ms" in expr and unit == "s" else 1  # "96 x 5 ms = 0.48 s"
    expr = expr.replace("ms", "")
    while expr.count("(") > expr.count(")"):  # "(ln 10 = 2.30)": the bracket opens before the sum
        expr = expr[expr.index("(") + 1 :]
    expr = re.sub(r"\b(?:log|ln)\s*(\d+(?:\.\d+)?)", r"log(\1)", expr.replace(",", ""))
    expr = re.sub(r"(?<![\de])x|×", "*", expr).replace("^", "**")
    try:
        tree = ast.parse(expr.strip(), mode="eval")
        if not all(isinstance(n, SAFE) or (isinstance(n, ast.Name) and n.id == "log") for n in ast.walk(tree)):
            return False
        value = eval(compile(tree, "<prose>", "eval"), {"__builtins__": {}, "log": math.log})  # noqa: S307
    except (SyntaxError, ValueError, ZeroDivisionError, TypeError):
        return False
    return abs(Decimal(repr(float(value))) / scale - _value(text)) <= _half_unit(text)


SAFE = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Call, ast.Load, ast.operator, ast.unaryop)


def _numbers(text: str) -> list[str]:
    return WORD_NUMBER.findall(text)


def printed(doc: Document) -> list[str]:
    """The numbers the page shows a run printing (its output blocks, as shown)."""
    return [n for b in doc.blocks if b.check is not None for n in _numbers(b.check.shown)]


def stated(doc: Document) -> list[str]:
    """The numbers of the page's code and of its output markers: its checked claims."""
    marks = [d.text for d in doc.directives if d.name == "output"]
    return [n for text in [b.code for b in doc.blocks] + marks for n in _numbers(text)]


def facts(doc: Document) -> list[tuple[int, str]]:
    """The page's <!--facts: ...--> declarations: (page line, number as written)."""
    out = []
    for d in doc.directives:
        if d.name == "facts":
            out += [(doc.page_lines[d.start], n) for n in _numbers(re.sub(r"\([^)]*\)", " ", d.arg))]
    return out


def _agrees(m: Measure, shown: str) -> bool:
    """`shown` (a number as a page writes it) quoted by `m` to the digits m gives."""
    value, half = _value(shown), _half_unit(m.text.rstrip("%"))
    candidates = [value]
    if m.unit == "%":
        candidates.append(value * 100)
    if m.unit == "ms":
        candidates.append(value * 1000)
    if m.unit == "s":
        candidates.append(value / 1000)
    if m.unit in BINARY:  # the same size printed in a smaller unit: 1531.2 KiB is 1.5 MiB
        candidates += [value / 1024**k for k in range(1, BINARY[m.unit] + 1)]
    return any(abs(c - m.value) <= half for c in candidates)


def _ratio_of(m: Measure, named: list[str]) -> bool:
    """m (a ratio, 'x') is a/b, rounded to the digits m gives, for two numbers named beside it."""
    pairs = itertools.permutations([_value(n) for n in named], 2)
    return any(b and abs(a / b - m.value) <= _half_unit(m.text) for a, b in pairs)


def problems(doc: Document) -> list[Problem]:
    """A measure the page's runs, code and facts do not give; a declared fact never used."""
    given = printed(doc) + stated(doc)
    declared = facts(doc)
    found = measures(doc)
    used: set[int] = set()
    quoted: dict[int, bool] = {}
    for k, m in enumerate(found):
        fact = [j for j, (_, n) in enumerate(declared) if _agrees(m, n)]
        used.update(fact)
        quoted[k] = bool(fact) or any(_agrees(m, s) for s in given)
    problems = []
    for k, m in enumerate(found):
        if quoted[k]:
            continue
        named = [o.text.rstrip("%") for j, o in enumerate(found) if quoted[j] and o.paragraph == m.paragraph]
        if m.unit == "x" and _ratio_of(m, named):
            continue
        unit = "" if m.unit in ("", "%") else (m.unit if m.unit == "x" else " " + m.unit)
        problems.append(
            Problem(
                f"{doc.path}:{m.line}",
                f"the prose quotes {m.text}{unit}, but no output on this page shows it (to the digits"
                " the prose gives), no code or marker of the page states it, and it is no ratio of two"
                " numbers its paragraph quotes: quote what the run printed or, for a number that comes"
                " from no run, declare it with <!--facts: NUMBER (why)-->",
            )
        )
    for j, (line, n) in enumerate(declared):
        if j not in used:
            problems.append(Problem(f"{doc.path}:{line}", f"<!--facts:--> declares {n}, which the prose never quotes"))
    return problems
