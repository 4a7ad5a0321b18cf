"""Draws 12_vq_prior.png, the concept diagram of notebook 12: ``python notebooks/figures/12_vq_prior.py``."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle  # noqa: E402

rng = np.random.default_rng(0)
fig, ax = plt.subplots(figsize=(12.5, 4.6))
ax.set_xlim(0, 12.5), ax.set_ylim(0, 4.6), ax.axis("off")


def box(x, y, w, h, text, color, fontsize=10):
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.05", fc=color, ec="0.3", lw=1.2))
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=fontsize)


def arrow(x0, y0, x1, y1, text="", color="0.2", dy=0.18):
    ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=16, color=color, lw=1.5))
    if text:
        ax.text((x0 + x1) / 2, (y0 + y1) / 2 + dy, text, ha="center", va="bottom", fontsize=8.5, color=color)


def grid(x, y, size, values, cmap="tab20", labels=True):
    n = values.shape[0]
    cell = size / n
    for (r, c), v in np.ndenumerate(values):
        ax.add_patch(
            Rectangle((x + c * cell, y + (n - 1 - r) * cell), cell, cell, fc=plt.get_cmap(cmap)(v % 20 / 20), ec="w", lw=0.6)
        )
        if labels:
            ax.text(x + (c + 0.5) * cell, y + (n - 1 - r + 0.5) * cell, str(v), ha="center", va="center", fontsize=6)


# top row: image -> encoder -> z_e (7x7 vectors) -> nearest codebook entry -> index grid -> decoder -> image
box(0.1, 2.9, 1.2, 1.1, "image\n28 x 28", "#e8e8e8")
arrow(1.35, 3.45, 1.9, 3.45)
box(1.9, 2.9, 1.3, 1.1, "encoder\n(stride-2\nconvolutions)", "#cfe2f3")
arrow(3.25, 3.45, 3.8, 3.45)
box(3.8, 2.9, 1.5, 1.1, "$z_e$: 7 x 7\nvectors of size D", "#cfe2f3")
arrow(5.35, 3.45, 5.9, 3.45)
box(
    5.9,
    2.75,
    2.3,
    1.4,
    "quantiser: each vector\nbecomes the index of the\nnearest codebook vector\n$k^* = \\arg\\min_k \\|z_e - e_k\\|$",
    "#fde9c9",
    9,
)
arrow(8.3, 3.45, 8.8, 3.45)
grid(8.8, 2.85, 1.2, rng.integers(0, 128, (7, 7)), labels=False)
ax.text(9.4, 4.2, "index grid\n7 x 7 integers in 0..K-1", ha="center", va="bottom", fontsize=8.5)
arrow(10.05, 3.45, 10.8, 3.45, "$e_k$")
box(10.8, 2.9, 1.5, 1.1, "decoder\n-> image", "#d9ead3")
ax.text(
    5.0,
    2.45,
    "train: reconstruct the image (gradient copied straight through the quantiser)",
    ha="center",
    fontsize=9,
    color="0.35",
)

# bottom row: generation with a prior over grids
box(
    0.4,
    0.35,
    3.3,
    1.35,
    "prior over grids (a PixelCNN)\n$p(k_{ij} \\mid$ every cell before it$)$\nfitted to the training grids",
    "#ead1dc",
    9.5,
)
partial = rng.integers(0, 128, (7, 7))
cells = np.arange(49).reshape(7, 7)
grid(4.7, 0.35, 1.2, np.where(cells < 24, partial, 0), labels=False)
ax.add_patch(Rectangle((4.7 + 3 * 1.2 / 7, 0.35 + 3 * 1.2 / 7), 1.2 / 7, 1.2 / 7, fc="none", ec="crimson", lw=2))
ax.add_patch(Rectangle((4.7 + 0 * 1.2 / 7, 0.35), 1.2, 3 * 1.2 / 7 + 1.2 / 7 - 1.2 / 7, fc="w", ec="0.7", lw=0.6, alpha=0.9))
ax.text(5.3, 1.65, "draw cell by cell,\nin reading order", ha="center", va="bottom", fontsize=8.5)
arrow(3.75, 1.02, 4.6, 1.02, "next cell")
arrow(6.0, 1.02, 8.7, 1.02, "after 49 draws: a new grid")
grid(8.8, 0.35, 1.2, rng.integers(0, 128, (7, 7)), labels=False)
arrow(10.05, 1.02, 10.8, 1.02, "decode")
box(10.8, 0.45, 1.5, 1.1, "new image", "#d9ead3")
arrow(8.75, 2.95, 3.2, 1.75, color="tab:purple")
ax.text(4.6, 1.75, "training grids", fontsize=8.5, color="tab:purple")
fig.suptitle("VQ-VAE: an image becomes a grid of codebook indices; a prior over grids generates new images", y=0.98)
fig.savefig(Path(__file__).with_suffix(".png"), dpi=100, bbox_inches="tight")
