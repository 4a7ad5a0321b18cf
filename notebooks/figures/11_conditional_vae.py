"""Draws 11_conditional_vae.png, the concept diagram of notebook 11: ``python notebooks/figures/11_conditional_vae.py``."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402


def box(ax, x, y, w, h, text, color, fontsize=11):
    ax.add_patch(
        FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.08", fc=color, ec="0.25", lw=1.2)
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def arrow(ax, start, end, color="0.2", ls="-"):
    ax.annotate("", xy=end, xytext=start, arrowprops=dict(arrowstyle="-|>", color=color, lw=1.6, ls=ls, shrinkA=2, shrinkB=2))


def line(ax, points, color):
    # a polyline whose last segment ends in an arrow head
    xs, ys = zip(*points)
    ax.plot(xs[:-1], ys[:-1], color=color, lw=1.6)
    arrow(ax, points[-2], points[-1], color=color)


fig, ax = plt.subplots(figsize=(12, 6.3))
ax.set_xlim(0, 12), ax.set_ylim(-0.35, 6.3), ax.axis("off")
# training: the label enters the encoder and the decoder
ax.text(0.1, 6.0, "Training: both halves read the label", fontsize=11, weight="bold")
box(ax, 0.9, 5.1, 1.4, 0.75, "label $y$\n(one-hot)", "#f4cccc")
box(ax, 0.9, 3.6, 1.4, 0.8, "image $x$", "#e8e8e8")
box(ax, 3.0, 3.6, 1.7, 1.0, "encoder\n$q(z \\mid x, y)$", "#cfe2f3")
box(ax, 5.2, 3.6, 1.6, 0.9, "code $z$\n(small: the style)", "#fff2cc")
box(ax, 7.4, 3.6, 1.7, 1.0, "decoder\n$p(x \\mid z, y)$", "#d9ead3")
box(ax, 9.6, 3.6, 1.3, 0.8, "image $\\hat x$", "#e8e8e8")
arrow(ax, (1.6, 3.6), (2.15, 3.6))
line(ax, [(1.6, 5.1), (3.0, 5.1), (3.0, 4.1)], "tab:red")
line(ax, [(3.0, 5.1), (7.4, 5.1), (7.4, 4.1)], "tab:red")
ax.text(5.2, 5.2, "the same label enters the decoder", color="tab:red", fontsize=9, ha="center")
arrow(ax, (3.85, 3.6), (4.4, 3.6))
arrow(ax, (6.0, 3.6), (6.55, 3.6))
arrow(ax, (8.25, 3.6), (8.95, 3.6))
box(
    ax,
    9.6,
    2.1,
    4.2,
    0.95,
    "loss $=$ reconstruction $-\\log p(x \\mid z, y)$\n$+\\ \\beta\\,$KL$(q(z \\mid x, y)\\,\\|\\,N(0, I))$",
    "#fce5cd",
    fontsize=10,
)
arrow(ax, (9.6, 3.2), (9.6, 2.6), color="tab:orange")
line(ax, [(5.2, 3.15), (5.2, 2.1), (7.5, 2.1)], "tab:orange")
ax.text(5.3, 2.45, "KL: $\\beta > 1$ makes every\nnat in $z$ cost more", color="tab:orange", fontsize=9)
# generating: a code from the prior, the label we ask for
ax.plot([0.1, 11.9], [1.4, 1.4], color="0.7", lw=0.8)
ax.text(0.1, 1.13, "Generating: any code, the class we ask for", fontsize=11, weight="bold")
box(ax, 5.2, 0.75, 1.6, 0.6, "$z \\sim N(0, I)$", "#fff2cc", fontsize=10)
box(ax, 5.2, 0.0 + 0.05, 1.6, 0.55, 'label "sandal"', "#f4cccc", fontsize=10)
box(ax, 7.4, 0.4, 1.7, 0.8, "decoder", "#d9ead3")
box(ax, 9.6, 0.4, 1.3, 0.8, "a sandal", "#e8e8e8")
arrow(ax, (6.0, 0.75), (6.55, 0.6))
arrow(ax, (6.0, 0.05), (6.55, 0.2), color="tab:red")
arrow(ax, (8.25, 0.4), (8.95, 0.4))
ax.set_title("A conditional VAE: the label says what, the code says how", fontsize=13)
fig.savefig(Path(__file__).with_suffix(".png"), dpi=100, bbox_inches="tight")
