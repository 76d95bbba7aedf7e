"""Tests of the pipeline itself: each way a page can lie must fail, and say where.

Each test builds a small sandbox site (this repository's mkdocs.yml, a probe page and its
snippet) in a temp directory, breaks it one way, and checks the failure names the page,
the snippet file and the line.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from pipeline import ROOT, PageError, Site
from pipeline.run import page_runs_script, run
from pipeline.site_checks import build, check_html, third_party_loads

SNIPPET = """\
# --8<-- [start:add]
total = 1 + 1
print(total)
# --8<-- [end:add]

# --8<-- [start:divide]


def divide(a, b):
    return a / b


print(divide(1, 0))
# --8<-- [end:divide]

# --8<-- [start:script]
import sys

if __name__ == "__main__":
    print("run as a file:", sys.argv[1:])
    if sys.argv[1:] == ["--fail"]:
        raise SystemExit(sys.argv[9])
# --8<-- [end:script]

# --8<-- [start:warn]
import warnings

warnings.warn("deprecated thing", DeprecationWarning, stacklevel=1)
# --8<-- [end:warn]
"""


def sandbox(tmp_path: Path, page: str, *, extra: dict | None = None) -> Site:
    """A one-page site using this repository's Markdown settings."""
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    config["nav"] = [{"Probe": "probe.md"}]
    # The repository's hook and theme overrides, by absolute path.
    config["hooks"] = [str(ROOT / h) for h in config.get("hooks", [])]
    config["theme"]["custom_dir"] = str(ROOT / config["theme"]["custom_dir"])
    config.update(extra or {})
    (tmp_path / "docs").mkdir(parents=True)
    (tmp_path / "mkdocs.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (tmp_path / "snippets").mkdir()
    (tmp_path / "snippets" / "probe.py").write_text(SNIPPET, encoding="utf-8")
    (tmp_path / "docs" / "probe.md").write_text(page, encoding="utf-8")
    return Site(tmp_path)


def problems_of(site: Site) -> list[str]:
    page = site.read(site.docs_dir / "probe.md")
    return [str(p) for p in page.problems + run(page).problems]


GOOD = textwrap.dedent(
    """\
    # Probe

    ```python
    --8<-- "snippets/probe.py:add"
    ```

    <!--pytest-codeblocks:expected-output-->

    ```text
    2
    ```
    """
)


def test_a_correct_page_passes(tmp_path):
    assert problems_of(sandbox(tmp_path, GOOD)) == []


def test_a_wrong_output_fails_with_a_diff_naming_the_page(tmp_path):
    site = sandbox(tmp_path, GOOD.replace("\n2\n", "\n3\n"))
    [problem] = problems_of(site)
    # The page line of the line that differs, and the snippet line that printed it.
    assert problem.startswith(
        "docs/probe.md:10: output differs from the page at its line 1, printed by snippets/probe.py:3"
    )
    assert "--- page shows (docs/probe.md:9)" in problem
    assert "+++ code prints (snippets/probe.py:2)" in problem
    assert "\n-3\n+2" in problem


def test_a_raising_snippet_names_the_snippet_file_and_line(tmp_path):
    page = GOOD + '\n```python\n--8<-- "snippets/probe.py:divide"\n```\n'
    [problem] = problems_of(sandbox(tmp_path, page))
    assert problem.startswith("docs/probe.md:13: the block raised ZeroDivisionError at snippets/probe.py:10")
    # The traceback is mapped back to the snippet file, with the page line beside it.
    assert 'File "snippets/probe.py", line 13, in <module>  (shown on docs/probe.md:14)' in problem
    assert 'File "snippets/probe.py", line 10, in divide' in problem
    assert "return a / b" in problem


def test_warnings_are_errors(tmp_path):
    page = GOOD + '\n```python\n--8<-- "snippets/probe.py:warn"\n```\n'
    [problem] = problems_of(sandbox(tmp_path, page))
    assert "raised DeprecationWarning at snippets/probe.py:28" in problem


def test_printed_output_the_page_does_not_show_fails(tmp_path):
    page = GOOD.split("<!--")[0]
    [problem] = problems_of(sandbox(tmp_path, page))
    assert problem.startswith("docs/probe.md:3: the block prints 1 line(s) that the page does not show")


def test_machine_output_is_checked_by_its_claim(tmp_path):
    page = textwrap.dedent(
        """\
    # Probe

    ```python
    --8<-- "snippets/probe.py:add"
    ```

    <!--output:claims
    \\d
    -->

    ```text
    7
    ```
    """
    )
    assert problems_of(sandbox(tmp_path, page)) == []
    # The claim must hold for what is printed...
    assert (
        "line '2' printed does not match the claim /[a-z]+/"
        in problems_of(sandbox(tmp_path / "b", page.replace("\\d", "[a-z]+").replace("\n7\n", "\nx\n")))[0]
    )
    # ... and for what the page shows.
    assert (
        "line 'x' shown on the page does not match"
        in problems_of(sandbox(tmp_path / "c", page.replace("\n7\n", "\nx\n")))[0]
    )


def test_a_missing_section_fails_the_build_naming_the_page(tmp_path):
    site = sandbox(tmp_path, GOOD.replace("probe.py:add", "probe.py:gone"))
    with pytest.raises(PageError, match=r"^docs/probe\.md: Snippet section 'gone' could not be located"):
        site.read(site.docs_dir / "probe.md")
    proc = build(site.root, tmp_path / "site")
    assert proc.returncode != 0
    assert "Error reading page 'probe.md': Snippet section 'gone' could not be located" in proc.stderr


HAND_TYPED = {
    "```python\nprint('typed')\n```": "Python typed into the page",
    "```py\nprint('alias')\n```": "a ```py block is never run",
    '```python title="x.py"\n--8<-- "snippets/probe.py:add"\n```': 'a ```python title="x.py" block is never run',
    "~~~python\nprint('tilde')\n~~~": None,  # invisible to the extractor: only the HTML guard sees it
    "```\nsome unchecked output\n```": "a fence with no language block that no test checks",
}


def test_code_that_bypasses_the_runner_is_caught(tmp_path):
    page = GOOD + "\n" + "\n\n".join(HAND_TYPED) + "\n"
    site = sandbox(tmp_path, page, extra={"extra_javascript": ["https://cdn.example.com/x.js"]})
    found = "\n".join(problems_of(site))
    for fence, message in HAND_TYPED.items():
        if message:
            assert message in found, fence

    # The built HTML shows 5 Python blocks (good, typed, py, title=, ~~~); the tests ran
    # 2 (the typed one too, which the source check above fails): the guard names the first one not run.
    proc = build(site.root, tmp_path / "site")
    assert proc.returncode == 0, proc.stderr
    page_ = site.read(site.docs_dir / "probe.md")
    html_problems = check_html(site, tmp_path / "site", {page_.path: page_})
    assert any("shows 5 Python block(s) but the tests ran 2" in p for p in html_problems), html_problems
    assert any("first one not run: \"print('alias')\"" in p for p in html_problems)
    assert any("text/output block(s)" in p for p in html_problems)

    # A script from another host is caught too.
    assert any("https://cdn.example.com/x.js" in p for p in third_party_loads(tmp_path / "site"))


def test_a_tilde_fence_alone_is_caught_by_the_html_guard(tmp_path):
    site = sandbox(tmp_path, GOOD + "\n~~~python\nprint('tilde')\n~~~\n")
    page = site.read(site.docs_dir / "probe.md")
    assert page.problems == []  # pytest-codeblocks never sees it...
    proc = build(site.root, tmp_path / "site")
    assert proc.returncode == 0, proc.stderr
    # ... but the reader would.
    [problem] = check_html(site, tmp_path / "site", {page.path: page})
    assert "shows 2 Python block(s) but the tests ran 1" in problem
    assert "print('tilde')" in problem


FILE_PAGE = textwrap.dedent(
    """\
    # Probe

    <!--file:probe_script.py-->

    ```python
    --8<-- "snippets/probe.py:script"
    ```

    ```bash
    python probe_script.py --ok
    ```

    <!--pytest-codeblocks:expected-output-->

    ```text
    run as a file: ['--ok']
    ```
    """
)


def test_a_file_block_is_run_by_the_shell_block_that_shows_its_output(tmp_path):
    assert problems_of(sandbox(tmp_path, FILE_PAGE)) == []
    # The output is compared like any other...
    [problem] = problems_of(sandbox(tmp_path / "b", FILE_PAGE.replace("['--ok']\n```", "['--no']\n```")))
    assert problem.startswith("docs/probe.md:16: output differs from the page at its line 1")
    # ... and a traceback from the file names the snippet file and line.
    [problem] = problems_of(sandbox(tmp_path / "c", FILE_PAGE.replace("--ok", "--fail")))
    assert problem.startswith("docs/probe.md:9: the command failed with exit status 1")
    assert 'probe_script.py", line 6, in <module>  (snippets/probe.py:22, shown on docs/probe.md:6)' in problem
    assert "IndexError" in problem


def test_a_file_block_nobody_runs_fails(tmp_path):
    page = FILE_PAGE.split("```bash")[0]
    [problem] = problems_of(sandbox(tmp_path, page))
    assert problem.startswith("docs/probe.md:5: <!--file:probe_script.py--> is never run")


# -- figures and notebooks ----------------------------------------------------------------
PLOT = """\
# --8<-- [start:plot]
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(3, 2))
ax.plot([0, 1, 2], [2, 1, 0.5])
fig.savefig("probe-plot.svg")
# --8<-- [end:plot]
"""

PLOT_PAGE = textwrap.dedent(
    """\
    # Probe

    ```python
    --8<-- "snippets/probe.py:plot"
    ```

    ![A line that falls from 2 to 0.5 over three steps](figures/probe-plot.svg)
    """
)


def drawn_problems(site: Site) -> list[str]:
    from pipeline.figures import check_drawn

    page = site.read(site.docs_dir / "probe.md")
    ran = run(page)
    return [str(p) for p in page.problems + ran.problems + check_drawn(page, ran.drawn)]


def test_a_plot_that_differs_from_its_committed_figure_fails(tmp_path):
    site = sandbox(tmp_path, PLOT_PAGE)
    (site.root / "snippets" / "probe.py").write_text(PLOT, encoding="utf-8")
    (site.docs_dir / "figures").mkdir()
    assert any("figures/probe-plot.svg is not committed" in p for p in drawn_problems(site))
    from pipeline.figures import redraw

    assert redraw(site) == []
    assert drawn_problems(site) == []  # redrawn: the committed figure is what the code draws
    svg = site.docs_dir / "figures" / "probe-plot.svg"
    svg.write_text(svg.read_text(encoding="utf-8").replace("stroke-width", "stroke-opacity", 1), encoding="utf-8")
    problems = drawn_problems(site)
    assert any("docs/probe.md:7: figures/probe-plot.svg differs from what the page's code draws" in p for p in problems)


def test_notebook_of_a_page_runs_and_a_stale_output_fails(tmp_path):
    from pipeline.kernel import execute
    from pipeline.notebooks import notebook

    site = sandbox(tmp_path, GOOD)
    nb, checks = notebook(site, site.docs_dir / "probe.md")
    assert [c.cell_type for c in nb.cells] == ["markdown", "markdown", "code"]
    assert nb.cells[2].source == "total = 1 + 1\nprint(total)"
    assert nb.cells[2].outputs[0].text == "2\n"  # the page's shown output, attached
    work = tmp_path / "work"
    work.mkdir()
    assert execute(site, site.docs_dir / "probe.md", work)[0] == []
    page = site.docs_dir / "probe.md"
    page.write_text(GOOD.replace("\n2\n```", "\n3\n```"), encoding="utf-8")
    problems = [str(p) for p in execute(site, page, work)[0]]
    assert any(p.startswith("docs/probe.md:10: output differs from the page at its line 1") for p in problems)
    assert any("+++ the notebook cell prints" in p for p in problems)


def test_image_without_alt_text_fails(tmp_path):
    site = sandbox(tmp_path, PLOT_PAGE.replace("A line that falls from 2 to 0.5 over three steps", ""))
    (site.root / "snippets" / "probe.py").write_text(PLOT, encoding="utf-8")
    page = site.read(site.docs_dir / "probe.md")
    assert [i.alt for i in page.images] == [""]
    import test_figures

    with pytest.raises(AssertionError, match="does not say what it shows"):
        test_figures.test_every_image_has_alt_text({"docs/probe.md": page})


def test_a_broken_link_or_anchor_fails_the_build(tmp_path):
    site = sandbox(tmp_path, GOOD + "\nSee [nowhere](missing.md) and [here](#no-such-heading).\n")
    proc = build(site.root, tmp_path / "site")
    assert proc.returncode != 0
    assert "missing.md" in proc.stderr and "no-such-heading" in proc.stderr


def test_provenance_is_shown_only_while_the_page_is_unchanged(tmp_path):
    from pipeline import provenance

    site = sandbox(tmp_path, GOOD)
    page = site.docs_dir / "probe.md"
    data = provenance.record(site, [page])
    assert data["torch"].startswith("2.13.0")
    line = provenance.line_for(site, page, data)
    assert line.startswith(f"Verified by the tests with torch {data['torch']} and Python {data['python']}")
    assert provenance.line_for(site, page, None).startswith("Not verified in this build")
    (site.root / "snippets" / "probe.py").write_text(SNIPPET.replace("1 + 1", "1 + 2"), encoding="utf-8")
    assert provenance.line_for(site, page, data).startswith("Changed since the last test run")


def test_the_page_run_stands_in_for_the_script_only_when_it_runs_the_whole_file(tmp_path):
    """run.page_runs_script: a page that runs every line of its snippet, in file order and
    unchanged, is the script's run; a page that leaves a line out, reorders sections or
    shows a section twice is not (the file then runs standalone as well)."""
    sections = ["add", "divide", "script", "warn"]
    whole = "# Probe\n" + "".join(f'\n```python\n--8<-- "snippets/probe.py:{s}"\n```\n' for s in sections)
    site = sandbox(tmp_path / "whole", whole)
    assert page_runs_script(site, site.root / "snippets" / "probe.py") == "docs/probe.md"
    for name, page in {
        "missing": whole.replace('--8<-- "snippets/probe.py:warn"', 'print("no warn")'),
        "reordered": whole.replace(":add", ":tmp").replace(":divide", ":add").replace(":tmp", ":divide"),
        "twice": whole + '\n```python\n--8<-- "snippets/probe.py:add"\n```\n',
    }.items():
        site = sandbox(tmp_path / name, page)
        assert page_runs_script(site, site.root / "snippets" / "probe.py") is None, name


def test_a_page_that_writes_the_whole_file_and_runs_it_stands_in_for_the_script(tmp_path):
    """... also when the page writes every line to a file (<!--file:-->) and a later shell
    block, whose output it shows, runs that file with python; not when nothing checks the
    command's output, or the command runs another file."""
    sections = ["add", "divide", "script", "warn"]
    includes = "".join(f'--8<-- "snippets/probe.py:{s}"\n' for s in sections)
    page = (
        f"# Probe\n\n<!--file:probe_copy.py-->\n\n```python\n{includes}```\n\n"
        "```bash\npython probe_copy.py\n```\n\n<!--pytest-codeblocks:expected-output-->\n\n```text\n2\n```\n"
    )
    site = sandbox(tmp_path / "runs", page)
    assert page_runs_script(site, site.root / "snippets" / "probe.py") == "docs/probe.md"
    for name, variant in {
        "unchecked": page.split("\n<!--pytest-codeblocks")[0] + "\n",
        "other file": page.replace("python probe_copy.py", "python other.py"),
    }.items():
        site = sandbox(tmp_path / name, variant)
        assert page_runs_script(site, site.root / "snippets" / "probe.py") is None, name


# -- output modes (pipeline/checks.py) on a page -------------------------------------------
MODES = """\
# --8<-- [start:third]
print(f"loss {1 / 3:.4f} after 20 epochs")
# --8<-- [end:third]

# --8<-- [start:train]
rate = RATE
for epoch in range(1, 4):
    print(f"epoch {epoch}  loss {rate**epoch:.4f}")
# --8<-- [end:train]
"""

NUMBERS_PAGE = textwrap.dedent(
    """\
    # Probe

    ```python
    --8<-- "snippets/modes.py:third"
    ```

    <!--output:numbers-->

    ```text
    loss 0.3334 after 20 epochs
    ```
    """
)


def modes_sandbox(tmp_path: Path, page: str, rate: float = 0.5) -> Site:
    site = sandbox(tmp_path, page)
    (site.root / "snippets" / "modes.py").write_text(MODES.replace("RATE", str(rate)), encoding="utf-8")
    return site


def test_a_numbers_block_passes_last_digit_noise_and_fails_a_changed_number(tmp_path):
    # The code prints 0.3333: one unit of the last digit shown is noise...
    assert problems_of(modes_sandbox(tmp_path / "a", NUMBERS_PAGE)) == []
    # ... three units are a change, and so is an integer off by one.
    page = NUMBERS_PAGE.replace("0.3334 after 20", "0.3336 after 21")
    [problem] = problems_of(modes_sandbox(tmp_path / "b", page))
    assert problem.startswith("docs/probe.md:3: 2 number(s) differ from the page beyond the precision it shows")
    assert "0.3336 shown, 0.3333 printed (allowed +-0.0001); 21 shown, 20 printed (allowed +-0)" in problem
    assert "--- page shows (docs/probe.md:9)\n+++ code prints (snippets/modes.py:2)" in problem


RUN_PAGE = textwrap.dedent(
    """\
    # Probe

    ```python
    --8<-- "snippets/modes.py:train"
    ```

    <!--output:run
    line: epoch (?P<epoch>\\d+)  loss (?P<loss>[\\d.]+)
    assert: epoch == [1, 2, 3]
    assert: loss[-1] < loss[0] / 2
    -->

    ```text
    epoch 1  loss 0.5000
    epoch 2  loss 0.2500
    epoch 3  loss 0.1250
    ```
    """
)


def test_a_recorded_run_passes_another_healthy_run_and_fails_a_false_assertion(tmp_path):
    assert problems_of(modes_sandbox(tmp_path / "a", RUN_PAGE, rate=0.4)) == []  # other digits, same claims
    [problem] = problems_of(modes_sandbox(tmp_path / "b", RUN_PAGE, rate=0.9))  # the loss barely falls
    assert problem == (
        "docs/probe.md:3: the recorded run's assertion `loss[-1] < loss[0] / 2` fails on what code prints\n"
        "loss = [0.9, 0.81, 0.729]"
    )


def test_a_bad_output_marker_is_a_page_problem_naming_its_line(tmp_path):
    block = '```python\n--8<-- "snippets/probe.py:add"\n```\n\n{marker}\n\n```text\n2\n```\n'
    markers = [
        "<!--output:foo-->",
        "<!--output:run\nline: (?P<total>\\d+)\nassert: total[0] ==\n-->",
        "<!--output:run\nline: (?P<total>\\d+)\nassert: sum(count) == 2\n-->",
        "<!--output:claims\n(\\d\n-->",
    ]
    page = "# Probe\n\n" + "\n".join(block.format(marker=m) for m in markers)
    site = sandbox(tmp_path, page)
    found = [str(p) for p in site.read(site.docs_dir / "probe.md").problems]
    assert found == [
        "docs/probe.md:7: unknown output mode 'foo': use <!--pytest-codeblocks:expected-output--> (exact),"
        " <!--output:numbers-->, <!--output:claims ...--> or <!--output:run ...-->",
        "docs/probe.md:17: assert: 'total[0] ==' does not parse: invalid syntax",
        "docs/probe.md:30: assert: 'sum(count) == 2' uses 'count', which no line: pattern names (groups: total)",
        "docs/probe.md:43: bad regular expression /(\\d/: missing ), unterminated subpattern at position 0",
    ]


def test_a_notebook_runs_scripts_with_the_kernels_own_python(tmp_path, monkeypatch, capfd):
    """The downloaded notebook runs a saved script with {sys.executable}: the tests execute it
    with a PATH whose first `python` has no torch (it fails), as in a virtual environment
    that Jupyter was started from without activating it."""
    from pipeline.kernel import execute
    from pipeline.notebooks import notebook, notebook_shell

    assert notebook_shell("python probe_script.py --ok") == "import sys\n\n!{sys.executable} probe_script.py --ok"
    assert notebook_shell("A=1 B=2 \\\n  torchrun --standalone x.py") == (
        "import sys\n\n!A=1 B=2 {sys.executable} -m torch.distributed.run --standalone x.py"
    )
    site = sandbox(tmp_path, FILE_PAGE)
    nb, _ = notebook(site, site.docs_dir / "probe.md")
    assert "!{sys.executable} probe_script.py --ok" in [c.source for c in nb.cells if c.cell_type == "code"][-1]
    work = tmp_path / "work"
    work.mkdir()
    assert execute(site, site.docs_dir / "probe.md", work)[0] == []
    # The same cell as %%bash would run PATH's python, which the tests make fail. Only in this
    # thread: the suite's jobs write other pages' notebooks in threads of their own meanwhile
    # (patched for all, it once turned docs/reproducibility.md's cell into %%bash in CI).
    import threading

    import pipeline.notebooks

    original, me = pipeline.notebooks.notebook_shell, threading.current_thread()
    monkeypatch.setattr(
        pipeline.notebooks,
        "notebook_shell",
        lambda body: f"%%bash\n{body}" if threading.current_thread() is me else original(body),
    )
    problems = [str(p) for p in execute(site, site.docs_dir / "probe.md", work)[0]]
    assert any("python on PATH is not the kernel's interpreter" in p for p in problems), problems
    # The kernels run over local sockets: no "[IPKernelApp] WARNING | ... TCP without encryption".
    assert "IPKernelApp" not in capfd.readouterr().err


LEAKY_PAGE = textwrap.dedent(
    """\
    # Probe

    | Chapter | What |
    | --- | --- |
    | [Probe](probe.md) | The first row. |

    | [Probe](probe.md) | A row after a blank line. |

    This is ** not bold**, and `**kwargs` in code is fine.
    """
)


def test_markdown_that_shows_as_text_is_caught_naming_the_page_line(tmp_path):
    from pipeline.site_checks import leak_line, markdown_leaks

    site = sandbox(tmp_path, LEAKY_PAGE)
    proc = build(site.root, tmp_path / "site")
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "site" / "probe" / "index.html").read_text(encoding="utf-8")
    leaks = markdown_leaks(html)
    assert [what for what, _ in leaks] == ["a Markdown table row", "Markdown bold markers (**)"]
    page = site.docs_dir / "probe.md"
    assert [leak_line(page, text) for _, text in leaks] == [7, 9]
    # Fixed (no blank line in the table, bold without the space): nothing leaks.
    fixed = LEAKY_PAGE.replace("|\n\n| [Probe]", "|\n| [Probe]").replace("** not bold**", "**not bold**")
    site = sandbox(tmp_path / "fixed", fixed)
    assert build(site.root, tmp_path / "fixed-site").returncode == 0
    assert markdown_leaks((tmp_path / "fixed-site" / "probe" / "index.html").read_text(encoding="utf-8")) == []


def test_a_file_marker_with_spaces_is_a_file_in_the_notebook_too(tmp_path):
    """`<!-- file: NAME.py -->` (with spaces) is a file for the page runner and the notebook
    alike: one reading of the markers (it was a plain cell in the notebook, which failed)."""
    from pipeline.notebooks import notebook

    page = FILE_PAGE.replace("<!--file:probe_script.py-->", "<!-- file: probe_script.py -->")
    assert page != FILE_PAGE
    site = sandbox(tmp_path, page)
    assert problems_of(site) == []
    nb, _ = notebook(site, site.docs_dir / "probe.md")
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert code[0].startswith("%%writefile probe_script.py\n")
    assert not any("<!--" in c.source for c in nb.cells)


def test_a_page_that_cannot_be_expanded_keeps_its_tests_and_the_rest_of_the_suite(tmp_path):
    """A missing snippet section fails that page's tests with its reason; collection (the
    lists of pages the tests are made from) goes on."""
    from pipeline.notebooks import notebook, pages_with_notebooks

    site = sandbox(tmp_path, GOOD.replace("probe.py:add", "probe.py:gone"))
    [page] = pages_with_notebooks(site)
    with pytest.raises(PageError, match=r"^docs/probe\.md: Snippet section 'gone' could not be located"):
        notebook(site, page)


def test_collect_only_runs_no_page():
    """`pytest --collect-only` lists the tests and starts no page run, build or browser."""
    import types

    import conftest

    item = types.SimpleNamespace(originalname="test_page_runs_as_shown", fixturenames=["built_site"])
    session = types.SimpleNamespace(config=types.SimpleNamespace(option=types.SimpleNamespace(collectonly=True)))
    session.items = [item]
    before = conftest.jobs
    conftest.pytest_collection_finish(session)
    assert conftest.jobs is before


def test_a_job_that_dies_fails_only_its_own_pages_tests():
    """One page's timeout (or dead kernel) is that page's problem; the other pages' results
    are still read (they all shared one fixture, and one exception failed every test)."""
    import subprocess
    from concurrent.futures import Future

    from conftest import Jobs

    jobs = Jobs(Site())
    dead, alive = Future(), Future()
    dead.set_exception(subprocess.TimeoutExpired("python", 300))
    alive.set_result([])
    jobs.futures = {("page", "docs/a.md"): dead, ("page", "docs/b.md"): alive}
    assert jobs.result("page", "docs/b.md") == []
    with pytest.raises(pytest.fail.Exception, match=r"^docs/a\.md: its page job did not finish: TimeoutExpired"):
        jobs.result("page", "docs/a.md")
    jobs.close()


def test_a_failing_shell_block_is_reported_once(tmp_path):
    """A shell block that fails, with a block after it: one problem (the failure), not also
    a false 'never ran' for the block after it."""
    page = FILE_PAGE.replace("--ok", "--fail") + '\n```python\n--8<-- "snippets/probe.py:add"\n```\n'
    page += "\n<!--pytest-codeblocks:expected-output-->\n\n```text\n2\n```\n"
    [problem] = problems_of(sandbox(tmp_path, page))
    assert "the command failed with exit status 1" in problem


def test_an_output_marker_with_spaces_is_read_alike_by_the_page_and_its_notebook(tmp_path):
    """`<!-- output:numbers -->` (spaces inside) is the block's check for the runner and for the
    notebook alike (the notebook made it a Markdown cell holding the comment and the output)."""
    from pipeline.notebooks import notebook

    site = sandbox(tmp_path, GOOD.replace("<!--pytest-codeblocks:expected-output-->", "<!-- output:numbers -->"))
    [block] = site.read(site.docs_dir / "probe.md").runs
    assert block.check.mode == "numbers"
    assert problems_of(site) == []
    nb, [index] = notebook(site, site.docs_dir / "probe.md")
    assert not any("<!--" in c.source or "```" in c.source for c in nb.cells)
    assert nb.cells[index].outputs[0].text == "2\n"


def test_problems_are_values_naming_page_and_snippet_lines(tmp_path):
    """A problem carries its page line, its snippet line and its message; nothing parses strings."""
    site = sandbox(tmp_path, GOOD + '\n```python\n--8<-- "snippets/probe.py:divide"\n```\n')
    [problem] = run(site.read(site.docs_dir / "probe.md")).problems
    assert (problem.where, problem.source) == ("docs/probe.md:13", "snippets/probe.py:10")
    assert problem.message.startswith("the block raised ZeroDivisionError")
    assert "Traceback" in problem.detail


def test_a_build_reads_each_page_once(tmp_path, monkeypatch):
    """The hooks read each page once per build (they expanded it three times), and keep what
    they know in one object per build."""
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    import pipeline.document as document

    site = sandbox(tmp_path, GOOD)
    expanded = []
    real = document.expand
    monkeypatch.setattr(document, "expand", lambda s, page: expanded.append(page.name) or real(s, page))
    monkeypatch.chdir(site.root)
    mkdocs_build(load_config(str(site.root / "mkdocs.yml"), site_dir=str(tmp_path / "site")))
    assert expanded == ["probe.md"]
    assert (tmp_path / "site" / "download" / "probe.ipynb").exists()


def test_the_pipeline_reads_in_an_afternoon():
    """No module of the pipeline over 400 lines, no function over 60, and the whole (with
    tests/conftest.py) within its line budget: growth must be paid for."""
    import ast

    files = [*sorted((ROOT / "pipeline").rglob("*.py")), ROOT / "tests" / "conftest.py"]
    problems, total = [], 0
    for path in files:
        text = path.read_text(encoding="utf-8")
        total += text.count("\n")
        if text.count("\n") > 400:
            problems.append(f"{path.relative_to(ROOT)}: {text.count(chr(10))} lines (at most 400)")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno - node.lineno >= 60:
                length = node.end_lineno - node.lineno + 1
                problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.name}() is {length} lines (at most 60)")
    assert not problems, "\n".join(problems)
    assert total <= LINE_BUDGET, f"pipeline/ and tests/conftest.py: {total} lines, over the budget of {LINE_BUDGET}"


# pipeline/ + tests/conftest.py, in lines: what it is now (issue 13 asked for 2,284, the size
# before the check modes, figure tolerances, rules, the writer's loop and the exercises were
# added; +3 for timed runs one at a time; +3288-3066 for pipeline/quotes.py, the prose-number
# guard of issue 21; +7 for make accept indenting inside a folded solution); raise it only
# with a reason in the commit, lower it when code goes.
LINE_BUDGET = 3295


# -- the writer's loop: make accept, make test PAGE=, one report per fault ----------------------
LOOP = """
# --8<-- [start:rows]
rows = [[1, 2, 3], [4, 5, 6]]
print(len(rows), "rows")
print(sum(map(sum, rows)))
# --8<-- [end:rows]

# --8<-- [start:mean]
mean = sum([0.1, 0.2, 0.4]) / 3
print(f"{mean:.4f}")
# --8<-- [end:mean]
"""

LOOP_PAGE = textwrap.dedent(
    """\
    # Probe

    ```python
    --8<-- "snippets/probe.py:rows"
    ```

    <!--pytest-codeblocks:expected-output-->

    ```text
    ```

    ```python
    --8<-- "snippets/probe.py:mean"
    ```

    ```python
    --8<-- "snippets/probe.py:add"
    ```

    <!--output:numbers-->

    ```text
    3
    ```
    """
)


def test_accept_writes_exact_outputs_and_leaves_the_other_modes_to_the_writer(tmp_path):
    from pipeline.accept import accept

    site = sandbox(tmp_path, LOOP_PAGE)
    (site.root / "snippets" / "probe.py").write_text(SNIPPET + LOOP, encoding="utf-8")
    (site.root / "notebooks").mkdir()
    page = site.docs_dir / "probe.md"
    diff, left = accept(site, page)
    text = page.read_text(encoding="utf-8")
    # The empty exact block is filled; the block that printed with no output block gets one...
    assert "```text\n2 rows\n21\n```" in text
    assert (
        '--8<-- "snippets/probe.py:mean"\n```\n\n<!--pytest-codeblocks:expected-output-->\n\n```text\n0.2333\n```'
        in text
    )
    assert "+2 rows" in diff and "+0.2333" in diff
    # ... the numbers block is reported, not rewritten: its text is a run the writer chose.
    assert "<!--output:numbers-->\n\n```text\n3\n```" in text
    assert any("number(s) differ" in line and "output:numbers is not rewritten" in line for line in left), left
    assert (site.root / "notebooks" / "probe.ipynb").exists()
    [problem] = problems_of(site)
    assert "output:numbers" in problem
    # Accepting again changes nothing.
    assert accept(site, page)[0] == ""


def test_accept_indents_what_it_writes_inside_a_folded_solution(tmp_path):
    from pipeline.accept import accept

    folded = LOOP_PAGE.split('```python\n--8<-- "snippets/probe.py:add')[0].replace("\n", "\n    ")
    site = sandbox(tmp_path, folded.replace("# Probe\n    \n", '# Probe\n\n??? success "Solution"\n\n', 1))
    (site.root / "snippets" / "probe.py").write_text(SNIPPET + LOOP, encoding="utf-8")
    (site.root / "notebooks").mkdir()
    page = site.docs_dir / "probe.md"
    accept(site, page)
    text = page.read_text(encoding="utf-8")
    assert "\n    ```text\n    2 rows\n    21\n    ```\n" in text, text
    assert "\n    <!--pytest-codeblocks:expected-output-->\n\n    ```text\n    0.2333\n    ```" in text, text
    assert problems_of(site) == []
    assert accept(site, page)[0] == ""


def test_a_wrong_number_is_reported_at_its_line_naming_the_print_that_printed_it(tmp_path):
    page = LOOP_PAGE.replace("```text\n```", "```text\n2 rows\n22\n```").split(
        '```python\n--8<-- "snippets/probe.py:mean'
    )[0]
    site = sandbox(tmp_path, page)
    (site.root / "snippets" / "probe.py").write_text(SNIPPET + LOOP, encoding="utf-8")
    printing = 1 + (SNIPPET + LOOP).split("\n").index("print(sum(map(sum, rows)))")
    [problem] = problems_of(site)
    assert problem.startswith(
        f"docs/probe.md:11: output differs from the page at its line 2, printed by snippets/probe.py:{printing}"
    ), problem
    assert "\n-22\n+21" in problem


def test_an_exact_output_that_names_the_device_or_a_path_points_to_claims(tmp_path):
    for shown in ("Using cpu device", "tensor([1.], device='cuda:0')", "saved to /home/ada/model.pt"):
        site = sandbox(tmp_path / str(len(shown)), GOOD.replace("```text\n2\n```", f"```text\n{shown}\n```"))
        problems = [str(p) for p in site.read(site.docs_dir / "probe.md").problems]
        assert any("names the machine that ran it" in p and "<!--output:claims-->" in p for p in problems), shown
    for shown in ("all on the CPU: True", "`torch.cuda.amp.autocast(args...)` is deprecated"):
        site = sandbox(tmp_path / f"ok{len(shown)}", GOOD.replace("```text\n2\n```", f"```text\n{shown}\n```"))
        assert site.read(site.docs_dir / "probe.md").problems == [], shown


# -- exercises: a start block, a folded solution, a check that must fail on the start --------
EXERCISE = """
# --8<-- [start:ex-start]
squares = ...  # the squares of 0 to 4, in a list
# --8<-- [end:ex-start]

# --8<-- [start:ex-solution]
squares = [n * n for n in range(5)]
# --8<-- [end:ex-solution]

# --8<-- [start:ex-check]
def check(answer):
    assert isinstance(answer, list), f"expected a list, got {type(answer).__name__}"
    assert answer == [0, 1, 4, 9, 16], f"expected [0, 1, 4, 9, 16], got {answer}"
    print("right: the squares of 0 to 4")


check(squares)
# --8<-- [end:ex-check]
"""

EXERCISE_PAGE = textwrap.dedent(
    """\
    # Probe

    <!--exercise:start-->

    ```python
    --8<-- "snippets/probe.py:ex-start"
    ```

    ??? success "Solution"

        ```python
        --8<-- "snippets/probe.py:ex-solution"
        ```

    <!--exercise:check-->

    ```python
    --8<-- "snippets/probe.py:ex-check"
    ```

    <!--pytest-codeblocks:expected-output-->

    ```text
    right: the squares of 0 to 4
    ```
    """
)


def exercise_site(tmp_path: Path, snippet: str = EXERCISE, page: str = EXERCISE_PAGE) -> Site:
    site = sandbox(tmp_path, page)
    (site.root / "snippets" / "probe.py").write_text(SNIPPET + snippet, encoding="utf-8")
    return site


def test_an_exercise_runs_its_solution_with_its_check_and_the_check_fails_on_the_start(tmp_path):
    from pipeline.kernel import execute

    site = exercise_site(tmp_path)
    assert problems_of(site) == []
    (tmp_path / "work").mkdir()
    assert execute(site, site.docs_dir / "probe.md", tmp_path / "work")[0] == []


def test_a_check_that_passes_on_the_starting_block_fails_in_the_page_and_the_notebook(tmp_path):
    from pipeline.kernel import execute

    lax = EXERCISE.replace('    assert isinstance(answer, list), f"expected a list, got {type(answer).__name__}"\n', "")
    lax = lax.replace('    assert answer == [0, 1, 4, 9, 16], f"expected [0, 1, 4, 9, 16], got {answer}"\n', "")
    site = exercise_site(tmp_path, lax)
    [problem] = problems_of(site)
    assert problem.startswith("docs/probe.md:17: this exercise's check passes on its starting block"), problem
    (tmp_path / "work").mkdir()
    [problem] = execute(site, site.docs_dir / "probe.md", tmp_path / "work")[0]
    assert str(problem).startswith("docs/probe.md:17: this exercise's check passes on its starting block"), problem


def test_an_exercise_needs_its_solution_folded_and_its_start_left_open(tmp_path):
    page = EXERCISE_PAGE.replace(
        '??? success "Solution"\n\n    ```python\n    --8<-- "snippets/probe.py:ex-solution"\n    ```',
        '```python\n--8<-- "snippets/probe.py:ex-solution"\n```',
    )
    site = exercise_site(tmp_path / "a", page=page)
    problems = [str(p) for p in site.read(site.docs_dir / "probe.md").problems]
    assert any("solution goes between its start and its check, folded" in p for p in problems), problems
    site = exercise_site(tmp_path / "b", EXERCISE.replace("squares = ...  #", "squares = None  #"))
    problems = [str(p) for p in site.read(site.docs_dir / "probe.md").problems]
    assert any("leaves `...` where the reader writes" in p for p in problems), problems


def test_a_timed_run_gets_a_second_chance_and_the_summary_names_its_first_failure():
    """A run whose page checks a timing runs again once when it fails (a shared machine can
    stall one measurement); the second run decides, and the first failure is reported."""
    import conftest

    outcomes = iter([["docs/probe.md:9: line 'faster: False' does not match"], []])
    before = list(conftest.retried)
    run = conftest.second_chance(lambda site, path: next(outcomes))
    assert run(Site(), ROOT / "docs" / "cpu-gpu.md") == []
    [note] = conftest.retried[len(before) :]
    assert note.startswith("docs/cpu-gpu.md: failed once, passed on a second run:") and "faster: False" in note
    conftest.retried[:] = before
    always = conftest.second_chance(lambda site, path: ["still wrong"])
    assert always(Site(), ROOT / "docs" / "cpu-gpu.md") == ["still wrong"]
