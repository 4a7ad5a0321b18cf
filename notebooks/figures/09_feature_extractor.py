"""Draws 09_feature_extractor.png, the concept diagram of notebook 09: ``python notebooks/figures/09_feature_extractor.py``."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402


def box(ax, x, y, w, h, text, color, fontsize=10.5, ls="-"):
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.08",
                                fc=color, ec="0.25", lw=1.2, ls=ls))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def arrow(ax, start, end, color="0.2"):
    ax.annotate("", xy=end, xytext=start, arrowprops=dict(arrowstyle="-|>", color=color, lw=1.6, shrinkA=2, shrinkB=2))


fig, ax = plt.subplots(figsize=(12, 5.2))
ax.set_xlim(0, 12), ax.set_ylim(0, 5.2), ax.axis("off")
# training: the whole autoencoder, on unlabelled images
box(ax, 0.9, 2.6, 1.3, 0.9, "image $x$\n(no label)", "#e8e8e8")
box(ax, 2.75, 2.6, 1.6, 1.2, "trained\nencoder $f$", "#cfe2f3")
box(ax, 2.75, 4.55, 2.1, 0.6, "decoder: thrown away", "#f3f3f3", fontsize=9, ls="--")
ax.plot([1.8, 3.7], [4.3, 4.8], color="tab:red", lw=1.5), ax.plot([1.8, 3.7], [4.8, 4.3], color="tab:red", lw=1.5)
box(ax, 4.75, 2.6, 1.5, 1.2, "code $z = f(x)$\n32 numbers", "#fff2cc")
arrow(ax, (1.55, 2.6), (1.95, 2.6))
arrow(ax, (3.55, 2.6), (4.0, 2.6))
# three uses of the code
uses = [
    (4.3, "1. linear probe", "softmax$(Wz + b)$ fitted on\n100 or 1,000 labelled codes", "class of $x$", "#d9ead3"),
    (2.6, "2. nearest neighbours", "the $k$ database codes\nnearest to $z$ (Euclidean)", "similar images", "#d9ead3"),
    (0.9, "3. hash bits", "$b_j = [z_j >$ median$_j]$: 32 bits;\nsearch by Hamming distance\n(XOR + popcount)",
     "similar images,\n4 bytes each", "#d9ead3"),
]
for y, title, how, result, color in uses:
    box(ax, 7.6, y, 3.0, 1.15, f"$\\bf{{{title.split(' ', 1)[0]}}}$ {title.split(' ', 1)[1]}\n{how}", color, fontsize=9.5)
    box(ax, 10.75, y, 1.9, 0.8, result, "#e8e8e8", fontsize=9.5)
    arrow(ax, (5.5, 2.6), (6.1, y))
    arrow(ax, (9.1, y), (9.8, y))
ax.text(4.75, 1.6, "scored against:\nPCA codes of the same size,\nthe raw 784 pixels,\nrandom-projection bits",
        ha="center", va="top", fontsize=9, color="0.3")
ax.set_title("The encoder as a feature extractor: keep $f$, drop the decoder, use the code three ways", fontsize=13)
fig.savefig(Path(__file__).with_suffix(".png"), dpi=110, bbox_inches="tight")
