"""Run one page's Python blocks in a fresh interpreter, as a reader working down the page.

Usage: python -u -W error runner.py SPEC.json RESULT.json

SPEC.json holds the page's blocks in order: their code and, for every code line, where it
comes from (snippet file and line, page line). The blocks run one after the other in one
namespace. Each block's output is captured at the file-descriptor level, so what child
processes and C code print is caught too. The first block that raises stops the run; its
traceback is written with each frame mapped back to the snippet file and line.
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

BLOCK_NAME = re.compile(r"<block (\d+)>")


class Captured:
    stdout = ""
    stderr = ""


@contextlib.contextmanager
def capture():
    """Send fd 1 and 2 to temporary files for the duration of one block."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    box = Captured()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        try:
            yield box
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            out.seek(0)
            err.seek(0)
            box.stdout = out.read().decode("utf-8", "replace")
            box.stderr = err.read().decode("utf-8", "replace")


def where(blocks, filename, lineno):
    """Map a (filename, line) inside a block to its snippet file and page line."""
    m = BLOCK_NAME.fullmatch(filename or "")
    if not m or lineno is None:
        return None
    block = blocks[int(m.group(1))]
    if not 1 <= lineno <= len(block["origins"]):
        return None
    file, line = block["origins"][lineno - 1]
    return {"file": file, "line": line, "page": block["page"], "page_line": block["page_lines"][lineno - 1]}


def format_error(exc, blocks):
    """A traceback whose block frames name the snippet file and line, and the page line."""
    out = ["Traceback (most recent call last):"]
    innermost = None
    # The first frame is this runner's exec() call: leave it out.
    for frame in traceback.extract_tb(exc.__traceback__)[1:]:
        loc = where(blocks, frame.filename, frame.lineno)
        if loc:
            innermost = loc
            out.append(
                f'  File "{loc["file"]}", line {loc["line"]}, in {frame.name}'
                f"  (shown on {loc['page']}:{loc['page_line']})"
            )
        else:
            out.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
        if frame.line:
            out.append(f"    {frame.line.strip()}")
    if isinstance(exc, SyntaxError):
        loc = where(blocks, exc.filename, exc.lineno)
        if loc:
            innermost = loc
            exc.filename, exc.lineno = loc["file"], loc["line"]
    out.extend(line.rstrip("\n") for line in traceback.format_exception_only(exc))
    return {"traceback": "\n".join(out), "where": innermost, "type": type(exc).__name__, "status": None}


def map_file_tracebacks(text, files):
    """Add the snippet file and line to traceback lines that point into a written file."""

    def where_in(m):
        block = files.get(os.path.basename(m.group("file")))
        n = int(m.group("line"))
        if block is None or not 1 <= n <= len(block["origins"]):
            return m.group(0)
        file, line = block["origins"][n - 1]
        return f"{m.group(0)}  ({file}:{line}, shown on {block['page']}:{block['page_lines'][n - 1]})"

    return re.sub(r'File "(?P<file>[^"]+)", line (?P<line>\d+).*$', where_in, text, flags=re.M)


def main(spec_path, result_path):
    with open(spec_path, encoding="utf-8") as f:
        blocks = json.load(f)["blocks"]
    # The blocks run in a fresh module that *is* __main__, as in a reader's Python prompt:
    # classes defined on a page can then be pickled (torch.save, DataLoader workers).
    main_module = types.ModuleType("__main__")
    main_module.__builtins__ = __builtins__
    sys.modules["__main__"] = main_module
    namespace = main_module.__dict__
    results = []
    files = {}
    for i, block in enumerate(blocks):
        name = f"<block {i}>"
        code = block["code"]
        error = None
        if block["kind"] == "file":
            # Written where the reader would save it; a later shell block runs it.
            with open(block["file"], "w", encoding="utf-8") as f:
                f.write(code)
            files[block["file"]] = block
            results.append({"stdout": "", "stderr": "", "error": None})
            continue
        if block["kind"] == "shell":
            with capture() as box:
                proc = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", code], check=False)
            if proc.returncode != 0:
                error = {
                    "traceback": map_file_tracebacks(box.stderr, files),
                    "where": None,
                    "type": None,
                    "status": proc.returncode,
                }
                box.stderr = ""
            results.append({"stdout": box.stdout, "stderr": box.stderr, "error": error})
            if error:
                break
            continue
        # Registered so tracebacks and inspect can show the source lines.
        linecache.cache[name] = (len(code), None, code.splitlines(keepends=True), name)
        with capture() as box:
            try:
                exec(compile(code, name, "exec"), namespace)
            except BaseException as exc:  # noqa: BLE001 - SystemExit and all are failures here
                error = format_error(exc, blocks)
        results.append({"stdout": box.stdout, "stderr": box.stderr, "error": error})
        if error:
            break
    with open(result_path, "w", encoding="utf-8") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
