"""Draws cnn-architecture.svg: the small CNN `Net` of modules.md as a chain of layer boxes, top to bottom.

`Net` is read from snippets/modules.py (its `net` section), as the page shows it. The script runs one 1x28x28 image
through it step by step, as Net.forward does, and writes the shape after each step next
to its box; the layer details (channels, kernel sizes, features) are read from the model.
"""

import re
from pathlib import Path

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from matplotlib.colors import to_rgb
from matplotlib.patches import FancyBboxPatch
from torch import nn

SNIPPET = Path(__file__).resolve().parents[2] / "snippets" / "modules.py"


def load_net():
    """`Net` from the page's own snippet (section `net`): the picture cannot drift from it."""
    text = SNIPPET.read_text(encoding="utf-8")
    section = re.search(r"# --8<-- \[start:net\]\n(.*?)\n\s*# --8<-- \[end:net\]", text, re.S).group(1)
    namespace = {"nn": nn, "F": F}
    exec(section, namespace)
    return namespace["Net"]


Net = load_net()


def conv(m):
    return f"Conv2d {m.in_channels}→{m.out_channels}, {m.kernel_size[0]}×{m.kernel_size[1]}"


torch.manual_seed(0)
model = Net()
image = torch.randn(1, 1, 28, 28)  # one 1-channel 28x28 image

# The steps of Net.forward, in order: (name, what it is, the step, colour).
steps = [
    ("conv1", conv(model.conv1), model.conv1, "C0"),
    ("max-pool", f"MaxPool2d({model.mp.kernel_size})", model.mp, "C1"),
    ("relu", "negatives → 0", F.relu, "C2"),
    ("conv2", conv(model.conv2), model.conv2, "C0"),
    ("max-pool", f"MaxPool2d({model.mp.kernel_size})", model.mp, "C1"),
    ("relu", "negatives → 0", F.relu, "C2"),
    ("flatten(1)", None, lambda t: t.flatten(1), "C4"),
    ("fc", f"Linear {model.fc.in_features}→{model.fc.out_features}", model.fc, "C3"),
    ("log_softmax", "dim=1", lambda t: F.log_softmax(t, dim=1), "C5"),
]
rows = [("input", f"{image.shape[1]} image, {image.shape[2]}×{image.shape[3]}", tuple(image.shape), "C7")]
x = image
with torch.no_grad():
    for name, detail, step, color in steps:
        if detail is None:  # flatten: how many values each image becomes
            detail = "×".join(str(n) for n in x.shape[1:]) + f" = {x[0].numel()}"
        x = step(x)
        rows.append((name, detail, tuple(x.shape), color))
    assert torch.equal(x, model(image)), "the steps must be Net.forward"


def tint(color, amount=0.25):
    """The colour mixed with white: amount 0 is white, 1 the colour itself."""
    return tuple(1 - amount * (1 - c) for c in to_rgb(color))


BOX_W, BOX_H, STEP = 11.0, 1.3, 2.0  # in data units (1 unit = 18 pt); STEP: box to box
HEADER = 1.4
width = 17.0
height = HEADER + STEP * (len(rows) - 1) + BOX_H + 0.4
fig = plt.figure(figsize=(width * 18 / 72, height * 18 / 72))
ax = fig.add_axes((0, 0, 1, 1))
ax.set_xlim(0, width)
ax.set_ylim(0, height)
ax.axis("off")

left, shape_x = 0.3, 0.3 + BOX_W + 0.6
ax.text(left + BOX_W / 2, height - 0.2, "layer", ha="center", va="top", fontsize=12, fontweight="bold")
ax.text(shape_x, height - 0.2, "output shape", ha="left", va="top", fontsize=12, fontweight="bold")
for k, (name, detail, shape, color) in enumerate(rows):
    top = height - HEADER - k * STEP
    middle = top - BOX_H / 2
    ax.add_patch(
        FancyBboxPatch(
            (left, top - BOX_H),
            BOX_W,
            BOX_H,
            boxstyle="round,pad=0,rounding_size=0.3",
            facecolor=tint(color),
            edgecolor=color,
            lw=1.5,
        )
    )
    ax.text(left + 0.4, middle, name, ha="left", va="center", fontsize=12, fontweight="bold")
    ax.text(left + BOX_W - 0.4, middle, detail, ha="right", va="center", fontsize=11)
    ax.text(shape_x, middle, str(shape), ha="left", va="center", fontsize=12)
    if k:  # an arrow from the box above
        ax.annotate(
            "",
            xy=(left + BOX_W / 2, top),
            xytext=(left + BOX_W / 2, top + STEP - BOX_H),
            arrowprops={"arrowstyle": "-|>", "lw": 1.5, "color": "black", "mutation_scale": 12},
        )

fig.savefig("cnn-architecture.svg")
