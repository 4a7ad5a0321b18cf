"""Draws 05_sparse.png, the concept diagram of notebook 05: ``python notebooks/figures/05_sparse.py``."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

rng = np.random.default_rng(0)
units = 48  # drawn units, standing for the 256 of the notebook
dense = np.clip(rng.uniform(0.2, 0.95, units) + 0.05 * rng.normal(size=units), 0, 1)
sparse = np.zeros(units)
sparse[rng.choice(units, 4, replace=False)] = rng.uniform(0.6, 1.0, 4)
kl = np.clip(rng.exponential(0.03, units), 0, 1)
kl[rng.choice(units, 5, replace=False)] = rng.uniform(0.5, 0.95, 5)

fig, axes = plt.subplots(3, 1, figsize=(11, 6.4), sharex=True)
panels = [
    (dense, "tab:gray", "no penalty: most of the units are active for every image"),
    (
        kl,
        "tab:blue",
        r"KL penalty (sigmoid units): each unit's mean activation pulled towards a small target $\rho$;"
        "\nsmall activations stay above 0, no unit dies",
    ),
    (
        sparse,
        "tab:orange",
        r"L1 penalty (ReLU units): $\lambda\,\Sigma_j |h_j|$ pushes activations to exactly 0;"
        "\na few units carry the image, and some units never fire (dead)",
    ),
]
for ax, (h, color, title) in zip(axes, panels):
    ax.bar(np.arange(units), h, color=color, width=0.8)
    ax.axhline(0.1, color="k", lw=0.8, ls=":")
    ax.set_ylim(0, 1.05), ax.set_ylabel("activation $h_j$")
    ax.set_title(title, fontsize=10, loc="left")
    ax.text(units - 0.5, 0.13, "'active' above 0.1", ha="right", fontsize=8)
axes[-1].set_xlabel("code unit j (48 drawn; the notebook's code has 256 units for 784 pixels)")
fig.suptitle("One image's code in a wide layer: a sparsity penalty leaves only a few units active", fontsize=13)
fig.tight_layout()
fig.savefig(Path(__file__).with_suffix(".png"), dpi=100, bbox_inches="tight")
