"""Draws 10_masked_loss.png, the concept diagram of notebook 10: ``python notebooks/figures/10_masked_loss.py``."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyBboxPatch, Rectangle  # noqa: E402

ratings = [4, None, None, 2, None, 5, None, 3]  # one item's column: 8 users, 4 of them rated it
predicted = [3.8, 4.1, 2.6, 2.3, 3.5, 4.6, 3.1, 3.2]


def column(ax, x, values, title, observed_color="#cfe2f3", fmt="{:g}", missing="?", highlight=None):
    for j, v in enumerate(values):
        y = 4.2 - 0.45 * j
        fc = observed_color if ratings[j] is not None else "#f3f3f3"
        if highlight is not None:
            fc = highlight if ratings[j] is not None else "white"
        ax.add_patch(Rectangle((x - 0.3, y - 0.2), 0.6, 0.4, fc=fc, ec="0.4"))
        ax.text(x, y, missing if v is None else fmt.format(v), ha="center", va="center", fontsize=10)
    ax.text(x, 4.65, title, ha="center", va="bottom", fontsize=10)


def box(ax, x, y, w, h, text, color, fontsize=10.5):
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.08",
                                fc=color, ec="0.25", lw=1.2))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def arrow(ax, start, end, color="0.2"):
    ax.annotate("", xy=end, xytext=start, arrowprops=dict(arrowstyle="-|>", color=color, lw=1.6, shrinkA=2, shrinkB=2))


fig, ax = plt.subplots(figsize=(12, 5.8))
ax.set_xlim(0, 12), ax.set_ylim(-0.5, 5.3), ax.axis("off")
column(ax, 0.8, ratings, "item $i$'s ratings\n$\\mathbf{r}_i$ (8 users)")
ax.text(0.8, 0.55, "? = not rated:\nthe input holds 0\n(after centring)", ha="center", va="center", fontsize=9)
box(ax, 2.9, 2.6, 1.6, 1.3, "encoder\n$\\sigma(V\\mathbf{r}_i + \\mu)$", "#cfe2f3")
box(ax, 4.7, 2.6, 1.1, 0.9, "code\n$\\mathbf{h}_i$", "#fff2cc")
box(ax, 6.5, 2.6, 1.6, 1.3, "decoder\n$W\\mathbf{h}_i + \\mathbf{b}$", "#d9ead3")
arrow(ax, (1.15, 2.6), (2.1, 2.6)), arrow(ax, (3.7, 2.6), (4.15, 2.6)), arrow(ax, (5.25, 2.6), (5.7, 2.6))
arrow(ax, (7.3, 2.6), (8.0, 2.6))
column(ax, 8.4, predicted, "prediction $\\hat{\\mathbf{r}}_i$\nfor every user", observed_color="#d9ead3",
       fmt="{:.1f}")
for j, r in enumerate(ratings):  # the output is full: predictions of the unrated entries are the recommendations
    if r is None:
        ax.add_patch(Rectangle((8.1, 4.2 - 0.45 * j - 0.2), 0.6, 0.4, fc="#fff2cc", ec="0.4"))
        ax.text(8.4, 4.2 - 0.45 * j, f"{predicted[j]:.1f}", ha="center", va="center", fontsize=10)
ax.text(8.4, 0.55, "yellow: a user who never\nrated $i$: a recommendation", ha="center", va="center", fontsize=9)
squared = [None if r is None else (r - p) ** 2 for r, p in zip(ratings, predicted)]
column(ax, 10.2, [None if s is None else s for s in squared], "squared error\nin the loss?", fmt="{:.2f}",
       missing="—", highlight="#fce5cd")
for j, r in enumerate(ratings):
    y = 4.2 - 0.45 * j
    ax.text(10.65, y, "counts" if r is not None else "ignored", va="center", fontsize=9,
            color="tab:orange" if r is not None else "0.5")
ax.text(6.0, -0.2, "loss of item $i$ $=$ $\\sum_{u \\in O_i} (r_{ui} - \\hat r_{ui})^2$, over the observed ratings $O_i$ only",
        ha="center", va="center", fontsize=11, color="tab:orange")
ax.set_title("AutoRec's masked loss: the autoencoder predicts every rating, only the observed ones are scored",
             fontsize=13)
fig.savefig(Path(__file__).with_suffix(".png"), dpi=110, bbox_inches="tight")
