"""Draws 01_copying_trap.png, the concept diagram of notebook 01: ``python notebooks/figures/01_copying_trap.py``."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, Polygon, Rectangle  # noqa: E402


def hourglass(ax, sizes, colours, labels):
    """Layers as bars (height ~ units) joined by grey funnels, each bar labelled with its size."""
    xs = [1.0 + 2.0 * i for i in range(len(sizes))]
    h = lambda n: 0.3 + 3.0 * n / 1024  # noqa: E731
    for i, (x, n, c, label) in enumerate(zip(xs, sizes, colours, labels)):
        if i + 1 < len(sizes):
            a, b = h(n) / 2, h(sizes[i + 1]) / 2
            ax.add_patch(Polygon([(x + 0.2, -a), (x + 1.8, -b), (x + 1.8, b), (x + 0.2, a)], color="0.9", zorder=0))
        ax.add_patch(Rectangle((x - 0.2, -h(n) / 2), 0.4, h(n), color=c, alpha=0.85))
        ax.text(x, -h(n) / 2 - 0.15, label, ha="center", va="top", fontsize=10)
    return xs


fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
for ax in axes:
    ax.set_xlim(0, 6), ax.set_ylim(-3.4, 2.9), ax.axis("off")
grey, red = "0.45", "tab:red"
hourglass(
    axes[0], [784, 16, 784], [grey, red, grey], ["input $x$\n784 pixels", "code\n$k = 16$", "output $\\hat{x}$\n784 pixels"]
)
axes[0].set_title("Under-complete: code smaller than the input", fontsize=12)
axes[0].text(3, 1.9, "room for the main patterns only:\nthe model must choose what to keep", ha="center", fontsize=10)
axes[0].text(3, -3.2, "compression $784 / k$ = 49 to 1", ha="center", fontsize=10)

xs = hourglass(
    axes[1], [784, 1024, 784], [grey, red, grey], ["input $x$\n784 pixels", "code\n$k = 1024$", "output $\\hat{x}$\n784 pixels"]
)
axes[1].add_patch(
    FancyArrowPatch(
        (xs[0] + 0.25, 1.75),
        (xs[2] - 0.25, 1.75),
        connectionstyle="arc3,rad=-0.25",
        arrowstyle="-|>",
        mutation_scale=16,
        color="tab:purple",
        lw=1.6,
        ls="--",
    )
)
axes[1].text(3, 2.55, "copy: $\\hat{x} = x$ has zero error on every input", ha="center", fontsize=10, color="tab:purple")
axes[1].set_title("Over-complete: code larger than the input", fontsize=12)
axes[1].text(
    3,
    -3.2,
    "a low error proves nothing; only a constraint\n(a weight penalty, a small $k$) rules the copy out",
    ha="center",
    fontsize=10,
)
fig.suptitle("The copying trap: what the size of the code allows", fontsize=13)
fig.tight_layout()
fig.savefig(Path(__file__).with_suffix(".png"), dpi=110, bbox_inches="tight")
