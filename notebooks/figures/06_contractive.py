"""Draws 06_contractive.png, the concept diagram of notebook 06: ``python notebooks/figures/06_contractive.py``."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Ellipse  # noqa: E402

t = np.linspace(-2.5, 2.5, 200)
curve = np.c_[t, 0.5 * np.sin(1.3 * t)]  # the data: images vary along a curve
rng = np.random.default_rng(0)
data = curve[rng.integers(0, len(t), 60)] + 0.04 * rng.normal(size=(60, 2))
x0 = curve[100]
slope = np.arctan2(*(curve[101] - curve[99])[::-1])  # angle of the curve at x0

fig, axes = plt.subplots(1, 3, figsize=(13, 4.6))
ax = axes[0]
ax.plot(*curve.T, c="tab:blue", lw=1.5, label="where the images lie")
ax.scatter(*data.T, s=8, c="tab:blue", alpha=0.5)
ax.add_patch(Ellipse(x0, 0.9, 0.9, fc="tab:orange", alpha=0.35, ec="tab:orange"))
ax.scatter(*x0, c="k", s=20, zorder=3)
ax.text(x0[0] + 0.1, x0[1] + 0.55, "x and a small\nneighbourhood", fontsize=9)
ax.set_title("input space (784 pixels)", fontsize=11)

titles = [
    "code z = f(x) of a plain encoder:\nthe neighbourhood moves the code in every direction",
    "code z = f(x) of a contractive encoder:\nshrunk across the data, kept along it",
]
shapes = [(1.6, 1.3), (1.1, 0.16)]
for ax, title, (w, h) in zip(axes[1:], titles, shapes):
    ax.plot(*(1.1 * curve).T, c="tab:blue", lw=1.5)
    ax.add_patch(Ellipse(1.1 * x0, w, h, angle=np.degrees(slope), fc="tab:orange", alpha=0.35, ec="tab:orange"))
    ax.scatter(*(1.1 * x0), c="k", s=20, zorder=3)
    ax.set_title(title, fontsize=11)
for ax in axes:
    ax.set_xlim(-3, 3), ax.set_ylim(-2, 2), ax.set_aspect("equal"), ax.set_xticks([]), ax.set_yticks([])
axes[0].set_xlabel("pixel direction 1"), axes[0].set_ylabel("pixel direction 2")
for ax in axes[1:]:
    ax.set_xlabel("code unit 1"), ax.set_ylabel("code unit 2")
axes[1].text(-2.9, -1.85, r"$f(x+\varepsilon) - f(x) \approx J\varepsilon$,  $J = \partial z/\partial x$", fontsize=9)
axes[2].text(-2.9, -1.85, r"penalty $\lambda \Vert J \Vert_F^2$: small moves barely move the code", fontsize=9)
fig.suptitle("The contractive penalty shrinks the image of a neighbourhood, least along the data", fontsize=13)
fig.tight_layout()
fig.savefig(Path(__file__).with_suffix(".png"), dpi=100, bbox_inches="tight")
