"""aelib.plots: every function returns a titled Figure, draws what it is given, shows nothing."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from aelib import plots  # noqa: E402

RNG = np.random.default_rng(0)
IMAGES = RNG.random((10, 8, 8, 1)).astype(np.float32)


def title_of(fig):
    """The figure's suptitle, else the title of its first titled axes."""
    return fig.get_suptitle() or next((ax.get_title() for ax in fig.axes if ax.get_title()), "")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def check(fig):
    assert isinstance(fig, Figure)
    assert title_of(fig).strip()
    return fig


def test_class_names():
    assert len(plots.CLASS_NAMES["fashion_mnist"]) == 10
    assert plots.CLASS_NAMES["fashion_mnist"][0] == "T-shirt/top"
    assert plots.CLASS_NAMES["fashion_mnist"][9] == "Ankle boot"
    assert plots.CLASS_NAMES["mnist"] == [str(d) for d in range(10)]


def test_image_grid_gray_rgb_and_flat():
    fig = check(plots.image_grid(IMAGES, ncols=4, titles=list("abcdefghij"), title="Ten"))
    assert fig.get_suptitle() == "Ten"
    assert sum(bool(ax.images) for ax in fig.axes) == 10  # 3 rows x 4 cols, 2 left blank
    assert fig.axes[0].images[0].get_array().shape == (8, 8)  # channel squeezed
    rgb = check(plots.image_grid(RNG.random((3, 5, 5, 3))))
    assert rgb.axes[0].images[0].get_array().shape == (5, 5, 3)
    check(plots.image_grid(IMAGES.reshape(10, 64)))  # flat square images
    with pytest.raises(ValueError, match="square"):
        plots.image_grid(np.zeros((2, 10)))


def test_compare_rows_labels_each_row():
    fig = check(plots.compare_rows({"original": IMAGES, "noisy": IMAGES + 0.1, "denoised": IMAGES}, n=5))
    assert len(fig.axes) == 15
    assert [fig.axes[i].get_ylabel() for i in (0, 5, 10)] == ["original", "noisy", "denoised"]


def test_latent_scatter_2d_and_projected():
    labels = np.arange(200) % 10
    fig = check(plots.latent_scatter(RNG.normal(size=(200, 2)), labels, plots.CLASS_NAMES["fashion_mnist"]))
    ax = fig.axes[0]
    assert ax.get_xlabel() == "z[0]"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == plots.CLASS_NAMES["fashion_mnist"]
    fig = check(plots.latent_scatter(RNG.normal(size=(200, 5)), labels, title="5-D"))
    assert "PC 1 of the 5-D codes" in fig.axes[0].get_xlabel()
    continuous = check(plots.latent_scatter(RNG.normal(size=(50, 2)), RNG.random(50)))
    assert len(continuous.axes) == 2  # the axes and its colour bar
    with pytest.raises(ValueError, match="dims >= 2"):
        plots.latent_scatter(np.zeros((5, 1)), np.zeros(5, int))


def test_manifold_grid_with_callable_and_model():
    def decoder(z):  # image brightness encodes the code, so the tiling can be checked
        return np.broadcast_to(z[:, 0, None, None] + 10 * z[:, 1, None, None], (len(z), 4, 4)).copy()

    fig = check(plots.manifold_grid(decoder, n=3, limits=(-1, 1)))
    canvas = fig.axes[0].images[0].get_array()
    assert canvas.shape == (12, 12)
    assert canvas[0, 0] == -1 + 10 * 1  # top-left: z0 = -1, z1 = +1
    assert canvas[-1, -1] == 1 + 10 * -1  # bottom-right: z0 = +1, z1 = -1
    assert fig.axes[0].get_xlabel() == "z[0]" and fig.axes[0].get_ylabel() == "z[1]"

    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(16, activation="sigmoid"), keras.layers.Reshape((4, 4, 1))])
    check(plots.manifold_grid(model, n=4))


def test_manifold_grid_takes_one_range_per_axis_and_axis_labels():
    def decoder(z):
        return np.broadcast_to(z[:, 0, None, None] + 10 * z[:, 1, None, None], (len(z), 2, 2)).copy()

    fig = check(plots.manifold_grid(decoder, n=3, limits=((0, 2), (-4, 4)), axis_labels=("PC 1", "PC 2")))
    canvas = fig.axes[0].images[0].get_array()
    assert canvas[0, 0] == 0 + 10 * 4 and canvas[-1, -1] == 2 + 10 * -4
    assert fig.axes[0].get_xlabel() == "PC 1" and fig.axes[0].get_ylabel() == "PC 2"
    for bad in ((1, -1), ((0, 1), (2, 2)), (0, 1, 2)):
        with pytest.raises(ValueError, match="limits"):
            plots.manifold_grid(decoder, n=3, limits=bad)


def test_interpolation_strip_labels_t():
    fig = check(plots.interpolation_strip(IMAGES[:5]))
    assert [ax.get_xlabel() for ax in fig.axes] == ["t=0.00", "t=0.25", "t=0.50", "t=0.75", "t=1.00"]


def test_plot_curves_and_validation():
    fig = check(plots.plot_curves([2, 4, 8], {"AE": [3, 2, 1], "PCA": [4, 3, 2]}, "code size", "MSE", "Sweep", logx=True))
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_xscale()) == ("code size", "MSE", "log")
    assert len(ax.get_lines()) == 2
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2", "4", "8"]  # the sweep's own values
    with pytest.raises(ValueError, match="has 2 values"):
        plots.plot_curves([1, 2, 3], {"AE": [1, 2]}, "x", "y", "t")


def test_plot_history_from_dict_and_history_object():
    hist = {"loss": [3.0, 2.0, 1.0], "val_loss": [3.5, 2.5, 2.0]}
    fig = check(plots.plot_history(hist))
    lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["loss", "val_loss"]
    np.testing.assert_array_equal(lines[0].get_xdata(), [1, 2, 3])
    assert lines[1].get_linestyle() == "--" and lines[0].get_color() == lines[1].get_color()

    class History:  # what keras' fit returns, as far as plotting goes
        history = hist

    check(plots.plot_history(History(), keys=["loss"]))
    with pytest.raises(ValueError, match="not in the history"):
        plots.plot_history(hist, keys=["accuracy"])


def test_plot_roc_reports_auc():
    labels = np.array([0, 0, 1, 1])
    fig = check(plots.plot_roc(labels, {"AE": [0.1, 0.2, 0.8, 0.9], "random": [0.1, 0.9, 0.2, 0.8]}))
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "AE (AUC = 1.000)" in texts and "random (AUC = 0.500)" in texts
