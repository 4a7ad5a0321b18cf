"""Draws 14_two_scores.png, the concept diagram of notebook 14: ``python notebooks/figures/14_two_scores.py``."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

rng = np.random.default_rng(0)
t = np.r_[rng.uniform(-2.6, -1.3, 70), rng.uniform(1.3, 2.6, 70)]  # normal rows: two arcs of one curve, a gap between
curve = lambda s: np.c_[s, 0.35 * s**2 - 1.0]  # noqa: E731
normal = curve(t) + 0.08 * rng.normal(size=(len(t), 2))
off = np.array([[1.0, 1.4]])  # breaks the relation between the columns: far from the curve
gap = curve(np.array([0.0]))  # on the curve, where no normal row lies

fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
for ax in axes:
    ax.scatter(*normal.T, s=10, c="0.55", label="normal rows (fitted)")
    s = np.linspace(-2.8, 2.8, 200)
    ax.plot(*curve(s).T, c="tab:blue", lw=1.2, alpha=0.7, label="what the autoencoder reconstructs")
    ax.scatter(*off.T, s=90, marker="X", c="tab:red", zorder=3, label="anomaly A: off the surface")
    ax.scatter(*gap.T, s=90, marker="P", c="tab:purple", zorder=3, label="anomaly B: on it, far from every row")
    ax.set_xlim(-3, 3), ax.set_ylim(-1.6, 2.1), ax.set_xlabel("column 1 (standardised)")
axes[0].set_ylabel("column 2 (standardised)")
# 1: reconstruction error
grid = curve(np.linspace(-2.8, 2.8, 2000))
proj = grid[[np.argmin(np.linalg.norm(grid - off, axis=1))]]
axes[0].annotate("", xy=proj[0], xytext=off[0], arrowprops=dict(arrowstyle="<->", color="tab:red", lw=1.6))
axes[0].text(-0.9, 1.0, "A: large error", color="tab:red")
axes[0].text(-0.55, -1.45, "B: error ~ 0", color="tab:purple")
axes[0].set_title("1. reconstruction error\nflags A, misses B")
# 2: neighbour distance
d = np.linalg.norm(normal - gap, axis=1)
for j in np.argsort(d)[:5]:
    axes[1].plot([gap[0, 0], normal[j, 0]], [gap[0, 1], normal[j, 1]], c="tab:purple", lw=1)
d = np.linalg.norm(normal - off, axis=1)
for j in np.argsort(d)[:5]:
    axes[1].plot([off[0, 0], normal[j, 0]], [off[0, 1], normal[j, 1]], c="tab:red", lw=1)
axes[1].set_title("2. mean distance to the 5 nearest normal rows\nflags B (and A, less clearly)")
# 3: the combination
axes[2].set_title("3. AutoencoderDetector: both, each as log(value)\ncentred and scaled on normal rows, then averaged")
axes[2].text(-2.9, 1.75, "score = (1 - w) z(log error) + w z(log distance)", fontsize=9)
axes[2].text(-2.9, 1.45, "flags A and B", fontsize=9)
handles, labels = axes[0].get_legend_handles_labels()
fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=9, bbox_to_anchor=(0.5, -0.08))
fig.suptitle("Two ways a row can be abnormal, and the two scores that see them", y=1.02)
fig.tight_layout()
fig.savefig(Path(__file__).with_suffix(".png"), dpi=110, bbox_inches="tight")
