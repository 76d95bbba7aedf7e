"""Draws tensor-operations.svg: transpose, squeeze, unsqueeze and cat on small grids.

Four panels, each an input tensor, an arrow and the output tensor, with the shapes under
them. The tensors are those of snippets/tensor-operations.py; every output, its values
and every shape are computed by torch here.
"""

import matplotlib.pyplot as plt
import torch
from matplotlib.colors import to_rgb
from matplotlib.patches import Rectangle

CELL = 1.2  # side of one cell, in data units (1 unit = 18 pt)
GAP = 0.5  # between a grid and its label, or between grids
TITLE = 1.2  # height of a panel's title line
LABEL = 1.0  # height of a shape label


def tint(color, amount=0.3):
    """The colour mixed with white: amount 0 is white, 1 the colour itself."""
    return tuple(1 - amount * (1 - c) for c in to_rgb(color))


def as_rows(t):
    """A 1-D or 2-D tensor as rows of cells (a 1-D tensor is drawn as one row)."""
    return t.reshape(1, -1) if t.ndim == 1 else t


def size(t):
    """Width and height of the drawing of t."""
    rows, cols = as_rows(t).shape
    return cols * CELL, rows * CELL


def draw_grid(ax, t, left, top, colors):
    """Draw t with its top-left corner at (left, top); colors gives a colour index per cell.

    Each block of one colour is one filled rectangle plus one path for its inner lines
    (fewer SVG elements than a rectangle per cell, so a smaller file).
    """
    values, colors = as_rows(t), as_rows(colors)
    rows, cols = values.shape
    for c in colors.unique().tolist():
        where = (colors == c).nonzero()
        (i0, j0), (i1, j1) = where.min(dim=0).values.tolist(), where.max(dim=0).values.tolist()
        assert (colors[i0 : i1 + 1, j0 : j1 + 1] == c).all(), "each colour must fill a rectangle"
        color = f"C{c}"
        x0, x1 = left + j0 * CELL, left + (j1 + 1) * CELL
        y0, y1 = top - (i1 + 1) * CELL, top - i0 * CELL
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, facecolor=tint(color), edgecolor=color, lw=1.5))
        xs, ys = [], []
        for j in range(j0 + 1, j1 + 1):
            xs += [left + j * CELL] * 2 + [float("nan")]
            ys += [y0, y1, float("nan")]
        for i in range(i0 + 1, i1 + 1):
            xs += [x0, x1, float("nan")]
            ys += [top - i * CELL] * 2 + [float("nan")]
        ax.plot(xs, ys, color=color, lw=1.5)
    for i in range(rows):
        for j in range(cols):
            x, y = left + (j + 0.5) * CELL, top - (i + 0.5) * CELL
            ax.text(x, y, str(values[i, j].item()), ha="center", va="center", fontsize=12)


def shape_label(ax, t, cx, y):
    ax.text(cx, y, str(list(t.shape)), ha="center", va="top", fontsize=12, family="monospace")


def arrow(ax, start, end):
    ax.annotate(
        "", xy=end, xytext=start, arrowprops={"arrowstyle": "-|>", "lw": 2, "color": "black", "mutation_scale": 16}
    )


def one_color(t, color):
    """A colour index for every cell of t."""
    return torch.full_like(t, color)


def title(ax, text, cx, top):
    ax.text(cx, top, text, ha="center", va="top", fontsize=11, family="monospace", fontweight="bold")


def across_height(before, after):
    return TITLE + max(size(before)[1], size(after)[1]) + GAP + LABEL


def across(ax, text, before, after, color, cx, top, band=0.0):
    """A panel: its title, then before -> after side by side, centred on cx and on the
    middle of a band at least as tall as the grids (so panels side by side line up)."""
    title(ax, text, cx, top)
    (w1, h1), (w2, h2) = size(before), size(after)
    band = max(h1, h2, band)
    arrow_width = 1.8
    left = cx - (w1 + arrow_width + w2) / 2
    grid_top = top - TITLE
    middle = grid_top - band / 2
    draw_grid(ax, before, left, middle + h1 / 2, one_color(before, color))
    draw_grid(ax, after, left + w1 + arrow_width, middle + h2 / 2, one_color(after, color))
    arrow(ax, (left + w1 + 0.3, middle), (left + w1 + arrow_width - 0.3, middle))
    shape_label(ax, before, left + w1 / 2, grid_top - band - GAP)
    shape_label(ax, after, left + w1 + arrow_width + w2 / 2, grid_top - band - GAP)


ARROW_DOWN = 1.6


def down_height(inputs, output):
    return TITLE + max(size(t)[1] for t in inputs) + GAP + LABEL + ARROW_DOWN + size(output)[1] + GAP + LABEL


def down(ax, text, inputs, colors, output, output_colors, cx, top):
    """A panel: its title, the inputs in a row, an arrow down, the output under them."""
    title(ax, text, cx, top)
    grid_top = top - TITLE
    widths = [size(t)[0] for t in inputs]
    inputs_height = max(size(t)[1] for t in inputs)
    left = cx - (sum(widths) + GAP * (len(inputs) - 1)) / 2
    for t, color, w in zip(inputs, colors, widths):
        draw_grid(ax, t, left, grid_top, one_color(t, color))
        shape_label(ax, t, left + w / 2, grid_top - inputs_height - GAP)
        left += w + GAP
    arrow_top = grid_top - inputs_height - GAP - LABEL
    arrow(ax, (cx, arrow_top), (cx, arrow_top - ARROW_DOWN + 0.3))
    out_top = arrow_top - ARROW_DOWN
    draw_grid(ax, output, cx - size(output)[0] / 2, out_top, output_colors)
    shape_label(ax, output, cx, out_top - size(output)[1] - GAP)


# The tensors of snippets/tensor-operations.py.
b = torch.tensor([[10, 20, 30], [40, 50, 60]])
x_row = torch.tensor([[1, 2, 3]])  # `x` in the squeeze section
v = torch.tensor([1, 2, 3])
x = torch.tensor([[1, 1], [1, 1]])  # `x`, `y` and `z` in the cat section
y = torch.tensor([[2, 2], [2, 2]])
z = torch.tensor([[3, 3], [3, 3]])

transposed = b.transpose(0, 1)
squeezed = x_row.squeeze(0)
unsqueezed = v.unsqueeze(1)
joined = torch.cat([x, y, z], dim=1)
# Where each value of `joined` came from: cat colour indices the same way as the values.
cat_colors = [3, 4, 9]  # for x, y, z
joined_colors = torch.cat([one_color(t, c) for t, c in zip([x, y, z], cat_colors)], dim=1)

# Two rows of two panels, 20 units (5 inches) wide, their titles on one line. In the top
# row, both panels centre their grids on the same middle line.
top_band = max(size(t)[1] for t in [b, transposed, x_row, squeezed])
rows = [
    (
        across_height(b, transposed),
        lambda top: across(ax, "b.transpose(0, 1)", b, transposed, 0, 5, top, top_band),
        lambda top: across(ax, "x.squeeze(0)", x_row, squeezed, 1, 15, top, top_band),
    ),
    (
        down_height([x, y, z], joined),
        lambda top: across(ax, "v.unsqueeze(1)", v, unsqueezed, 2, 5, top),
        lambda top: down(ax, "torch.cat([x, y, z], dim=1)", [x, y, z], cat_colors, joined, joined_colors, 15, top),
    ),
]
assert across_height(v, unsqueezed) <= down_height([x, y, z], joined)
ROW_GAP, MARGIN = 1.2, 0.3
height = sum(h for h, _, _ in rows) + ROW_GAP * (len(rows) - 1) + 2 * MARGIN

fig = plt.figure(figsize=(5, height * 18 / 72))  # 1 data unit = 18 pt
ax = fig.add_axes((0, 0, 1, 1))
ax.set_xlim(0, 20)
ax.set_ylim(0, height)
ax.axis("off")

top = height - MARGIN
for row_height, *draws in rows:
    for draw in draws:
        draw(top)
    top -= row_height + ROW_GAP

fig.savefig("tensor-operations.svg")
