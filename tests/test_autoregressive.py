"""The autoregressive prior (aelib.builders.autoregressive): a PixelCNN over grids of indices, through the battery of
every builder (shapes, the loss going down on real data, safe-mode save/load, argument errors, Keras' conventions,
the file copied alone) and its own checks: causality of the masked convolutions and ``sample``. It is not an
autoencoder (it maps a grid to logits, with no encoder or decoder), so its battery lives here rather than in the table
of ``test_builders.py``. Runs on the Keras backend of the process (``KERAS_BACKEND``)."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest
from conftest import installed

import aelib
from aelib.builders.autoregressive import MaskedConv2D, PixelCNNPrior, causal_mask

K = 8


def small_prior(grid=(7, 7), k=K, **kwargs):
    aelib.set_seed(0)
    return aelib.pixelcnn_prior(grid, k, **{"filters": 16, "num_blocks": 1, **kwargs})


@pytest.fixture(scope="module")
def grids(fashion):
    """Real-data grids: each Fashion-MNIST image's mean over 4x4 blocks, cut into K levels: (n, 7, 7) ints in 0..K-1."""
    (x, _), _ = fashion
    blocks = x[..., 0].reshape(len(x), 7, 4, 7, 4).mean(axis=(2, 4))
    return np.minimum((blocks * K).astype("int32"), K - 1)


@pytest.mark.parametrize("grid", [(7, 7), (4, 6), (1, 1)])
def test_shapes(grid):
    prior = small_prior(grid)
    x = np.random.default_rng(0).integers(0, K, (3,) + grid)
    assert prior.predict(x, verbose=0).shape == (3,) + grid + (K,)
    assert prior.grid_shape == grid and prior.num_embeddings == K


@pytest.mark.parametrize("first_kernel_size,full", [(None, True), ((2, 3), False)])
def test_each_cell_sees_only_the_cells_before_it(first_kernel_size, full):
    """Changing one cell changes the logits of later cells only (reading order), never its own or earlier ones; with
    the default first kernel, of every later cell (no blind spot)."""
    prior, rng = small_prior(num_blocks=2, first_kernel_size=first_kernel_size), np.random.default_rng(1)
    x = rng.integers(0, K, (1, 7, 7))
    base = prior.predict(x, verbose=0)
    for i, j in [(0, 0), (0, 6), (3, 3), (2, 6), (6, 5)]:
        moved = x.copy()
        moved[0, i, j] = (moved[0, i, j] + 1) % K
        changed = np.flatnonzero(np.abs(prior.predict(moved, verbose=0) - base).max(axis=-1)[0].ravel() > 0)
        assert changed.size == 0 or changed.min() > i * 7 + j, ((i, j), changed)
        if full:
            np.testing.assert_array_equal(changed, np.arange(i * 7 + j + 1, 49))
    np.testing.assert_array_equal(causal_mask((2, 3), "A")[..., 0, 0], [[1, 1, 1], [1, 0, 0]])
    np.testing.assert_array_equal(causal_mask((2, 3), "B")[..., 0, 0], [[1, 1, 1], [1, 1, 0]])


def test_loss_goes_down_on_real_data_and_beats_counting_each_position(grids):
    prior = small_prior(filters=32)
    prior.compile(optimizer=keras.optimizers.Adam(3e-3))
    before = prior.evaluate(grids, verbose=0, return_dict=True)["loss"]
    prior.fit(grids, epochs=4, batch_size=64, verbose=0, shuffle=False)
    after = prior.evaluate(grids, verbose=0, return_dict=True)["loss"]
    counts = np.stack([np.bincount(g, minlength=K) for g in grids.reshape(len(grids), -1).T]) + 0.5  # per position
    independent = -np.mean(np.log(np.take_along_axis(counts / counts.sum(1, keepdims=True), grids.reshape(len(grids), -1).T, 1)))
    assert np.isfinite(after) and after < 0.7 * before and after < independent, (before, after, independent)
    np.testing.assert_allclose(-prior.log_likelihood(grids).mean() / 49, after, rtol=1e-3)  # nats per cell


def test_save_load_safe_mode_identical_predictions_and_training_continues(grids, tmp_path):
    prior = small_prior()
    prior.compile(optimizer="adam", metrics=["accuracy"])
    prior.fit(grids[:128], epochs=1, batch_size=64, verbose=0)
    prior.save(tmp_path / "prior.keras")
    back = keras.saving.load_model(tmp_path / "prior.keras", safe_mode=True)
    assert type(back) is PixelCNNPrior and isinstance(back.get_layer("masked_conv_a"), MaskedConv2D)
    np.testing.assert_array_equal(back.predict(grids[:16], verbose=0), prior.predict(grids[:16], verbose=0))
    np.testing.assert_array_equal(back.sample(4, seed=3), prior.sample(4, seed=3))
    history = back.fit(grids[:128], epochs=1, batch_size=64, verbose=0)
    assert np.isfinite(history.history["loss"][0]) and int(keras.ops.convert_to_numpy(back.optimizer.iterations)) == 4


def test_sample_shapes_range_and_seeds(grids):
    prior = small_prior()
    prior.compile(optimizer=keras.optimizers.Adam(3e-3))
    prior.fit(grids, epochs=1, batch_size=64, verbose=0)
    drawn = prior.sample(20, seed=0)
    assert drawn.shape == (20, 7, 7) and drawn.dtype == np.int32 and drawn.min() >= 0 and drawn.max() < K
    np.testing.assert_array_equal(prior.sample(20, seed=0), drawn)
    assert not np.array_equal(prior.sample(20, seed=1), drawn)
    greedy = [prior.sample(3, temperature=1e-4, seed=s) for s in (0, 1)]  # a cold sample is the most likely cell
    np.testing.assert_array_equal(greedy[0], greedy[1])


def test_the_first_cell_is_drawn_from_its_predicted_distribution(grids):
    prior = small_prior()
    prior.compile(optimizer=keras.optimizers.Adam(3e-3))
    prior.fit(grids, epochs=1, batch_size=64, verbose=0)
    logits = prior.predict(np.zeros((1, 7, 7), "int32"), verbose=0)[0, 0, 0].astype("float64")  # sees no cell
    p = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    n = 2000
    freq = np.bincount(prior.sample(n, seed=0)[:, 0, 0], minlength=K) / n
    assert np.abs(freq - p).max() < 4 * np.sqrt(p.max() / n), (freq, p)


def test_keras_conventions(grids):
    prior = small_prior()
    with pytest.raises(ValueError, match="computes its loss"):
        prior.compile(optimizer="adam", loss="mse")
    prior.compile(optimizer="adam")
    for bad, text in [
        ((grids, grids), "no target y"),
        ((grids[:8] + K,), r"indices in 0\.\.7"),
        ((grids[:8] - 1,), r"indices in 0\.\.7"),
        ((grids[:8] + 0.5,), "integers"),
        ((grids[:8, :6],), r"shape \(n, 7, 7\)"),
        ((np.full((8, 7, 7), np.nan),), "NaN"),
    ]:
        with pytest.raises(ValueError, match=text):
            prior.fit(*bad, epochs=1, verbose=0)
    history = prior.fit(grids[:64].astype("float32"), epochs=1, verbose=0, validation_data=grids[:32])  # whole floats
    assert np.isfinite(history.history["val_loss"][0])
    assert sum(layer.count_params() for layer in prior.layers) == prior.count_params()
    for obj in (aelib.pixelcnn_prior, PixelCNNPrior, MaskedConv2D, PixelCNNPrior.sample):
        assert all(word in (obj.__doc__ or "") for word in ("Args", "Returns", "Raises")), obj
    assert "Example" in aelib.pixelcnn_prior.__doc__ and "Example" in PixelCNNPrior.__doc__


@pytest.mark.parametrize(
    "args,kwargs,text",
    [
        (((7, 7, 1), 8), {}, "grid_shape|input_shape"),
        (((0, 7), 8), {}, "input_shape"),
        (((7, 7), 1), {}, "num_embeddings=1 must be an integer >= 2"),
        (((7, 7), 8.5), {}, "num_embeddings"),
        (((7, 7), 8), {"filters": 0}, "filters"),
        (((7, 7), 8), {"first_kernel_size": (7, 12)}, "cols odd"),
        (((7, 7), 8), {"first_kernel_size": "big"}, "kernel_size"),
        (((7, 7), 8), {"embedding_dim": 0}, "embedding_dim"),
        (((7, 7), 8), {"num_blocks": -1}, "num_blocks"),
        (((7, 7), 8), {"num_embedding": 8}, "did you mean 'num_embeddings'"),
    ],
)
def test_bad_arguments_raise_a_clear_value_error(args, kwargs, text):
    with pytest.raises(ValueError, match=text):
        aelib.pixelcnn_prior(*args, **kwargs)


def test_bad_layer_and_sample_arguments():
    with pytest.raises(ValueError, match="mask_type"):
        MaskedConv2D(4, 3, mask_type="C")
    with pytest.raises(ValueError, match="kernel_size"):
        MaskedConv2D(4, (0, 3))
    prior = small_prior()
    for kwargs, text in [({"n": 0}, "n=0"), ({"n": 2, "temperature": 0.0}, "temperature")]:
        with pytest.raises(ValueError, match=text):
            prior.sample(**kwargs)


COPIED = textwrap.dedent("""
    import json, sys
    sys.modules["aelib"] = None  # import aelib fails here
    sys.path.insert(0, sys.argv[1])
    import keras, numpy as np
    from autoregressive import pixelcnn_prior
    x = np.random.default_rng(0).integers(0, 8, (64, 7, 7))
    prior = pixelcnn_prior((7, 7), 8, filters=16, num_blocks=1)
    prior.compile(optimizer="adam")
    prior.fit(x, epochs=1, batch_size=32, verbose=0)  # two steps
    loss = prior.evaluate(x, verbose=0, return_dict=True)["loss"]
    prior.save(sys.argv[1] + "/copy.keras")
    back = keras.saving.load_model(sys.argv[1] + "/copy.keras", safe_mode=True)
    by_aelib = keras.saving.load_model(sys.argv[2], safe_mode=True)
    expected = np.load(sys.argv[2] + ".npy")
    print(json.dumps({"finite": bool(np.isfinite(loss)), "type": type(back).__module__,
                      "same": bool(np.array_equal(back.predict(x, verbose=0), prior.predict(x, verbose=0))),
                      "samples": bool(np.array_equal(back.sample(3, seed=0), prior.sample(3, seed=0))),
                      "aelib_file": bool(np.allclose(by_aelib.predict(x[:8], verbose=0), expected, rtol=1e-4, atol=1e-5))}))
""")


@pytest.mark.once
@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_the_file_works_copied_alone(backend, tmp_path):
    if not installed(backend):
        pytest.skip(f"{backend} is not installed")
    shutil.copy(Path(aelib.__file__).parent / "builders" / "autoregressive.py", tmp_path)
    prior = small_prior()  # saved by aelib, here
    prior.compile(optimizer="adam")
    saved = str(tmp_path / "aelib_prior.keras")
    prior.save(saved)
    np.save(saved + ".npy", prior.predict(np.random.default_rng(0).integers(0, 8, (64, 7, 7))[:8], verbose=0))
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": ""}
    proc = subprocess.run([sys.executable, "-c", COPIED, str(tmp_path), saved], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == {"finite": True, "type": "autoregressive", "same": True, "samples": True, "aelib_file": True}
