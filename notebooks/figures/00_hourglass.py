"""Draws 00_hourglass.png, the concept diagram of notebook 00: ``python notebooks/figures/00_hourglass.py``."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import FancyArrowPatch, Polygon, Rectangle  # noqa: E402
from scipy.ndimage import gaussian_filter  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

# One 8x8 digit shrunk to 7x7 as in the notebook: each new pixel averages the part of the old image it covers.
edges = np.arange(8) * 8 / 7
M = np.array([[max(0.0, min(hi, j + 1) - max(lo, j)) for j in range(8)] for lo, hi in zip(edges[:-1], edges[1:])]) * 7 / 8
digit = M @ (load_digits().images[3] / 16) @ M.T
blurry = gaussian_filter(digit, 0.7)  # stands for the reconstruction: a 2-number code gives a blurry copy
blurry = blurry / blurry.max() * digit.max()

sizes = [49, 32, 16, 2, 16, 32, 49]  # units per layer: encoder F, code z, decoder G
xs = np.arange(len(sizes)) * 1.25 + 3.0
fig, ax = plt.subplots(figsize=(11, 4.8))
ax.set_xlim(0, 14.4), ax.set_ylim(-3.6, 3.1), ax.axis("off")
ax.imshow(digit, cmap="gray_r", vmin=0, vmax=1, extent=(0.2, 2.2, -1.0, 1.0))
ax.imshow(blurry, cmap="gray_r", vmin=0, vmax=1, extent=(12.2, 14.2, -1.0, 1.0))
for x0 in (0.2, 12.2):
    for k in range(8):
        ax.plot([x0 + k * 2 / 7] * 2, [-1, 1], c="0.75", lw=0.5)
        ax.plot([x0, x0 + 2], [-1 + k * 2 / 7] * 2, c="0.75", lw=0.5)
ax.text(1.2, 1.25, "input $x$\n7x7 = 49 pixels", ha="center", va="bottom", fontsize=11)
ax.text(13.2, 1.25, "reconstruction\n$\\hat{x} = G(z)$, 49 pixels", ha="center", va="bottom", fontsize=11)
height = lambda n: 0.25 + 2.2 * n / 49  # noqa: E731
for i, (x, n) in enumerate(zip(xs, sizes)):
    colour = "tab:red" if n == 2 else ("tab:blue" if i < 3 else "tab:green")
    if i + 1 < len(sizes):
        h0, h1 = height(n) / 2, height(sizes[i + 1]) / 2
        ax.add_patch(Polygon([(x + 0.15, -h0), (x + 1.1, -h1), (x + 1.1, h1), (x + 0.15, h0)], color="0.9", zorder=0))
    ax.add_patch(Rectangle((x - 0.15 + 0.15, -height(n) / 2), 0.3, height(n), color=colour, alpha=0.85))
    ax.text(x + 0.15, -height(n) / 2 - 0.12, f"{n}", ha="center", va="top", fontsize=10)
ax.add_patch(FancyArrowPatch((2.3, 0), (xs[0] + 0.0, 0), arrowstyle="-|>", mutation_scale=15, color="0.3"))
ax.add_patch(FancyArrowPatch((xs[-1] + 0.3, 0), (12.1, 0), arrowstyle="-|>", mutation_scale=15, color="0.3"))
ax.text(xs[3] + 0.15, 0.45, "code $z = F(x)$\n2 numbers", ha="center", va="bottom", fontsize=11, color="tab:red")
ax.text((xs[0] + xs[2]) / 2 + 0.15, 1.55, "encoder $F$\n49 → 32 → 16 → 2", ha="center", fontsize=11, color="tab:blue")
ax.text((xs[4] + xs[6]) / 2 + 0.15, 1.55, "decoder $G$\n2 → 16 → 32 → 49", ha="center", fontsize=11, color="tab:green")
ax.add_patch(
    FancyArrowPatch(
        (1.2, -1.15),
        (13.2, -1.15),
        connectionstyle="arc3,rad=0.25",
        arrowstyle="<|-|>",
        mutation_scale=14,
        color="tab:purple",
        lw=1.4,
    )
)
ax.text(
    7.2,
    -3.1,
    "trained to make $\\hat{x}$ close to $x$: loss $= \\frac{1}{49}\\sum_j (x_j - \\hat{x}_j)^2$, no labels needed",
    ha="center",
    fontsize=11,
    color="tab:purple",
)
ax.set_title("The hourglass: 49 pixels squeezed through 2 numbers and back (numbers = units per layer)", fontsize=13)
fig.savefig(Path(__file__).with_suffix(".png"), dpi=120, bbox_inches="tight")
