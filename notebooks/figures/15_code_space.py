"""Draws 15_code_space.png, the concept diagram of notebook 15: ``python notebooks/figures/15_code_space.py``."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402


def box(ax, x, y, w, h, text, color, fontsize=10):
    ax.add_patch(
        FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.08", fc=color, ec="0.25", lw=1.2)
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def arrow(ax, start, end, color="0.2", text=None, dy=0.15):
    ax.annotate("", xy=end, xytext=start, arrowprops=dict(arrowstyle="-|>", color=color, lw=1.6, shrinkA=2, shrinkB=2))
    if text:
        ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + dy, text, ha="center", fontsize=9, color=color)


rng = np.random.default_rng(0)
fig = plt.figure(figsize=(13, 5.6))
ax = fig.add_axes([0, 0, 1, 1])
ax.set_xlim(0, 13), ax.set_ylim(0, 5.6), ax.axis("off")
ax.text(6.5, 5.3, "The code space: encode once, then look at it (a map) and reuse it (a classifier)", ha="center", fontsize=13)
box(ax, 0.9, 3.0, 1.4, 0.9, "image\n784 pixels", "#e8e8e8")
box(ax, 2.9, 3.0, 1.6, 1.0, "encoder\n$h = a(W^\\top x + b)$", "#cfe2f3")
arrow(ax, (1.6, 3.0), (2.1, 3.0))
# the code space: a cloud of 16-D codes, drawn as three classes in a panel
code_ax = fig.add_axes([4.2 / 13, 1.75 / 5.6, 2.6 / 13, 2.5 / 5.6])
for k, (cx, cy) in enumerate(((-1.2, 0.6), (1.0, 0.9), (0.1, -1.1))):
    pts = rng.normal(size=(60, 2)) * (0.35 + 0.25 * k) + (cx, cy)
    code_ax.scatter(*pts.T, s=7, color=f"C{k}")
code_ax.set(title="code: 16 numbers per image", xticks=[], yticks=[], xlabel="code space (16-D, two shown)")
arrow(ax, (3.7, 3.0), (4.2, 3.0))
# decode: tied weights
box(ax, 5.5, 0.85, 2.6, 0.8, "decoder $\\hat x = a'(W h + c)$\ntied: the encoder's $W$, transposed", "#d9ead3", 9)
arrow(ax, (5.5, 1.75), (5.5, 1.25), text=None)
ax.text(4.05, 0.85, "reconstruct", ha="right", va="center", fontsize=9)
# look: a t-SNE map
map_ax = fig.add_axes([8.3 / 13, 3.0 / 5.6, 1.9 / 13, 1.8 / 5.6])
for k, (cx, cy) in enumerate(((-1.0, 0.5), (1.0, 0.6), (0.0, -1.0))):
    pts = rng.normal(size=(60, 2)) * 0.35 + (cx, cy)
    map_ax.scatter(*pts.T, s=5, color=f"C{k}")
map_ax.set(title="look: a 2-D t-SNE map", xticks=[], yticks=[])
arrow(ax, (6.85, 3.6), (8.25, 3.9), text="t-SNE", dy=0.2)
ax.text(10.35, 3.9, "neighbours kept\n(trustworthiness);\ncluster sizes and\ngaps not", fontsize=9, va="center")
# reuse: a classifier
box(ax, 9.3, 1.75, 2.3, 0.95, "reuse: encoder + softmax\nprobe: encoder frozen\nfine-tune: all weights", "#fff2cc", 9)
arrow(ax, (6.85, 2.5), (8.1, 1.95), text="few labels", dy=-0.35)
box(ax, 11.9, 1.75, 1.5, 0.7, "class", "#f4cccc")
arrow(ax, (10.45, 1.75), (11.15, 1.75))
ax.text(
    9.3, 0.75, "greedy pretraining: train the encoder\none layer at a time, then fine-tune", ha="center", fontsize=9, color="0.3"
)
fig.savefig(Path(__file__).with_suffix(".png"), dpi=90)
