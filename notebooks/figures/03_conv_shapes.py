"""Draws 03_conv_shapes.png, the concept diagram of notebook 03: ``python notebooks/figures/03_conv_shapes.py``."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import FancyArrowPatch, Polygon, Rectangle  # noqa: E402


def block(ax, x, side, channels, colour, label):
    """A stack of feature maps drawn as a box: height ~ side (pixels), depth ~ channels."""
    h = side / 28 * 3.0
    d = 0.25 + 0.9 * np.log2(channels) / 6
    ax.add_patch(
        Polygon(
            [(x, -h / 2), (x + d, -h / 2 + d * 0.5), (x + d, h / 2 + d * 0.5), (x, h / 2)],
            facecolor=colour,
            edgecolor="k",
            lw=0.8,
            alpha=0.55,
        )
    )
    ax.add_patch(
        Polygon(
            [(x, h / 2), (x + d, h / 2 + d * 0.5), (x + d + 0.35, h / 2 + d * 0.5), (x + 0.35, h / 2)],
            facecolor=colour,
            edgecolor="k",
            lw=0.8,
            alpha=0.8,
        )
    )
    ax.add_patch(Rectangle((x + 0.35, -h / 2), -0.35, h, facecolor=colour, edgecolor="k", lw=0.8, alpha=0.9))
    ax.text(x + d / 2 + 0.1, -h / 2 - 0.25, label, ha="center", va="top", fontsize=9.5)
    return x + d + 0.35


def arrow(ax, x0, x1, text, y=0.0):
    ax.add_patch(FancyArrowPatch((x0 + 0.05, y), (x1 - 0.05, y), arrowstyle="-|>", mutation_scale=13, color="0.3"))
    ax.text((x0 + x1) / 2, y + 0.15, text, ha="center", va="bottom", fontsize=8.5, color="0.2")


fig, ax = plt.subplots(figsize=(12, 4.4))
ax.set_xlim(-0.2, 18.0), ax.set_ylim(-2.6, 2.6), ax.axis("off")
enc, dec, code = "tab:blue", "tab:green", "tab:red"
x = block(ax, 0.0, 28, 1, "0.6", "28x28x1\ninput")
ax.add_patch(Rectangle((0.02, 1.5 - 3 * 3 / 28), 0.33, 3 * 3 / 28, fill=False, ec="tab:orange", lw=1.5))
ax.text(0.2, 1.75, "3x3 filter,\nmoves 2 pixels", ha="center", fontsize=8.5, color="tab:orange")
x1 = block(ax, x + 1.2, 14, 32, enc, "14x14x32")
arrow(ax, x, x + 1.2, "Conv2D\nstride 2")
x2 = block(ax, x1 + 1.2, 7, 64, enc, "7x7x64")
arrow(ax, x1, x1 + 1.2, "Conv2D\nstride 2")
cx = x2 + 1.4
ax.add_patch(Rectangle((cx, -0.45), 0.3, 0.9, color=code, alpha=0.85))
ax.text(cx + 0.15, -0.6, "code\n32", ha="center", va="top", fontsize=9.5, color=code)
arrow(ax, x2, cx, "Flatten\n+ Dense")
x3 = block(ax, cx + 2.0, 7, 64, dec, "7x7x64")
arrow(ax, cx + 0.3, cx + 2.0, "Dense\n+ Reshape")
x4 = block(ax, x3 + 1.3, 14, 32, dec, "14x14x32")
arrow(ax, x3, x3 + 1.3, "Conv2D-\nTranspose")
x5 = block(ax, x4 + 1.3, 28, 1, "0.6", "28x28x1\noutput")
arrow(ax, x4, x4 + 1.3, "Conv2D-\nTranspose")
ax.text((0 + x2) / 2, 2.3, "encoder: each stride-2 layer halves the size and adds channels", ha="center", color=enc, fontsize=10)
ax.text((x3 + x5) / 2 - 0.3, 2.3, "decoder: the mirror image, doubling the size", ha="center", color=dec, fontsize=10)
ax.set_title(
    "A convolutional autoencoder: shapes from image to code and back (the same filters slide over every position)", fontsize=12
)
fig.savefig(Path(__file__).with_suffix(".png"), dpi=115, bbox_inches="tight")
