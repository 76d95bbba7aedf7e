"""Tests of the output comparator (pipeline/checks.py): each mode must catch what it must
and pass what it should. No page runs here: the checks are called directly."""

from __future__ import annotations

import io
import math

import pytest

from pipeline import ROOT, checks
from pipeline.checks import Check, MarkerError

WHERE = "docs/probe.md:3"  # the code block
SOURCE = "snippets/probe.py:2"  # the snippet line it starts at
SHOWN_AT = 9  # the page line of the output fence


def problems(check: Check, printed: str) -> list[str]:
    return [str(p) for p in check.compare(printed, WHERE, SOURCE)]


# -- exact ---------------------------------------------------------------------------------
def test_exact_passes_the_same_text_up_to_trailing_space_and_blank_lines():
    check = Check(checks.EXACT, "tensor([1, 2, 3])\nshape (3,)\n", SHOWN_AT)
    assert problems(check, "tensor([1, 2, 3])   \nshape (3,)\n\n\n") == []


def test_exact_fails_a_changed_digit_with_a_diff():
    check = Check(checks.EXACT, "tensor([1, 2, 3])\nshape (3,)\n", SHOWN_AT)
    [problem] = problems(check, "tensor([1, 2, 4])\nshape (3,)\n")
    # At the page line of the line that differs (the fence is at SHOWN_AT); the snippet line
    # that printed it is the block's first where the runner could not tell.
    assert problem.startswith(
        f"docs/probe.md:{SHOWN_AT + 1}: output differs from the page at its line 1, printed by {SOURCE}\n"
    )
    assert "--- page shows (docs/probe.md:9)" in problem
    assert f"+++ code prints ({SOURCE})" in problem
    assert "\n-tensor([1, 2, 3])\n+tensor([1, 2, 4])\n shape (3,)" in problem


# -- numbers -------------------------------------------------------------------------------
def numbers(shown: str, marker: str = "<!--output:numbers-->") -> Check:
    return checks.parse(marker, shown, SHOWN_AT)


@pytest.mark.parametrize("printed", ["0.5217", "0.5218", "0.5216"])
def test_numbers_pass_a_last_digit_difference_within_the_shown_precision(printed):
    assert problems(numbers(f"loss {printed}\n"), "loss 0.5217\n") == []
    assert problems(numbers("loss 0.5217\n"), f"loss {printed}\n") == []  # either way round


def test_numbers_fail_a_difference_beyond_the_shown_precision_naming_both_numbers():
    [problem] = problems(numbers("loss 0.5217\n"), "loss 0.5220\n")
    assert problem.startswith(f"{WHERE}: 1 number(s) differ from the page beyond the precision it shows")
    assert "0.5217 shown, 0.5220 printed (allowed +-0.0001)" in problem
    assert "--- page shows (docs/probe.md:9)" in problem and "\n-loss 0.5217\n+loss 0.5220" in problem


def test_numbers_precision_follows_the_digits_and_exponent_shown():
    # A page showing fewer digits accepts more: "0.52" is one unit of 0.01.
    assert problems(numbers("0.52\n"), "0.5217\n") == []
    assert problems(numbers("0.52\n"), "0.5317\n") != []
    # In scientific notation the unit is that of the last digit of the mantissa times the exponent.
    assert problems(numbers("5.2170e-01\n"), "5.2171e-01\n") == []
    assert "allowed +-1e-05" in problems(numbers("5.2170e-01\n"), "5.2180e-01\n")[0]
    # Every number is checked, not only the first; a sign counts.
    shown = "tensor([ 0.5217, -1.0000,  0.2500])\n"
    assert problems(numbers(shown), "tensor([ 0.5218, -0.9999,  0.2501])\n") == []
    [problem] = problems(numbers(shown), "tensor([ 0.5218, -1.0000,  0.2502])\n")
    assert "1 number(s) differ" in problem and "0.2500 shown, 0.2502 printed" in problem
    assert "0.5217 shown" not in problem
    [problem] = problems(numbers("loss -0.5217\n"), "loss 0.5217\n")
    assert "-0.5217 shown, 0.5217 printed" in problem


@pytest.mark.parametrize(
    "shown, printed",
    [
        ("train loss 0.5217\n", "test loss 0.5217\n"),  # a changed word
        ("loss 0.5217 after 3 epochs\n", "loss 0.5217 after 3 epoch\n"),
        ("loss: 0.5217\n", "loss 0.5217\n"),  # punctuation
        ("tensor([0.5217])\n", "tensor([0.5217], dtype=torch.float64)\n"),
        ("0.5217\n", "0.5217\n0.5217\n"),  # a line more
        ("0.5217 0.1\n", "0.5217\n"),  # a number less
    ],
)
def test_numbers_text_between_the_numbers_must_match_exactly(shown, printed):
    [problem] = problems(numbers(shown), printed)
    assert problem.startswith(f"{WHERE}: output differs from the page in its text, not only in its numbers")
    assert "--- page shows (docs/probe.md:9)" in problem


@pytest.mark.parametrize(
    "shown, printed",
    [
        ("20 epochs\n", "21 epochs\n"),
        ("tensor([1., 2.])\n", "tensor([1.9000, 2.0000])\n"),  # doctest NUMBER's trap: "1." would accept 0 to 2
        ("tensor([1., 2.])\n", "tensor([1.0001, 2.0000])\n"),
        ("lr 1e-05\n", "lr 1.1e-05\n"),
    ],
)
def test_numbers_a_number_shown_without_decimals_must_be_equal(shown, printed):
    [problem] = problems(numbers(shown), printed)
    assert "(allowed +-0)" in problem, problem


def test_numbers_a_number_shown_without_decimals_passes_when_equal():
    assert problems(numbers("20 epochs, tensor([1., 2.]), lr 1e-05\n"), "20 epochs, tensor([1., 2.]), lr 1e-05\n") == []
    assert problems(numbers("tensor([1., 2.])\n"), "tensor([1.0000, 2.0000])\n") == []  # the same values


def test_numbers_words_with_digits_are_text_not_numbers():
    # float32 and x2 are words: a changed digit in them is a changed text.
    [problem] = problems(numbers("dtype float32, 0.5217\n"), "dtype float64, 0.5217\n")
    assert "in its text, not only in its numbers" in problem
    [problem] = problems(numbers("x2 0.5217\n"), "x3 0.5217\n")
    assert "in its text" in problem


def test_numbers_use_the_rtol_and_atol_of_the_marker():
    rtol = numbers("loss 0.5217\n", "<!--output:numbers rtol=0.02-->")
    assert (rtol.rtol, rtol.atol) == (0.02, None)
    assert problems(rtol, "loss 0.5300\n") == []  # 1.6% off: within 2%, beyond the last digit
    [problem] = problems(rtol, "loss 0.5400\n")  # 3.5% off
    assert "0.5217 shown, 0.5400 printed (allowed +-0.010434)" in problem

    both = numbers("0.0000 1000.0\n", "<!--output:numbers rtol=1e-3 atol=1e-6-->")
    assert problems(both, "0.0000005 1000.9\n") == []
    assert problems(both, "0.000002 1000.0\n") != []  # beyond atol
    assert problems(both, "0.0000 1001.1\n") != []  # beyond rtol * 1000 + atol

    # A tolerance in the marker replaces the shown precision: atol=0 is exact.
    assert problems(numbers("loss 0.5217\n", "<!--output:numbers atol=0-->"), "loss 0.5218\n") != []


def test_numbers_are_symmetric():
    """The shown text passes its own check, and a printed text that differs fails whichever
    side has the extra line or number."""
    shown = "epoch 1 loss 0.5217\nepoch 2 loss 0.3120\n"
    assert problems(numbers(shown), shown) == []
    assert problems(numbers(shown), "epoch 1 loss 0.5217\n") != []
    assert problems(numbers("epoch 1 loss 0.5217\n"), shown) != []
    assert problems(numbers("0.5217\n"), "0.5220\n") != [] and problems(numbers("0.5220\n"), "0.5217\n") != []


def test_numbers_a_negative_zero_is_zero():
    assert problems(numbers("tensor([0.0000, 1.0000])\n"), "tensor([-0.0000, 1.0000])\n") == []


# -- claims --------------------------------------------------------------------------------
CLAIMS = "<!--output:claims\ntorch \\d+\\.\\d+\\.\\d+\\S*\ndevice: (cpu|cuda|mps)\n-->"


def test_claims_pass_when_shown_and_printed_match_their_lines():
    check = checks.parse(CLAIMS, "torch 2.13.0\ndevice: cuda\n", SHOWN_AT)
    assert check.patterns == ("torch \\d+\\.\\d+\\.\\d+\\S*", "device: (cpu|cuda|mps)")
    assert problems(check, "torch 2.14.1+cpu\ndevice: cpu\n") == []


def test_claims_fail_a_printed_line_that_does_not_match_in_full():
    check = checks.parse(CLAIMS, "torch 2.13.0\ndevice: cuda\n", SHOWN_AT)
    [problem] = problems(check, "torch 2.13.0\ndevice: tpu\n")
    # ... and shows every line printed, for the context (a timing claim's numbers, say).
    assert problem == (
        f"{WHERE}: line 'device: tpu' printed does not match the claim /device: (cpu|cuda|mps)/"
        "\ntorch 2.13.0\ndevice: tpu"
    )
    # A pattern matches the whole line, not a part of it.
    [problem] = problems(check, "torch 2.13.0\ndevice: cuda:1\n")
    assert "line 'device: cuda:1' printed does not match" in problem


def test_claims_fail_a_shown_line_that_does_not_match_even_when_the_printed_one_does():
    check = checks.parse(CLAIMS, "torch 2.13.0\ndevice: gpu\n", SHOWN_AT)
    [problem] = problems(check, "torch 2.13.0\ndevice: cuda\n")
    assert "line 'device: gpu' shown on the page does not match the claim" in problem


def test_claims_fail_a_wrong_number_of_lines():
    check = checks.parse(CLAIMS, "torch 2.13.0\ndevice: cuda\n", SHOWN_AT)
    [problem] = problems(check, "torch 2.13.0\ndevice: cuda\nextra line\n")
    assert problem.startswith(f"{WHERE}: 2 pattern(s) in <!--output:claims--> but 3 line(s) printed")
    [problem] = problems(check, "torch 2.13.0\n")
    assert "2 pattern(s) in <!--output:claims--> but 1 line(s) printed" in problem
    short = checks.parse(CLAIMS, "torch 2.13.0\n", SHOWN_AT)
    [problem] = problems(short, "torch 2.13.0\ndevice: cuda\n")
    assert "but 1 line(s) shown on the page" in problem


# -- recorded runs -------------------------------------------------------------------------
RUN = """<!--output:run
line: epoch +(?P<epoch>\\d+) +loss (?P<loss>[\\d.]+) +accuracy (?P<accuracy>[\\d.]+)
assert: epoch == list(range(1, 31))
assert: loss[0] > 2.0 and loss[-1] < loss[0] / 10
assert: accuracy[-1] >= 0.975
-->"""


def run_text(epochs: int = 30, loss0: float = 2.3, decay: float = 0.15, top: float = 0.98, rate: float = 0.25) -> str:
    """A training log: loss falling from loss0, accuracy rising to top."""
    lines = []
    for e in range(1, epochs + 1):
        loss, accuracy = loss0 * math.exp(-decay * (e - 1)), top - 0.85 * math.exp(-rate * (e - 1))
        lines.append(f"epoch {e:>2}  loss {loss:.4f}  accuracy {accuracy:.4f}\n")
    return "".join(lines)


RECORDED = run_text()


def test_run_values_are_lists_of_numbers_in_order():
    found, unmatched = checks.values(checks.parse(RUN, RECORDED), RECORDED)
    assert unmatched == []
    assert found["epoch"] == list(range(1, 31))
    assert found["loss"][:2] == [2.3, 1.9796] and isinstance(found["accuracy"][0], float)


def test_run_passes_a_different_but_healthy_run():
    other = run_text(loss0=2.31, decay=0.16, top=0.978, rate=0.27)
    assert other != RECORDED and len(other.splitlines()) == 30
    check = checks.parse(RUN, RECORDED, SHOWN_AT)
    assert problems(check, other) == []
    assert check.verbatim(RECORDED) and not check.verbatim(other)


def test_run_fails_a_run_trained_for_2_epochs_naming_the_assertion():
    check = checks.parse(RUN, RECORDED, SHOWN_AT)
    found = problems(check, run_text(epochs=2))
    assert len(found) == 3  # every assertion fails on that run, none on the page's
    assert found[0].startswith(
        f"{WHERE}: the recorded run's assertion `epoch == list(range(1, 31))` fails on what code prints\n"
    )
    assert found[0].endswith("epoch = [1, 2]")
    assert "`loss[0] > 2.0 and loss[-1] < loss[0] / 10` fails on what code prints\nloss = [2.3, 1.9796]" in found[1]
    assert "`accuracy[-1] >= 0.975` fails on what code prints" in found[2]


def test_run_fails_a_line_that_matches_no_pattern():
    check = checks.parse(RUN, RECORDED, SHOWN_AT)
    printed = RECORDED.replace("epoch 17", "early stopping\nepoch 17")
    [problem] = problems(check, printed)
    assert problem == f"{WHERE}: 1 line(s) that code prints match no line: pattern of the recorded run\nearly stopping"
    # Blank lines do not count.
    assert problems(check, RECORDED.replace("epoch 17", "\nepoch 17")) == []


def test_run_an_assertion_that_raises_fails_with_the_error():
    check = checks.parse(RUN.replace("accuracy[-1]", "accuracy[40]"), RECORDED, SHOWN_AT)
    found = problems(check, RECORDED)
    assert any("`accuracy[40] >= 0.975` fails on what the page shows\nIndexError" in p for p in found)


def test_run_the_page_must_show_a_run_that_passes_its_own_assertions():
    check = checks.parse(RUN, run_text(epochs=2), SHOWN_AT)
    found = problems(check, RECORDED)  # the code's run is fine; the page's is not
    assert found and all("fails on what the page shows" in p for p in found)
    assert "`epoch == list(range(1, 31))` fails on what the page shows" in found[0]
    # ... and a shown line no pattern matches fails too.
    check = checks.parse(RUN, RECORDED + "Done in 3.2 s\n", SHOWN_AT)
    [problem] = problems(check, RECORDED)
    assert "1 line(s) that the page shows match no line: pattern" in problem


def test_run_assertions_see_only_the_groups_and_safe_builtins():
    # parse() refuses a name no group defines; an assertion that gets past it still cannot
    # reach open() or __import__: it fails, on both texts.
    patterns = checks.parse(RUN, RECORDED).patterns
    check = Check(checks.RUN, RECORDED, SHOWN_AT, patterns=patterns, asserts=("open('x') is None",))
    found = problems(check, RECORDED)
    assert len(found) == 2 and all("NameError: name 'open' is not defined" in p for p in found)


def test_run_an_assertion_with_a_comprehension_parses():
    # The comprehension's own names (a, or the pair t, p) are not groups, and need not be.
    for expr in ("all(a <= 1 for a in accuracy)", "all(t != p for t, p in zip(loss, loss[1:]))"):
        marker = RUN.replace("assert: accuracy[-1] >= 0.975", f"assert: {expr}")
        check = checks.parse(marker, RECORDED, SHOWN_AT)
        assert check.asserts[-1] == expr
        assert problems(check, RECORDED) == []
    # ... but a name used in it still has to be one.
    with pytest.raises(MarkerError, match="uses 'acc'"):
        checks.parse(RUN.replace("accuracy[-1] >= 0.975", "all(a <= 1 for a in acc)"), RECORDED)


def test_run_an_assertion_can_use_the_groups_inside_a_generator():
    patterns = checks.parse(RUN, RECORDED).patterns
    check = Check(checks.RUN, RECORDED, SHOWN_AT, patterns=patterns, asserts=("all(x <= loss[0] for x in loss)",))
    assert problems(check, RECORDED) == []


# -- markers -------------------------------------------------------------------------------
GROUPS = "line: epoch (?P<epoch>\\d+) loss (?P<loss>[\\d.]+)\n"


@pytest.mark.parametrize(
    "marker, message",
    [
        ("<!--output:foo-->", "unknown output mode 'foo': use <!--pytest-codeblocks:expected-output--> (exact)"),
        ("<!--output:-->", "unknown output mode ''"),
        ("<!--output:machine\ncpu\n-->", "unknown output mode 'machine' (output:machine is now output:claims)"),
        ("<!--output:claims\n(unclosed\n-->", "bad regular expression /(unclosed/: missing )"),
        ("<!--output:run\nline: (?P<x\\d+\nassert: x\n-->", "bad regular expression /(?P<x\\d+/"),
        (f"<!--output:run\n{GROUPS}assert: loss[-1] <\n-->", "assert: 'loss[-1] <' does not parse: invalid syntax"),
        (
            f"<!--output:run\n{GROUPS}assert: accuracy[-1] > 0.9\n-->",
            "assert: 'accuracy[-1] > 0.9' uses 'accuracy', which no line: pattern names (groups: epoch, loss)",
        ),
        (f"<!--output:run\n{GROUPS}assert: loss.__class__\n-->", "no private attributes"),
        ("<!--output:numbers tol=1e-3-->", "output:numbers: unknown option 'tol=1e-3'"),
        ("<!--output:numbers rtol=abc-->", "output:numbers: rtol='abc' is not a number"),
        ("<!--output:numbers atol=-1-->", "output:numbers: atol must be >= 0"),
        ("<!--output:claims rtol=1e-3\n\\d\n-->", "output:claims: unknown option 'rtol=1e-3'"),
        ("<!--output:numbers\n\\d\n-->", "output:numbers takes only rtol=... atol=... on its first line, no body"),
        ("<!--output:claims\n-->", "output:claims needs one regular expression per output line"),
        (f"<!--output:run\n{GROUPS}-->", "output:run needs at least one 'line:' pattern and one 'assert:'"),
        ("<!--output:run\nassert: True\n-->", "output:run needs at least one 'line:' pattern"),
        (f"<!--output:run\n{GROUPS}check: len(loss) == 3\n-->", "each line is 'line: REGEX' or 'assert: EXPRESSION'"),
        ("<!--pytest-codeblocks:expected-output-->", "not an output marker"),
    ],
)
def test_a_bad_marker_raises_a_clear_marker_error(marker, message):
    with pytest.raises(MarkerError) as e:
        checks.parse(marker, "epoch 1 loss 0.5\n", SHOWN_AT)
    assert message in str(e.value)


def test_good_markers_parse():
    assert checks.parse("<!--output:numbers-->", "1\n", 4) == Check(checks.NUMBERS, "1\n", 4)
    assert checks.parse("<!-- output:numbers  rtol=1e-3 atol=1e-6 -->", "1\n").atol == 1e-6
    run = checks.parse(f"<!--output:run\n{GROUPS}assert: len(epoch) == 1 and loss[0] < 1\n-->", "epoch 1 loss 0.5\n")
    assert run.asserts == ("len(epoch) == 1 and loss[0] < 1",)
    # Pairs in zip() are not comprehension targets: this form is fine.
    checks.parse(f"<!--output:run\n{GROUPS}assert: sorted(loss, key=lambda v: -v) == loss\n-->", "")


def test_numbers_a_version_is_not_a_number():
    # The module says a number is not "part of a longer dotted name"; torch 2.14.0 is not 2.13.0.
    assert problems(numbers("torch 2.13.0\n"), "torch 2.14.0\n") != []


# -- figures -------------------------------------------------------------------------------
def draw(monkeypatch, lr: float, scale: float = 1.0, ylim: tuple[float, float] | None = None) -> bytes:
    """A loss curve exp(-lr t) as SVG bytes, drawn with the repository's matplotlibrc."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with matplotlib.rc_context(fname=str(ROOT / "pipeline" / "matplotlibrc")):
        t = list(range(60))
        fig, ax = plt.subplots(figsize=(3, 2))
        ax.plot(t, [scale * math.exp(-lr * s) for s in t])
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        if ylim:
            ax.set_ylim(*ylim)
        buf = io.BytesIO()
        fig.savefig(buf, format="svg")
        plt.close(fig)
    return buf.getvalue()


def test_compare_svg_identical_bytes_pass(monkeypatch):
    svg = draw(monkeypatch, 0.1)
    assert draw(monkeypatch, 0.1) == svg  # reproducible bytes
    assert checks.compare_svg(svg, svg) is None


def test_compare_svg_passes_last_digit_noise(monkeypatch):
    committed = draw(monkeypatch, 0.1, ylim=(0, 1.1))
    noisy = draw(monkeypatch, 0.1, scale=1 + 1e-7, ylim=(0, 1.1))
    assert noisy != committed  # the coordinates moved in their last digits...
    assert checks.compare_svg(committed, noisy) is None  # ... which is not a change


def test_compare_svg_fails_a_changed_curve(monkeypatch):
    committed = draw(monkeypatch, 0.1, ylim=(0, 1.1))
    # Half the learning rate: the same axes, ticks and text; the curve moves by whole points.
    why = checks.compare_svg(committed, draw(monkeypatch, 0.05, ylim=(0, 1.1)))
    assert why is not None and why.startswith("a coordinate moved by") and why.endswith("(tolerance 0.01 SVG units)")
    # Without fixed limits the ticks change too: the text differs.
    why = checks.compare_svg(draw(monkeypatch, 0.1), draw(monkeypatch, 0.05))
    assert why is not None and why.startswith("its structure or text differs")
    # A small but real change (1%) is beyond the tolerance.
    assert checks.compare_svg(committed, draw(monkeypatch, 0.1, scale=1.01, ylim=(0, 1.1))) is not None


# -- the pages' own recorded runs -----------------------------------------------------------
def test_the_digits_run_fails_when_trained_for_2_epochs_instead_of_30():
    """The 30-epoch log on docs/digits.md is a recorded run: its own text passes its
    assertions, and the first 2 epochs of it (a run cut short) do not."""
    from pipeline import Site

    page = Site().read(ROOT / "docs" / "digits.md")
    [run] = [b for b in page.runs if b.check and b.check.mode == checks.RUN and "epoch 30" in b.check.shown]
    assert run.check.compare(run.check.shown, run.where) == []
    two_epochs = "\n".join(checks.norm(run.check.shown)[:2])
    failed = [str(p) for p in run.check.compare(two_epochs, run.where)]
    assert any("`epoch == list(range(1, 31))` fails on what code prints" in p for p in failed), failed
