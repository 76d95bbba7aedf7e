"""Run one page's blocks in a fresh interpreter, as a reader working down the page.

Usage: python -u -W error runner.py SPEC.json RESULT.json

SPEC.json holds the page's blocks in order (pipeline/run.py): their kind (python, file,
shell), code and, for every code line, where it comes from (snippet file and line, page
line). Python blocks run one after the other in one namespace; a file block is written to
its file; a shell block runs in bash. Each block's output is captured at the
file-descriptor level, so what child processes and C code print is caught too. The first
block that fails stops the run; its traceback names the snippet file and line of each frame.
"""

from __future__ import annotations

import contextlib
import json
import linecache
import os
import re
import subprocess
import sys
import tempfile
import traceback
import types


@contextlib.contextmanager
def capture(box: dict):
    """Send fd 1 and 2 to temporary files for one block; then box["stdout"], box["stderr"]."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        try:
            yield box
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            for fd, copy in zip((1, 2), saved):
                os.dup2(copy, fd)
                os.close(copy)
            for name, f in (("stdout", out), ("stderr", err)):
                f.seek(0)
                box[name] = f.read().decode("utf-8", "replace")


class LineOrigins:
    """sys.stdout, noting for each line a block prints the block line that printed it: the
    innermost frame of the page's code (a print inside a function of an earlier block names
    that block's line). Lines that child processes or C code print are not noted."""

    def __init__(self, stream, blocks: list[dict]):
        self.stream, self.blocks, self.lines = stream, blocks, []

    def write(self, text: str) -> int:
        if "\n" in text:
            frame = sys._getframe(1)
            while frame is not None and not frame.f_code.co_filename.startswith("<block "):
                frame = frame.f_back
            loc = frame and where(self.blocks[int(frame.f_code.co_filename[7:-1])], frame.f_lineno)
            self.lines += [[loc["file"], loc["line"]] if loc else None] * text.count("\n")
        return self.stream.write(text)

    def __getattr__(self, name: str):
        return getattr(self.stream, name)


def where(block: dict | None, lineno: int | None) -> dict | None:
    """A line of a block -> its snippet file and line, and its page and page line."""
    if block is None or lineno is None or not 1 <= lineno <= len(block["origins"]):
        return None
    file, line = block["origins"][lineno - 1]
    return {"file": file, "line": line, "page": block["page"], "page_line": block["page_lines"][lineno - 1]}


def format_error(exc: BaseException, blocks: list[dict]) -> dict:
    """A traceback whose block frames name the snippet file and line, and the page line."""
    out, innermost = ["Traceback (most recent call last):"], None

    def block(filename):
        m = re.fullmatch(r"<block (\d+)>", filename or "")
        return blocks[int(m[1])] if m else None

    for frame in traceback.extract_tb(exc.__traceback__)[1:]:  # [0] is this runner's exec()
        loc = where(block(frame.filename), frame.lineno)
        if loc:
            innermost = loc
            shown = f"  (shown on {loc['page']}:{loc['page_line']})"
            out.append(f'  File "{loc["file"]}", line {loc["line"]}, in {frame.name}{shown}')
        else:
            out.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
        out += [f"    {frame.line.strip()}"] if frame.line else []
    if isinstance(exc, SyntaxError) and (loc := where(block(exc.filename), exc.lineno)):
        innermost, exc.filename, exc.lineno = loc, loc["file"], loc["line"]
    out.extend(line.rstrip("\n") for line in traceback.format_exception_only(exc))
    return {"traceback": "\n".join(out), "where": innermost, "type": type(exc).__name__, "status": None}


def map_file_tracebacks(text: str, files: dict) -> str:
    """Add the snippet file and line to traceback lines that point into a written file."""

    def where_in(m: re.Match) -> str:
        loc = where(files.get(os.path.basename(m["file"])), int(m["line"]))
        return f"{m[0]}  ({loc['file']}:{loc['line']}, shown on {loc['page']}:{loc['page_line']})" if loc else m[0]

    return re.sub(r'File "(?P<file>[^"]+)", line (?P<line>\d+).*$', where_in, text, flags=re.M)


def run_block(i: int, block: dict, blocks: list[dict], namespace: dict, files: dict) -> dict:
    """Run one block -> {"stdout", "stderr", "error", "origins": the snippet line that printed
    each stdout line, where all are known}."""
    box: dict = {"stdout": "", "stderr": "", "error": None, "origins": None}
    if block["kind"] == "file":  # written where the reader would save it; a later shell block runs it
        with open(block["file"], "w", encoding="utf-8") as f:
            f.write(block["code"])
        files[block["file"]] = block
    elif block["kind"] == "shell":
        with capture(box):
            proc = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", block["code"]], check=False)
        if proc.returncode != 0:
            trace = map_file_tracebacks(box["stderr"], files)
            box |= {"stderr": "", "error": {"traceback": trace, "where": None, "type": None, "status": proc.returncode}}
    else:
        name, code = f"<block {i}>", block["code"]
        # Registered so tracebacks and inspect can show the source lines.
        linecache.cache[name] = (len(code), None, code.splitlines(keepends=True), name)
        sys.stdout.lines = []
        with capture(box):
            try:
                exec(compile(code, name, "exec"), namespace)
            except BaseException as exc:  # noqa: BLE001 - SystemExit and all are failures here
                box["error"] = format_error(exc, blocks)
        if len(sys.stdout.lines) == box["stdout"].count("\n"):
            box["origins"] = sys.stdout.lines
    return box


def main(spec_path: str, result_path: str) -> None:
    with open(spec_path, encoding="utf-8") as f:
        blocks = json.load(f)["blocks"]
    # The blocks run in a fresh module that *is* __main__, as in a reader's Python prompt:
    # classes defined on a page can then be pickled (torch.save, DataLoader workers).
    main_module = types.ModuleType("__main__")
    main_module.__builtins__ = __builtins__
    sys.modules["__main__"] = main_module
    sys.stdout = LineOrigins(sys.stdout, blocks)
    results, files, start = [], {}, None
    for i, block in enumerate(blocks):
        # An exercise's check runs first on the reader's starting code (the namespace as its
        # start block left it): there it must fail, or it would pass any answer.
        on_start = (
            run_block(i, block, blocks, dict(start), files) if block.get("exercise") == "check" and start else None
        )
        results.append(run_block(i, block, blocks, main_module.__dict__, files))
        if on_start is not None:
            results[-1]["check_on_start"] = on_start["error"]["type"] if on_start["error"] else None
        if block.get("exercise") == "start":
            start = dict(main_module.__dict__)
        if results[-1]["error"]:
            break
    with open(result_path, "w", encoding="utf-8") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
