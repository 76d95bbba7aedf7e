"""Draws cpu-gpu-data-path.svg: the path of a batch from disk to GPU memory, top to bottom.

Disk -> RAM (worker processes run the Dataset's __getitem__ and keep batches ready) ->
pinned memory -> GPU memory, with the DataLoader option that controls each step beside it.
The options are those of a real DataLoader built here, with the values the page uses;
the number of batch squares and of batches ahead are read from it.
"""

import matplotlib.pyplot as plt
import torch
from matplotlib.colors import to_rgb
from matplotlib.patches import FancyBboxPatch, Rectangle
from torch.utils.data import DataLoader, TensorDataset

dataset = TensorDataset(torch.zeros(64, 4))
loader = DataLoader(dataset, batch_size=8, num_workers=2, prefetch_factor=2, pin_memory=True)
workers, per_worker = loader.num_workers, loader.prefetch_factor
ahead = workers * per_worker
# The last step is a tensor method, not a loader option: check that it takes non_blocking.
assert torch.equal(torch.zeros(2).to("cpu", non_blocking=True), torch.zeros(2))


def tint(color, amount=0.25):
    """The colour mixed with white: amount 0 is white, 1 the colour itself."""
    return tuple(1 - amount * (1 - c) for c in to_rgb(color))


def box(ax, left, bottom, w, h, color, amount=0.25):
    ax.add_patch(
        FancyBboxPatch(
            (left, bottom),
            w,
            h,
            boxstyle="round,pad=0,rounding_size=0.3",
            facecolor=tint(color, amount),
            edgecolor=color,
            lw=1.5,
        )
    )


def arrow(ax, start, end):
    ax.annotate(
        "", xy=end, xytext=start, arrowprops={"arrowstyle": "-|>", "lw": 1.5, "color": "black", "mutation_scale": 14}
    )


def option(ax, y, code, what):
    """A DataLoader option (code) and what it does, right of the chain, centred on y."""
    ax.text(OPT_X, y + 0.1, code, ha="left", va="bottom", fontsize=11, family="monospace", linespacing=1.3)
    ax.text(OPT_X, y - 0.1, what, ha="left", va="top", fontsize=11, linespacing=1.3)


def stage(ax, top, name, color):
    """A box across the chain, with its name in it; returns its bottom."""
    box(ax, LEFT, top - STAGE_H, CHAIN_W, STAGE_H, color)
    ax.text(MID, top - STAGE_H / 2, name, ha="center", va="center", fontsize=12, fontweight="bold")
    return top - STAGE_H


# Data units: 1 unit = 18 pt. The chain on the left, top to bottom; the options on the
# right, beside the step they control.
WIDTH, LEFT, CHAIN_W, OPT_X = 17.0, 0.3, 8.6, 9.5
MID = LEFT + CHAIN_W / 2
STAGE_H, ARROW_H, WORKER_H, MARGIN = 1.4, 2.8, 2.6, 0.3
RAM_H = 1.3 + WORKER_H + 0.4
height = 2 * MARGIN + 3 * STAGE_H + RAM_H + 3 * ARROW_H

fig = plt.figure(figsize=(WIDTH * 18 / 72, height * 18 / 72))
ax = fig.add_axes((0, 0, 1, 1))
ax.set_xlim(0, WIDTH)
ax.set_ylim(0, height)
ax.axis("off")

top = stage(ax, height - MARGIN, "disk", "C7")

# Disk -> RAM: worker processes read the items and build batches, each keeping some ready.
ram_top = top - ARROW_H
option(ax, top - ARROW_H / 2, f"num_workers={workers}", "processes that run\nDataset.__getitem__")
box(ax, LEFT, ram_top - RAM_H, CHAIN_W, RAM_H, "C0", 0.1)
ax.text(MID, ram_top - 0.25, "RAM", ha="center", va="top", fontsize=12, fontweight="bold")  # between the arrows
gap = 0.4
worker_w = (CHAIN_W - 0.8 - gap * (workers - 1)) / workers
worker_top = ram_top - 1.3
for k in range(workers):
    left = LEFT + 0.4 + k * (worker_w + gap)
    cx = left + worker_w / 2
    arrow(ax, (cx, top), (cx, worker_top))
    box(ax, left, worker_top - WORKER_H, worker_w, WORKER_H, "C0")
    ax.text(cx, worker_top - 0.3, f"worker {k}", ha="center", va="top", fontsize=11, fontweight="bold")
    side, square_gap = 0.8, 0.3
    first = cx - (per_worker * side + (per_worker - 1) * square_gap) / 2
    for j in range(per_worker):  # one square per batch this worker keeps ready
        x = first + j * (side + square_gap)
        ax.add_patch(Rectangle((x, worker_top - WORKER_H + 0.4), side, side, facecolor="C0", edgecolor="C0"))
option(
    ax,
    worker_top - WORKER_H / 2,
    f"prefetch_factor={per_worker}",
    f"batches ready per\nworker: {ahead} in all",
)
top = ram_top - RAM_H

# RAM -> pinned memory -> GPU memory.
for name, color, code, what in [
    ("pinned memory", "C1", f"pin_memory={loader.pin_memory}", "page-locked: the GPU\ncan copy it by itself"),
    ("GPU memory", "C2", ".to(device,\n non_blocking=True)", "the copy runs in\nthe background"),
]:
    arrow(ax, (MID, top), (MID, top - ARROW_H))
    option(ax, top - ARROW_H / 2, code, what)
    top = stage(ax, top - ARROW_H, name, color)

fig.savefig("cpu-gpu-data-path.svg")
