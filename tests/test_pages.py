"""Every page: its Python blocks run in order, as published, and print what the page shows."""

from __future__ import annotations

import pytest

from pipeline import Site, quotes

PAGES = [Site().rel(p) for p in Site().pages()]


@pytest.mark.job("page")
@pytest.mark.parametrize("page", PAGES)
def test_page_runs_as_shown(page, job):
    problems = job.result("page", page)
    if problems:
        pytest.fail("\n\n".join(map(str, problems)), pytrace=False)


@pytest.mark.parametrize("page", PAGES)
def test_prose_quotes_only_what_its_runs_print(page, pages):
    """A number the prose quotes from a run (0.9778, 97.8%, 26x, 67.01 ms, 16,455) is one the
    page's outputs show, to the digits given, or a ratio of two its paragraph quotes, or a
    number its code or a marker states, or a declared <!--facts:--> (pipeline/quotes.py)."""
    doc = pages.get(page)
    if doc is None:
        pytest.skip(f"{page} cannot be read: test_page_runs_as_shown says why")
    problems = quotes.problems(doc)
    if problems:
        pytest.fail("\n".join(map(str, problems)), pytrace=False)


def test_pages_were_found():
    # A suite that discovers nothing must not pass.
    assert "docs/index.md" in PAGES
    assert len(PAGES) >= 4


# Pages with code that end without exercises: the home page and "Why PyTorch" show code, but
# teach no API a reader could practise yet.
NO_EXERCISES = {"docs/index.md", "docs/why-pytorch.md"}


@pytest.mark.parametrize("page", PAGES)
def test_a_chapter_ends_with_a_recap_and_exercises(page, pages):
    """Every chapter with code ends with "## Recap" (3 to 5 lines), then 2 to 4 exercises
    (each a start block, a folded solution and a check: pipeline/rules.py), then "## Next steps"."""
    doc = pages.get(page)
    if doc is None or not doc.python or page in NO_EXERCISES:
        pytest.skip("no chapter with code" if page not in NO_EXERCISES else "exempt: " + page)
    headings = [line for line in doc.lines if line.startswith("## ")]
    tail = [h for h in headings if h in ("## Recap", "## Exercises", "## Next steps")]
    assert tail == ["## Recap", "## Exercises", "## Next steps"] and headings[-1] == "## Next steps", (
        f"{page}: a chapter ends with ## Recap, ## Exercises and ## Next steps, in that order; it has {headings[-4:]}"
    )
    recap = doc.lines[doc.lines.index("## Recap") + 1 : doc.lines.index("## Exercises")]
    items = [line for line in recap if line.startswith("- ")]
    assert 3 <= len(items) <= 5, f"{page}: the recap has {len(items)} points, not 3 to 5"
    exercises = sum(b.exercise == "start" for b in doc.python)
    assert 2 <= exercises <= 4, f"{page}: {exercises} exercises, not 2 to 4"
