"""Draws tensor-ranks.svg: a scalar, a vector, a matrix and a 3-D tensor as grids of cells.

Each tensor is built with torch; the values in its cells, its ndim and the shape written
under it (as torch prints it) are read from that tensor.
"""

import matplotlib.pyplot as plt
import torch
from matplotlib.colors import to_rgb
from matplotlib.patches import Rectangle

CELL = 1.5  # side of one cell, in data units (1 unit = 18 pt)
DEPTH = 0.8 * CELL  # how far each layer of a 3-D tensor sits behind the one before


def tint(color, amount):
    """The colour mixed with white: amount 0 is white, 1 the colour itself."""
    return tuple(1 - amount * (1 - c) for c in to_rgb(color))


def draw_cell(ax, x, y, value, color, fill, z, show_value=True):
    """One cell with its lower-left corner at (x, y)."""
    ax.add_patch(Rectangle((x, y), CELL, CELL, facecolor=tint(color, fill), edgecolor=color, lw=1.5, zorder=z))
    if show_value:
        ax.text(x + CELL / 2, y + CELL / 2, str(value), ha="center", va="center", fontsize=12, zorder=z)


def draw_matrix(ax, values, left, top, color, fill=0.25, z=2, shown=None):
    """A 2-D tensor as rows of cells; (left, top) is its top-left corner."""
    rows, cols = values.shape
    for i in range(rows):
        for j in range(cols):
            show = shown(i, j) if shown else True
            draw_cell(ax, left + j * CELL, top - (i + 1) * CELL, values[i, j].item(), color, fill, z, show)


def as_layers(t):
    """A tensor of up to 3 dimensions as layers of rows of cells: always 3-D, same values."""
    return t.reshape((1,) * (3 - t.ndim) + tuple(t.shape))


def grid_height(t):
    """Height of the drawing of t: its rows, plus the depth of the layers behind."""
    layers, rows, _ = as_layers(t).shape
    return rows * CELL + (layers - 1) * DEPTH


def draw_tensor(ax, t, cx, top, color):
    """Any tensor of up to 3 dimensions, centred on cx, its top (back layer included) at top."""
    grid = as_layers(t)
    layers, _, cols = grid.shape
    width = cols * CELL + (layers - 1) * DEPTH
    left = cx - width / 2
    front_top = top - (layers - 1) * DEPTH
    # Back layers first, so that the front ones cover them; a back layer's value shows
    # only where no layer in front of it covers the cell: its top row and last column.
    for k in reversed(range(layers)):
        shown = (lambda i, j: i == 0 or j == cols - 1) if k else None
        draw_matrix(ax, grid[k], left + k * DEPTH, front_top + k * DEPTH, color, 0.25 + 0.15 * k, 10 - k, shown)


scalar = torch.tensor(7)
vector = torch.arange(3)
matrix = torch.arange(6).reshape(2, 3)
tensor3d = torch.arange(12).reshape(2, 2, 3)
rows = [
    [("scalar", scalar, "C0"), ("vector", vector, "C1")],
    [("matrix", matrix, "C2"), ("3-D tensor", tensor3d, "C3")],
]

# Two rows of two panels: the name on top, the cells, the shape under them. Within a
# row, every grid is centred in the same band, so that the shapes line up.
TITLE, GAP, LABEL, ROW_GAP = 1.1, 0.5, 1.0, 1.2
bands = [max(grid_height(t) for _, t, _ in row) for row in rows]
height = sum(TITLE + GAP + band + GAP + LABEL for band in bands) + ROW_GAP * (len(rows) - 1) + 0.6
fig = plt.figure(figsize=(4.5, height * 18 / 72))  # 1 data unit = 18 pt
ax = fig.add_axes((0, 0, 1, 1))
ax.set_xlim(0, 18)
ax.set_ylim(0, height)
ax.axis("off")

top = height - 0.4
for row, band in zip(rows, bands):
    for (name, t, color), cx in zip(row, (4.5, 13.5)):
        ax.text(cx, top, f"{name}, ndim={t.ndim}", ha="center", va="top", fontsize=13, fontweight="bold")
        grid_top = top - TITLE - GAP
        draw_tensor(ax, t, cx, grid_top - (band - grid_height(t)) / 2, color)
        ax.text(cx, grid_top - band - GAP, str(t.shape), ha="center", va="top", fontsize=12, family="monospace")
    top -= TITLE + GAP + band + GAP + LABEL + ROW_GAP

fig.savefig("tensor-ranks.svg")
