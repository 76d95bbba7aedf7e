"""Time the training on the digits page: `python tests/bench_digits.py`.

Not a test (pytest collects only test_*.py): timings depend on the machine and
on its load, so they are measured here and reported in the page's prose.

It runs snippets/digits.py once, quietly, to get its data and its `train`
function, then times `train(...)` exactly as the page calls it (30 epochs,
evaluated on the test half after each one) a few times. It prints the median
and the machine, and exits with status 1 if the median is over the budget.

`python tests/bench_digits.py --seeds 6` also trains with seeds 0 to 5 and
prints each test accuracy: how much the page's number owes to its seed.
"""

from __future__ import annotations

import contextlib
import io
import os
import platform
import runpy
import statistics
import sys
import tempfile
import time
from pathlib import Path

BUDGET_S = 5.0
REPEATS = 5
SNIPPET = Path(__file__).resolve().parent.parent / "snippets" / "digits.py"


def main() -> int:
    # In a temp folder: the snippet saves its figures in the working directory.
    with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp), contextlib.redirect_stdout(io.StringIO()):
        page = runpy.run_path(str(SNIPPET), run_name="digits_bench")
    torch = page["torch"]
    args = (page["train_images"], page["train_labels"], page["test_images"], page["test_labels"])

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}")
    print(f"python {platform.python_version()}, torch {torch.__version__}, device {page['device']}")
    print(f"torch threads: {torch.get_num_threads()} (the page sets 1)")

    times = []
    for run in range(1, REPEATS + 1):
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # the per-epoch lines
            model = page["train"](*args)
        times.append(time.perf_counter() - start)
        acc = page["accuracy"](model, page["test_images"], page["test_labels"])
        same = acc == page["cnn_accuracy"]
        print(f"run {run}: {times[-1]:.2f} s  test accuracy {acc:.4f}  same as the page: {same}")
        if not same:
            print("not deterministic: the accuracy differs from the page's run")
            return 1

    median = statistics.median(times)
    print(f"median: {median:.2f} s (budget {BUDGET_S:.0f} s)")

    if "--seeds" in sys.argv:
        seeds = range(int(sys.argv[sys.argv.index("--seeds") + 1]))
        accs = []
        for seed in seeds:
            with contextlib.redirect_stdout(io.StringIO()):
                model = page["train"](*args, seed=seed)
            accs.append(page["accuracy"](model, page["test_images"], page["test_labels"]))
            print(f"seed {seed}: test accuracy {accs[-1]:.4f}")
        print(f"seeds 0-{seeds[-1]}: {min(accs):.4f} to {max(accs):.4f}, mean {statistics.mean(accs):.4f}")
    return 0 if median <= BUDGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
