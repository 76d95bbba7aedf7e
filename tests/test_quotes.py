"""Tests of the prose-number guard (pipeline/quotes.py): a number the prose quotes from a run
must be one the page shows that run printing, to the digits the prose gives.

No code runs here: the guard reads a page's prose against its output blocks as shown, and
each output block is compared with its run by the page's own tests.
"""

from __future__ import annotations

import textwrap

import pytest
from test_pipeline import sandbox

from pipeline import quotes

SNIPPET = """\
# --8<-- [start:times]
eager, compiled = 6701 / 100, 253 / 100
print(f"eager {eager:.2f} ms, compiled {compiled:.2f} ms")
# --8<-- [end:times]

# --8<-- [start:train]
print("accuracy", 9778 / 10_000)
# --8<-- [end:train]
"""

PAGE = """\
# Probe

```python
--8<-- "snippets/probe.py:times"
```

<!--pytest-codeblocks:expected-output-->

```text
eager 67.01 ms, compiled 2.53 ms
```

{times}

```python
--8<-- "snippets/probe.py:train"
```

<!--output:run
line: accuracy (?P<accuracy>[\\d.]+)
assert: accuracy[0] > 0.9
-->

```text
accuracy {accuracy}
```

{train}
"""


def problems(tmp_path, times="", train="", accuracy="0.9778", extra=""):
    page = PAGE.format(times=times, train=train, accuracy=accuracy) + textwrap.dedent(extra)
    site = sandbox(tmp_path / str(len(list(tmp_path.iterdir()))), page)
    (site.root / "snippets" / "probe.py").write_text(SNIPPET, encoding="utf-8")
    return [str(p) for p in quotes.problems(site.read(site.docs_dir / "probe.md"))]


def test_a_quote_of_the_printed_numbers_passes(tmp_path):
    times = "The eager forward took 67.01 ms against 2.53 ms compiled (26x), about 67 ms."
    assert problems(tmp_path, times, "It ends at 97.8% accuracy, or 0.978.") == []


def test_a_misquoted_time_fails_naming_the_page_line(tmp_path):
    [problem] = problems(tmp_path, "The eager forward took 67.1 ms.")
    assert problem.startswith("docs/probe.md:13: the prose quotes 67.1 ms, but no output on this page shows it")


@pytest.mark.parametrize("ratio", ["27x", "2.6x", "25x"])
def test_a_ratio_must_be_one_of_two_numbers_its_paragraph_quotes(tmp_path, ratio):
    [problem] = problems(tmp_path, f"67.01 against 2.53 ms ({ratio}).")
    assert f"quotes {ratio}," in problem
    # The same ratio with only one of its numbers named is not taken as theirs either.
    assert problems(tmp_path, "The eager forward took 67.01 ms (26x).") != []


def test_a_quote_of_a_recorded_run_fails_once_the_run_changes(tmp_path):
    train = "It ends at 97.8% accuracy."
    assert problems(tmp_path, train=train) == []
    [problem] = problems(tmp_path, train=train, accuracy="0.9833")
    assert "the prose quotes 97.8%, but" in problem


def test_facts_that_come_from_no_run_are_declared_and_used(tmp_path):
    extra = """
    <!--facts: 1,797 (scikit-learn's digits) 65,504 (float16's largest value)-->

    The 1,797 images of 8x8 pixels in 10 classes; float16 ends at 65,504. Python 3.11 and
    torch 2.13.0 are versions; before 2.6 is a release; 28 / 8 = 3.5 and ln 10 = 2.30 show
    their sums, as does 100 x 2.53 ms = 0.253 s. 30 epochs, batches of 64.
    """
    assert problems(tmp_path, extra=extra) == []
    [problem] = problems(tmp_path, extra=extra.replace("1,797 images", "images"))
    assert problem == "docs/probe.md:30: <!--facts:--> declares 1,797, which the prose never quotes"
    [problem] = problems(tmp_path, extra=extra.replace(" 1,797 (scikit-learn's digits)", ""))
    assert "the prose quotes 1,797, but" in problem


def test_numbers_in_code_links_and_markers_are_not_prose(tmp_path):
    extra = "Run `sleep(12.5)` and see [the docs](https://example.org/1.5): the bound is 0.9."
    assert problems(tmp_path, extra=extra) == []
    assert "quotes 4.25," in problems(tmp_path, extra="A wrong sum: 28 / 8 = 4.25.")[0]
