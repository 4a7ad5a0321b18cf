"""Draws 04_denoising.png, the concept diagram of notebook 04: ``python notebooks/figures/04_denoising.py``."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import FancyArrowPatch, Polygon  # noqa: E402

# A made-up 28x28 "garment": a T-shirt silhouette (body and sleeves)
img = np.zeros((28, 28))
img[6:25, 9:19] = 0.85
img[6:13, 4:24] = 0.85
img[6:8, 12:16] = 0.0  # neckline
rng = np.random.default_rng(0)
noisy = np.clip(img + 0.4 * rng.normal(size=img.shape), 0, 1)
recon = np.clip(img * 0.9 + 0.05, 0, 1)

fig, ax = plt.subplots(figsize=(12, 4.6))
ax.set_xlim(0, 12), ax.set_ylim(0.6, 4.3), ax.axis("off")


def image(x, y, data, label):
    ax.imshow(data, cmap="gray", vmin=0, vmax=1, extent=(x, x + 1.4, y, y + 1.4), zorder=2)
    ax.text(x + 0.7, y - 0.25, label, ha="center", va="top", fontsize=10)


def arrow(x0, y0, x1, y1, text="", color="k", style="-|>", ls="-", dy=0.15):
    ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle=style, mutation_scale=16, color=color, lw=1.6, ls=ls))
    if text:
        ax.text((x0 + x1) / 2, (y0 + y1) / 2 + dy, text, ha="center", va="bottom", fontsize=9, color=color)


image(0.2, 2.2, img, r"clean image $x$")
image(2.9, 2.2, noisy, r"corrupted $\tilde x$")
arrow(1.65, 2.9, 2.85, 2.9, "corrupt\n(training)", color="tab:red", dy=0.3)
ax.add_patch(Polygon([(4.7, 1.9), (4.7, 3.9), (6.0, 3.3), (6.0, 2.5)], closed=True, fc="tab:blue", alpha=0.35))
ax.text(5.35, 2.9, "encoder", ha="center", va="center", fontsize=10)
ax.add_patch(Polygon([(6.4, 2.5), (6.4, 3.3), (6.7, 3.3), (6.7, 2.5)], closed=True, fc="tab:purple", alpha=0.6))
ax.text(6.55, 2.3, "code", ha="center", va="top", fontsize=10)
ax.add_patch(Polygon([(7.1, 2.5), (7.1, 3.3), (8.4, 3.9), (8.4, 1.9)], closed=True, fc="tab:green", alpha=0.35))
ax.text(7.75, 2.9, "decoder", ha="center", va="center", fontsize=10)
arrow(4.35, 2.9, 4.7, 2.9)
arrow(8.45, 2.9, 8.85, 2.9)
image(8.9, 2.2, recon, r"reconstruction $\hat x$")
# the loss compares the output with the CLEAN image
ax.annotate(
    "",
    xy=(0.9, 1.75),
    xytext=(9.6, 1.75),
    arrowprops=dict(arrowstyle="<|-|>", color="tab:orange", lw=1.8, connectionstyle="arc3,rad=-0.12"),
)
ax.text(
    5.3,
    0.95,
    r"loss $= \Vert \hat x - x \Vert^2$: compared with the clean image, never with the corrupted one",
    ha="center",
    fontsize=10,
    color="tab:orange",
)
ax.text(10.5, 3.2, "fit(x, x):\nfresh noise\nevery step", fontsize=9, va="center")
ax.text(10.5, 2.4, "predict($\\tilde x$):\nno corruption,\nthe noisy image\nis the input", fontsize=9, va="top")
ax.set_title("A denoising autoencoder: corrupt the input, keep the clean image as the target", fontsize=13)
fig.savefig(Path(__file__).with_suffix(".png"), dpi=110, bbox_inches="tight")
