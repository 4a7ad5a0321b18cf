"""Draws 07_reparameterisation.png, the concept diagram of notebook 07: ``python notebooks/figures/07_reparameterisation.py``."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402


def box(ax, x, y, w, h, text, color, fontsize=11):
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.08",
                                fc=color, ec="0.25", lw=1.2))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def arrow(ax, start, end, color="0.2", style="-|>", ls="-", text=None, offset=(0, 0.12)):
    ax.annotate("", xy=end, xytext=start, arrowprops=dict(arrowstyle=style, color=color, lw=1.6, ls=ls,
                                                          shrinkA=2, shrinkB=2))
    if text:
        ax.text((start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1], text, ha="center",
                fontsize=9, color=color)


fig, ax = plt.subplots(figsize=(12, 5))
ax.set_xlim(0, 12), ax.set_ylim(0, 5), ax.axis("off")
box(ax, 0.9, 3.0, 1.3, 1.0, "image $x$\n784 pixels", "#e8e8e8")
box(ax, 2.9, 3.0, 1.6, 1.3, "encoder\n$q(z \\mid x)$", "#cfe2f3")
box(ax, 5.0, 3.75, 1.6, 0.7, "mean $\\mu(x)$", "#cfe2f3")
box(ax, 5.0, 2.25, 1.6, 0.7, "std. dev. $\\sigma(x)$", "#cfe2f3")
box(ax, 7.3, 3.0, 1.9, 1.0, "$z = \\mu + \\sigma \\odot \\varepsilon$", "#fff2cc", fontsize=12)
box(ax, 7.3, 4.55, 1.9, 0.6, "noise $\\varepsilon \\sim N(0, I)$", "#f4cccc", fontsize=10)
box(ax, 9.4, 3.0, 1.4, 1.3, "decoder\n$p(x \\mid z)$", "#d9ead3")
box(ax, 11.2, 3.0, 1.2, 1.0, "image $\\hat x$", "#e8e8e8")
arrow(ax, (1.55, 3.0), (2.1, 3.0))
arrow(ax, (3.7, 3.3), (4.35, 3.7))
arrow(ax, (3.7, 2.7), (4.35, 2.3))
arrow(ax, (5.65, 3.7), (6.35, 3.2))
arrow(ax, (5.65, 2.3), (6.35, 2.8))
arrow(ax, (7.3, 4.25), (7.3, 3.5), color="tab:red")
arrow(ax, (8.25, 3.0), (8.7, 3.0))
arrow(ax, (10.1, 3.0), (10.6, 3.0))
# gradients flow back through mu and sigma: the randomness is an input, not a step in the path
arrow(ax, (9.4, 1.62), (2.9, 1.62), color="tab:purple", ls="--",
      text="gradients reach the encoder through $\\mu$ and $\\sigma$ (the noise is only an input)", offset=(0, 0.1))
ax.plot([9.4, 9.4], [2.35, 1.62], color="tab:purple", ls="--", lw=1.6)
ax.plot([2.9, 2.9], [1.62, 2.35], color="tab:purple", ls="--", lw=1.6)
# the two loss terms
box(ax, 5.0, 0.6, 3.2, 0.75, "KL$(q(z \\mid x)\\,\\|\\,N(0, I))$: pulls every\ncloud of codes towards the prior",
    "#fce5cd", fontsize=10)
box(ax, 10.3, 0.6, 3.0, 0.75, "reconstruction: $-\\log p(x \\mid z)$\n(binary cross-entropy, summed)",
    "#fce5cd", fontsize=10)
arrow(ax, (5.0, 1.9), (5.0, 1.05), color="tab:orange")
arrow(ax, (11.2, 2.5), (10.9, 1.05), color="tab:orange")
ax.text(7.65, 0.6, "loss $=$\nrec. $+ \\beta\\,$KL", ha="center", va="center", fontsize=11, color="tab:orange")
ax.set_title("The VAE and the reparameterisation trick: the encoder outputs a Gaussian, the sample is "
             "$\\mu + \\sigma \\odot \\varepsilon$", fontsize=13)
fig.savefig(Path(__file__).with_suffix(".png"), dpi=115, bbox_inches="tight")
