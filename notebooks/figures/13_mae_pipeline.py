"""Draws 13_mae_pipeline.png, the concept diagram of notebook 13: ``python notebooks/figures/13_mae_pipeline.py``."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import FancyBboxPatch, Rectangle  # noqa: E402

# a 28x28 "garment" (a T-shirt silhouette) and a fixed 75% mask over its 7x7 grid of 4x4 patches
img = np.zeros((28, 28))
img[6:26, 9:19] = 0.85  # body
img[6:12, 3:25] = 0.85  # sleeves
img[6:8, 12:16] = 0.2  # neckline
img += 0.1 * np.sin(np.arange(28))[None, :] * (img > 0)
rng = np.random.default_rng(3)
hidden = np.zeros(49, bool)
hidden[rng.permutation(49)[:37]] = True  # 37 of 49 hidden, 12 visible
hidden = hidden.reshape(7, 7)
pixel_hidden = np.kron(hidden, np.ones((4, 4), bool))
# what a trained model returns: a blurred guess on the hidden patches, the visible ones pasted back
blur = img.copy()
for _ in range(4):
    blur = 0.2 * (blur + np.roll(blur, 1, 0) + np.roll(blur, -1, 0) + np.roll(blur, 1, 1) + np.roll(blur, -1, 1))
recon = np.where(pixel_hidden, blur, img)


def tile(ax, image, title, grid=True, hidden_mask=None, edge=None):
    ax.imshow(image, cmap="gray", vmin=0, vmax=1)
    if grid:
        for k in range(1, 7):
            ax.axhline(4 * k - 0.5, color="tab:blue", lw=0.6, alpha=0.6)
            ax.axvline(4 * k - 0.5, color="tab:blue", lw=0.6, alpha=0.6)
    if hidden_mask is not None:
        for r, c in zip(*np.nonzero(hidden_mask)):
            ax.add_patch(Rectangle((4 * c - 0.5, 4 * r - 0.5), 4, 4, fill=False, ec=edge, lw=1.4))
    ax.set_title(title, fontsize=10)
    ax.set_xticks([]), ax.set_yticks([])


def box(ax, x, y, w, h, text, color):
    ax.add_patch(
        FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.08", fc=color, ec="0.25", lw=1.2)
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=10)


fig = plt.figure(figsize=(13, 5.2))
canvas = fig.add_axes([0, 0, 1, 1])
canvas.set_xlim(0, 13), canvas.set_ylim(0, 5.2), canvas.axis("off")
size = 1.9 / 13  # width of an image panel in figure units
panels = [
    (0.25, "1. image, cut into\n7 x 7 patches of 4 x 4"),
    (2.45, "2. hide a random 75%\n(37 patches; 12 stay)"),
    (10.85, "5. prediction of every\npatch (visible pasted back)"),
]
axes = [fig.add_axes([x / 13, 1.7 / 5.2, size, 1.9 / 5.2]) for x, _ in panels]
tile(axes[0], img, panels[0][1])
tile(axes[1], np.where(pixel_hidden, 0.5, img), panels[1][1])
tile(axes[2], recon, panels[2][1], hidden_mask=hidden, edge="tab:red")
box(canvas, 5.55, 2.65, 1.9, 1.3, "3. encoder\n(Transformer)\non the 12 visible\npatches only", "#cfe2f3")
box(canvas, 8.6, 2.65, 2.2, 1.3, "4. light decoder\n12 encoded tokens\n+ 37 mask tokens,\nat their positions", "#d9ead3")
for a, b in (((4.4, 2.65), (4.6, 2.65)), ((6.5, 2.65), (7.5, 2.65)), ((9.7, 2.65), (10.8, 2.65)), ((2.2, 2.65), (2.4, 2.65))):
    canvas.annotate("", xy=b, xytext=a, arrowprops=dict(arrowstyle="-|>", lw=1.6, color="0.2"))
canvas.text(7.0, 2.85, "codes", ha="center", fontsize=9)
box(
    canvas,
    8.4,
    0.75,
    7.0,
    0.75,
    "loss: squared error on the 37 hidden patches only (outlined in red);\n"
    "a visible patch is never scored, so copying the input earns nothing",
    "#fce5cd",
)
canvas.annotate("", xy=(11.5, 1.15), xytext=(11.8, 1.65), arrowprops=dict(arrowstyle="-|>", lw=1.4, color="tab:orange"))
canvas.text(
    5.55, 4.0, "the encoder sees a quarter of the tokens:\nabout a quarter of the work", ha="center", fontsize=9, color="tab:blue"
)
canvas.text(
    0.25,
    0.75,
    "After training the decoder is dropped;\nthe encoder, run on all 49 patches,\nis the feature extractor.",
    fontsize=9,
    va="center",
)
canvas.text(
    6.5, 4.85, "A masked autoencoder (He et al. 2021): hide most patches, predict them from the rest", ha="center", fontsize=13
)
fig.savefig(Path(__file__).with_suffix(".png"), dpi=90)
