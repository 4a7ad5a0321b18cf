"""Corruption, one list of kinds in two forms: the training-only Keras layer and the NumPy
helpers for test sets; both draw their blocks with the same ``block_mask``."""

import keras
import numpy as np
import pytest

import aelib


def test_gaussian_noise_statistics_and_input_untouched():
    x = np.full((200, 28, 28, 1), 0.5, np.float32)
    before = x.copy()
    noisy = aelib.add_gaussian_noise(x, std=0.1, seed=0, clip=False)
    np.testing.assert_array_equal(x, before)
    assert abs((noisy - x).std() - 0.1) < 0.002 and abs((noisy - x).mean()) < 0.002
    clipped = aelib.add_gaussian_noise(x, std=1.0, seed=0)
    assert clipped.min() == 0.0 and clipped.max() == 1.0
    np.testing.assert_array_equal(aelib.add_gaussian_noise(x, 0.1, seed=3), aelib.add_gaussian_noise(x, 0.1, seed=3))


def test_salt_and_pepper_fraction():
    x = np.full((100, 28, 28, 1), 0.5, np.float32)
    noisy = aelib.add_salt_and_pepper(x, amount=0.2, seed=0)
    assert abs((noisy == 0).mean() - 0.1) < 0.005 and abs((noisy == 1).mean() - 0.1) < 0.005
    assert (x == 0.5).all()


def test_mask_blocks_blanks_exactly_one_block_per_image():
    x = np.ones((50, 28, 28, 1), np.float32)
    out, mask = aelib.mask_blocks(x, block_size=6, seed=0, return_mask=True)
    assert (mask.reshape(50, -1).sum(axis=1) == 36).all()
    assert (out[mask] == 0).all() and (out[~mask] == 1).all() and (x == 1).all()
    with pytest.raises(ValueError, match="block_size"):
        aelib.mask_blocks(x, block_size=40)


def test_mask_pixels_and_corrupt_dispatch():
    x = np.full((100, 28, 28, 1), 0.5, np.float32)
    assert abs((aelib.corrupt(x, "masking", 0.3) == 0).mean() - 0.3) < 0.01
    assert ((aelib.corrupt(x, "block", 5) == 0).reshape(100, -1).sum(axis=1) == 25).all()
    with pytest.raises(ValueError, match="block"):
        aelib.corrupt(x, "speckle")


def test_corruption_only_in_training(fashion):
    (x, _), _ = fashion
    x = x[:64]
    model = aelib.denoising_autoencoder((28, 28, 1), 8, filters=(8,), noise="salt_and_pepper", noise_level=0.3)
    clean = keras.ops.convert_to_numpy(model.get_layer("decoder")(model.get_layer("encoder")(x)))
    np.testing.assert_allclose(model.predict(x, verbose=0), clean, atol=1e-6)
    layer = model.get_layer("corruption")
    noisy = keras.ops.convert_to_numpy(layer(x, training=True))
    changed = np.mean(noisy != x)
    assert 0.2 < changed < 0.31  # 30% set to 0 or 1; some were 0 or 1 already
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x, training=False)), x)


@pytest.mark.parametrize(
    "kind,amount,check",
    [
        ("gaussian", 0.2, lambda x, y: abs(np.std(y - x) - 0.2) < 0.01),
        ("masking", 0.25, lambda x, y: abs(np.mean(y == 0) - 0.25) < 0.01),
        ("block", 5, lambda x, y: np.all(np.sum(y == 0, axis=(1, 2, 3)) == 25)),
    ],
)
def test_corruption_layer_kinds(kind, amount, check):
    x = np.full((64, 12, 12, 1), 0.5, "float32")
    layer = aelib.layers.Corruption(kind, amount, clip=False, seed=0)
    y = keras.ops.convert_to_numpy(layer(x, training=True))
    assert check(x, y)
    config = layer.get_config()
    assert aelib.layers.Corruption.from_config(config).get_config() == config


def test_layer_and_numpy_blocks_come_from_one_mask():
    """The layer's blocks (random corners, training) and mask_blocks' (NumPy) are both squares
    of the requested side, one per image, from aelib.corruption.block_mask."""
    x = np.ones((32, 10, 12, 1), "float32")
    layer = aelib.layers.Corruption("block", 4, seed=0)
    from_layer = keras.ops.convert_to_numpy(layer(x, training=True)) == 0
    _, from_numpy = aelib.mask_blocks(x, block_size=4, seed=0, return_mask=True)
    for mask in (from_layer[..., 0], from_numpy[..., 0]):
        assert (mask.sum(axis=(1, 2)) == 16).all()
        rows, cols = mask.any(axis=2), mask.any(axis=1)
        assert (rows.sum(axis=1) == 4).all() and (cols.sum(axis=1) == 4).all()
    two = aelib.mask_blocks(x, block_size=3, n_blocks=2, seed=1, return_mask=True)[1]
    assert ((two[..., 0].sum(axis=(1, 2)) >= 9) & (two[..., 0].sum(axis=(1, 2)) <= 18)).all()


@pytest.mark.parametrize(
    "kind,amount,text",
    [("speckle", 0.1, "kind"), ("gaussian", -1.0, "amount"), ("masking", 1.5, "amount"), ("block", 2.5, "amount")],
)
def test_bad_corruption_arguments(kind, amount, text):
    with pytest.raises(ValueError, match=text):
        aelib.layers.Corruption(kind, amount)
    with pytest.raises(ValueError, match=text):
        aelib.corrupt(np.zeros((2, 8, 8, 1), "float32"), kind, amount)
