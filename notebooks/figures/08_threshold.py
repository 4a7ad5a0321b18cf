"""Draws 08_threshold.png, the concept diagram of notebook 08: ``python notebooks/figures/08_threshold.py``."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

rng = np.random.default_rng(0)
normal = rng.lognormal(np.log(0.01), 0.45, 20000)
anomal = rng.lognormal(np.log(0.03), 0.45, 2000)
threshold = np.quantile(normal, 0.95)

fig = plt.figure(figsize=(12, 4.8))
left = fig.add_axes([0.0, 0.05, 0.42, 0.85])
left.set_xlim(0, 10), left.set_ylim(0, 10), left.axis("off")
steps = [
    (8.2, "1. train on normal images only\n(no anomaly needed)"),
    (5.6, "2. score held-out normal images:\nreconstruction error"),
    (3.0, "3. threshold = the 95th percentile of those\nscores: a false-alarm rate of 5%"),
    (0.4, "4. in use: flag an image whose\nscore is above the threshold"),
]
for y, text in steps:
    left.add_patch(FancyBboxPatch((0.4, y), 8.6, 1.6, boxstyle="round,pad=0.1", fc="0.93", ec="0.4"))
    left.text(4.7, y + 0.8, text, ha="center", va="center", fontsize=10)
for (y0, _), (y1, _) in zip(steps, steps[1:]):
    left.add_patch(FancyArrowPatch((4.7, y0 - 0.1), (4.7, y1 + 1.7), arrowstyle="-|>", mutation_scale=14, color="0.3"))

ax = fig.add_axes([0.5, 0.14, 0.48, 0.72])
bins = np.geomspace(0.003, 0.15, 70)
ax.hist(normal, bins=bins, density=True, alpha=0.6, color="tab:blue", label="normal validation images (known)")
ax.hist(
    anomal,
    bins=bins,
    density=True,
    histtype="step",
    lw=1.5,
    ls="--",
    color="tab:red",
    label="anomalies (unknown when the threshold is set)",
)
ax.axvline(threshold, color="k", lw=1.5)
ax.set_ylim(0, 1.45 * ax.get_ylim()[1])
ax.text(threshold * 1.05, ax.get_ylim()[1] * 0.55, "threshold:\n5% of normal\nscores above it", fontsize=9)
ax.set(
    xscale="log",
    xlabel="anomaly score (reconstruction error, log scale)",
    ylabel="density",
    title="A false-alarm rate sets the threshold; recall is what follows",
)
ax.legend(loc="upper left", fontsize=8)
fig.suptitle("Label-free threshold: a quantile of normal validation scores", fontsize=13, y=1.0)
fig.savefig(Path(__file__).with_suffix(".png"), dpi=100, bbox_inches="tight")
