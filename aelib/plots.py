"""The figures of the course: image grids, before/after rows, latent scatter plots, manifold
grids, interpolation strips, sweep curves, training histories and ROC curves.

Every function returns its ``matplotlib.figure.Figure`` with a title and labelled axes, and
never calls ``plt.show()``: a notebook shows the figure at the end of the cell, a script can
``fig.savefig(...)``. Functions drawing on one set of axes take ``ax=`` to draw into a subplot.
"""

import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np

__all__ = [
    "CLASS_NAMES",
    "image_grid",
    "compare_rows",
    "latent_scatter",
    "manifold_grid",
    "interpolation_strip",
    "plot_curves",
    "plot_history",
    "plot_roc",
]

CLASS_NAMES = {
    "fashion_mnist": [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ],
    "mnist": [str(d) for d in range(10)],
    "digits": [str(d) for d in range(10)],
}


def _as_images(images, name="images"):
    """``(n, h, w)``, ``(n, h, w, 1)``, ``(n, h, w, 3)`` or square-flattened ``(n, h*w)`` to
    an array ``imshow`` takes: ``(n, h, w)`` or ``(n, h, w, 3)``."""
    x = np.asarray(images)
    if x.ndim == 2:
        side = int(round(np.sqrt(x.shape[1])))
        if side * side != x.shape[1]:
            raise ValueError(f"{name} of shape {x.shape}: flat images must be square (h*w values); reshape them to (n, h, w).")
        x = x.reshape(len(x), side, side)
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim not in (3, 4) or (x.ndim == 4 and x.shape[-1] not in (3, 4)):
        raise ValueError(f"{name} must be (n, height, width[, 1 or 3 channels]), got shape {np.shape(images)}.")
    if len(x) == 0:
        raise ValueError(f"{name} is empty; pass at least one image.")
    return x


def _figure_and_axes(ax, figsize=(6, 4.5)):
    if ax is None:
        return plt.subplots(figsize=figsize)
    return ax.figure, ax


def _show(ax, image, cmap, vmin, vmax):
    ax.imshow(image, cmap=cmap if image.ndim == 2 else None, vmin=vmin, vmax=vmax)
    ax.set_xticks([])
    ax.set_yticks([])


def image_grid(images, ncols=8, titles=None, title=None, cmap="gray", vmin=0, vmax=1):
    """All of ``images`` in a grid of ``ncols`` columns, each optionally with its own title."""
    x = _as_images(images)
    if titles is not None and len(titles) != len(x):
        raise ValueError(f"titles must have one entry per image ({len(x)}), got {len(titles)}.")
    ncols = max(1, min(ncols, len(x)))
    nrows = int(np.ceil(len(x) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.3 * ncols, 1.4 * nrows + 0.5), squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= len(x):
            ax.axis("off")
            continue
        _show(ax, x[i], cmap, vmin, vmax)
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=8)
    fig.suptitle(title or f"{len(x)} images")
    fig.tight_layout()
    return fig


def compare_rows(rows, n=8, title=None, cmap="gray", vmin=0, vmax=1):
    """One row per entry of ``rows`` (label -> images), the first ``n`` images of each, e.g.
    ``{"original": x, "noisy": x_noisy, "denoised": x_hat}``; row labels on the left."""
    if not rows:
        raise ValueError("rows is empty; pass a dict such as {'original': x, 'reconstructed': x_hat}.")
    rows = {label: _as_images(imgs, f"rows[{label!r}]") for label, imgs in rows.items()}
    n = min(n, *(len(x) for x in rows.values()))
    fig, axes = plt.subplots(len(rows), n, figsize=(1.3 * n + 0.8, 1.4 * len(rows) + 0.5), squeeze=False)
    for r, (label, x) in enumerate(rows.items()):
        for c in range(n):
            _show(axes[r, c], x[c], cmap, vmin, vmax)
        axes[r, 0].set_ylabel(str(label), rotation=0, ha="right", va="center")
    fig.suptitle(title or " vs ".join(map(str, rows)))
    fig.tight_layout()
    return fig


def latent_scatter(codes, labels=None, class_names=None, title="Latent space", ax=None, max_points=5000, seed=0):
    """Codes as a 2-D scatter coloured by label; codes with more than 2 dimensions are projected
    to their first two principal components (and the axis labels say so).

    Integer labels with at most 20 values get one colour each and a legend (named by
    ``class_names``, e.g. ``CLASS_NAMES["fashion_mnist"]``); other labels a colour bar. At most
    ``max_points`` seeded random points are drawn, to keep the figure light.
    """
    z = np.asarray(codes, dtype=np.float64)
    if z.ndim != 2 or z.shape[1] < 2:
        raise ValueError(f"codes must be (n, dims) with dims >= 2, got shape {z.shape}.")
    if labels is not None and len(labels) != len(z):
        raise ValueError(f"labels must have one entry per code ({len(z)}), got {len(labels)}.")
    dims = z.shape[1]
    if dims == 2:
        xlabel, ylabel = "z[0]", "z[1]"
    else:
        from sklearn.decomposition import PCA

        pca = PCA(n_components=2).fit(z)
        z = pca.transform(z)
        share = pca.explained_variance_ratio_ * 100
        xlabel = f"PC 1 of the {dims}-D codes ({share[0]:.0f}% of variance)"
        ylabel = f"PC 2 ({share[1]:.0f}% of variance)"
    keep = np.arange(len(z))
    if len(z) > max_points:
        keep = np.sort(np.random.default_rng(seed).choice(len(z), max_points, replace=False))
    fig, ax = _figure_and_axes(ax, (6.5, 5.5))
    y = None if labels is None else np.asarray(labels)[keep]
    if y is None:
        ax.scatter(z[keep, 0], z[keep, 1], s=4, alpha=0.6)
    elif np.issubdtype(y.dtype, np.integer) and len(np.unique(y)) <= 20:
        cmap = plt.get_cmap("tab10" if y.max() < 10 else "tab20")
        for value in np.unique(y):
            name = class_names[value] if class_names is not None else str(value)
            ax.scatter(*z[keep][y == value].T, s=4, alpha=0.6, color=cmap(value % cmap.N), label=name)
        ax.legend(markerscale=3, fontsize=8, loc="best", title="class")
    else:
        points = ax.scatter(z[keep, 0], z[keep, 1], c=y, s=4, alpha=0.6, cmap="viridis")
        fig.colorbar(points, ax=ax, label="label")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return fig


def manifold_grid(
    decoder, n=15, limits=(-3, 3), title="Images decoded from a grid of codes", ax=None, cmap="gray", axis_labels=("z[0]", "z[1]")
):
    """Decode an ``n x n`` grid of 2-D codes spanning ``limits`` and tile the images into one.

    ``decoder`` maps ``(m, 2)`` codes to images: a Keras model (its ``predict`` is used) or any
    callable. ``z[0]`` runs left to right, ``z[1]`` bottom to top. ``limits`` is one
    ``(low, high)`` pair for both axes or two pairs ``((low0, high0), (low1, high1))``, one per
    axis (e.g. the 2nd and 98th percentiles of the training codes); ``axis_labels`` names them.
    """
    pairs = np.asarray(limits, dtype=float)
    pairs = np.stack([pairs, pairs]) if pairs.shape == (2,) else pairs
    if pairs.shape != (2, 2) or not np.all(pairs[:, 0] < pairs[:, 1]) or n < 1:
        raise ValueError(
            f"limits must be (low, high) or ((low0, high0), (low1, high1)) with each low < high, and n >= 1; "
            f"got limits={limits}, n={n}."
        )
    v0, v1 = np.linspace(*pairs[0], n), np.linspace(*pairs[1], n)
    z0, z1 = np.meshgrid(v0, v1[::-1])  # top row = highest z[1]
    codes = np.stack([z0.ravel(), z1.ravel()], axis=1).astype(np.float32)
    out = decoder.predict(codes, verbose=0) if hasattr(decoder, "predict") else decoder(codes)
    x = _as_images(np.asarray(out), "the decoder's output")
    h, w = x.shape[1:3]
    tiles = x.reshape(n, n, h, w, *x.shape[3:])
    canvas = tiles.swapaxes(1, 2).reshape(n * h, n * w, *x.shape[3:])
    fig, ax = _figure_and_axes(ax, (7, 7))
    ax.imshow(canvas, cmap=cmap if canvas.ndim == 2 else None)
    step = max(1, n // 8)  # at most ~8 tick labels per axis
    ax.set_xticks(np.arange(n)[::step] * w + w / 2, [f"{v:.1f}" for v in v0[::step]])
    ax.set_yticks(np.arange(n)[::step] * h + h / 2, [f"{v:.1f}" for v in v1[::-1][::step]])
    ax.set(title=title, xlabel=axis_labels[0], ylabel=axis_labels[1])
    return fig


def interpolation_strip(images, title=None, cmap="gray", vmin=0, vmax=1):
    """One row of images, the steps of an interpolation, each labelled with its ``t`` in [0, 1]."""
    x = _as_images(images)
    ts = np.linspace(0, 1, len(x))
    fig, axes = plt.subplots(1, len(x), figsize=(1.3 * len(x), 1.9), squeeze=False)
    for ax, image, t in zip(axes[0], x, ts):
        _show(ax, image, cmap, vmin, vmax)
        ax.set_xlabel(f"t={t:.2f}", fontsize=8)
    fig.suptitle(title or f"Interpolation in {len(x)} steps")
    fig.tight_layout()
    return fig


def plot_curves(x, series, xlabel, ylabel, title, logx=False, logy=False, marker="o", ax=None):
    """One line per entry of ``series`` (label -> y values over ``x``): sweeps such as
    reconstruction error against code size, autoencoder vs PCA."""
    x = np.asarray(x)
    if not series:
        raise ValueError("series is empty; pass a dict such as {'autoencoder': errors, 'PCA': pca_errors}.")
    fig, ax = _figure_and_axes(ax)
    for label, y in series.items():
        if len(y) != len(x):
            raise ValueError(f"series[{label!r}] has {len(y)} values but x has {len(x)}.")
        ax.plot(x, y, marker=marker, label=str(label))
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.set_xscale("log" if logx else "linear")
    ax.set_yscale("log" if logy else "linear")
    if logx and len(x) <= 12:  # a sweep such as code sizes 2, 8, 32: label its own values, not powers of 10
        ax.set_xticks(x, [f"{v:g}" for v in x])
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def plot_history(history, keys=None, title="Training history", ax=None, logy=False):
    """Training curves from a Keras ``History`` (or its ``.history`` dict), one line per metric;
    validation metrics (``val_...``) are dashed in the colour of their training metric."""
    hist = getattr(history, "history", history)
    keys = list(hist) if keys is None else list(keys)
    missing = [k for k in keys if k not in hist]
    if missing or not keys:
        raise ValueError(f"keys {missing or keys} not in the history; it holds {sorted(hist)}.")
    fig, ax = _figure_and_axes(ax)
    colours = {}
    for key in keys:
        base = key[4:] if key.startswith("val_") else key
        colour = colours.setdefault(base, f"C{len(colours)}")
        epochs = np.arange(1, len(hist[key]) + 1)
        ax.plot(epochs, hist[key], color=colour, linestyle="--" if key != base else "-", label=key)
    ax.set(title=title, xlabel="epoch", ylabel=keys[0] if len(keys) == 1 else "value")
    if logy:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def plot_roc(labels, scores_by_method, title="ROC curves (anomaly = positive class)", ax=None):
    """ROC curve of each method's scores (label 1 = anomaly), its AUC in the legend."""
    from sklearn.metrics import roc_auc_score, roc_curve

    labels = np.asarray(labels).ravel()
    if not scores_by_method:
        raise ValueError("scores_by_method is empty; pass a dict such as {'autoencoder': errors}.")
    fig, ax = _figure_and_axes(ax, (5.5, 5))
    for name, scores in scores_by_method.items():
        scores = np.asarray(scores).ravel()
        if scores.shape != labels.shape:
            raise ValueError(f"scores_by_method[{name!r}] has {scores.size} scores for {labels.size} labels.")
        fpr, tpr, _ = roc_curve(labels, scores)
        ax.plot(fpr, tpr, label=f"{name} (AUC = {roc_auc_score(labels, scores):.3f})")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="chance (AUC = 0.5)")
    ax.set(title=title, xlabel="false positive rate", ylabel="true positive rate (recall)")
    ax.set_aspect("equal")
    ax.legend(loc="lower right", fontsize=8)
    return fig
