"""Draws 02_plane_vs_surface.png, the concept diagram of notebook 02: ``python notebooks/figures/02_plane_vs_surface.py``."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

rng = np.random.default_rng(0)
t = np.sort(rng.uniform(-1.0, 1.0, 60))
curve = lambda s: np.c_[2.2 * s, 1.6 * s**2]  # noqa: E731
x = curve(t) + 0.07 * rng.normal(size=(len(t), 2))

# PCA with one component: the line through the mean along the direction of largest variance
mu = x.mean(axis=0)
u = np.linalg.svd(x - mu)[2][0]
x_pca = mu + np.outer((x - mu) @ u, u)
# The curved reconstruction a nonlinear autoencoder can learn: each point to the nearest point on the curve
dense = curve(np.linspace(-1.1, 1.1, 2000))
x_ae = dense[np.argmin(((x[:, None] - dense[None]) ** 2).sum(-1), axis=1)]

fig, axes = plt.subplots(1, 2, figsize=(11, 3.7), sharex=True, sharey=True)
for ax, x_hat, title, colour in (
    (axes[0], x_pca, "PCA / linear autoencoder: a flat line", "tab:blue"),
    (axes[1], x_ae, "nonlinear autoencoder: a curve", "tab:orange"),
):
    for p, q in zip(x, x_hat):
        ax.plot(*np.c_[p, q], c="tab:red", lw=0.8, alpha=0.7)
    if x_hat is x_pca:
        s = np.linspace(-2.8, 2.8, 2)
        ax.plot(*(mu + np.outer(s, u)).T, c=colour, lw=2, label="what it can reconstruct")
    else:
        ax.plot(*dense.T, c=colour, lw=2, label="what it can reconstruct")
    ax.scatter(*x.T, s=14, c="0.3", zorder=3, label="data points")
    ax.plot([], [], c="tab:red", lw=0.8, label="reconstruction error")
    mse = np.mean((x - x_hat) ** 2)
    ax.set_title(f"{title}\nmean squared error {mse:.3f}", fontsize=11)
    ax.set_xlabel("pixel 1 (say)")
    ax.set_aspect("equal")
axes[0].set_ylabel("pixel 2 (say)")
axes[0].legend(fontsize=9, loc="upper center")
fig.suptitle("Code of 1 number per point: a plane (here a line) or a curved surface through the data", fontsize=13)
fig.tight_layout()
fig.savefig(Path(__file__).with_suffix(".png"), dpi=110, bbox_inches="tight")
