"""The masked autoencoder (aelib.builders.masked): patches, masks, the hidden-only loss, the
feature extractor, ``predict`` (every patch from the others, under fixed masks) and Keras'
conventions for a model whose loss is built in. Runs on the Keras backend of the process
(``KERAS_BACKEND``)."""

import keras
import numpy as np
import pytest
from keras import ops

import aelib
from aelib.builders.masked import from_patches, hidden_count, masked_mse, to_patches


@pytest.fixture(scope="module")
def mae():
    """A small untrained MAE (every check below holds for any weights); the tests share it and
    one batch shape, so that JAX compiles each eager operation once."""
    aelib.set_seed(0)
    return aelib.masked_autoencoder((28, 28, 1), 8, depth=1, num_heads=2, decoder_dim=16, decoder_heads=2, seed=0)


@pytest.fixture(scope="module")
def images(fashion):
    (x, _), _ = fashion
    return x[:16]


def patch_mask(mask, p=4):
    """(n, H, W, 1) pixel mask -> (n, patches) per-patch mask."""
    return mask[:, ::p, ::p, 0].reshape(len(mask), -1)


def test_patches_round_trip_in_row_major_order():
    x = np.random.default_rng(0).random((2, 8, 12, 3)).astype("float32")
    patches = ops.convert_to_numpy(to_patches(x, 4))
    assert patches.shape == (2, 6, 48)
    np.testing.assert_array_equal(patches[:, 4], x[:, 4:8, 4:8].reshape(2, -1))  # row 1, column 1
    np.testing.assert_array_equal(ops.convert_to_numpy(from_patches(patches, 4, (2, 3))), x)


def test_mae_hides_round_ratio_of_patches_per_image_different_per_image(mae, images):
    _, mask = mae.reconstruct(images, mask_ratio=0.75, seed=0)
    assert mask.shape == (16, 28, 28, 1) and mask.dtype == bool
    per_patch = patch_mask(mask)
    np.testing.assert_array_equal(per_patch.sum(axis=1), round(0.75 * 49))
    assert len({row.tobytes() for row in per_patch}) == 16  # a different set for each image
    np.testing.assert_array_equal(mask, mae.reconstruct(images, seed=0)[1])  # seeded; the training ratio by default
    assert not np.array_equal(mask, mae.reconstruct(images, seed=1)[1])
    assert [hidden_count(r, 49) for r in (0.1, 0.5, 0.75, 0.9)] == [5, 24, 37, 44]  # round(ratio * 49)
    # the training path draws its noise from the model's SeedGenerator: new masks at every step
    masks = [
        ops.convert_to_numpy(mae.masked_forward(images, keras.random.uniform((16, 49), seed=mae.seed_generator), 37)[1])
        for _ in range(2)
    ]
    assert all(np.array_equal(m.sum(axis=1), np.full(16, 37)) for m in masks) and not np.array_equal(*masks)


def test_mae_encoder_sees_only_the_visible_patches(mae, images):
    """Changing the pixels of the hidden patches changes nothing in the reconstruction."""
    reconstruction, mask = mae.reconstruct(images, seed=3)
    scribbled = np.where(mask, np.random.default_rng(0).random(images.shape, dtype="float32"), images)
    np.testing.assert_allclose(mae.reconstruct(scribbled, seed=3)[0], reconstruction, atol=1e-5)
    assert np.abs(mae.reconstruct(np.where(mask, images, 1.0 - images), seed=3)[0] - reconstruction).max() > 1e-3


def test_mae_loss_counts_the_hidden_patches_only(mae, images):
    reconstruction, mask = mae.reconstruct(images, seed=0)
    hidden, visible = (ops.convert_to_numpy(v) for v in masked_mse(images, reconstruction, mask, 4))
    err = (reconstruction - images) ** 2
    np.testing.assert_allclose(hidden, [e[m].mean() for e, m in zip(err, mask)], rtol=1e-5)
    np.testing.assert_allclose(visible, [e[~m].mean() for e, m in zip(err, mask)], rtol=1e-5)
    # another target on the visible patches: the same loss; on the hidden ones: another loss
    other = np.where(mask, images, 1.0 - images)
    np.testing.assert_allclose(ops.convert_to_numpy(masked_mse(other, reconstruction, mask, 4)[0]), hidden, rtol=1e-6)
    other = np.where(mask, 1.0 - images, images)
    assert np.all(ops.convert_to_numpy(masked_mse(other, reconstruction, mask, 4)[0]) != hidden)
    # the per-patch mask gives the same as the pixel mask; norm_pix_loss compares normalised patches
    per_patch = ops.convert_to_numpy(masked_mse(images, reconstruction, patch_mask(mask), 4)[0])
    np.testing.assert_allclose(per_patch, hidden, rtol=1e-6)
    normalised = ops.convert_to_numpy(masked_mse(images, reconstruction, mask, 4, norm_pix_loss=True)[0])
    assert np.all(np.isfinite(normalised)) and not np.allclose(normalised, hidden)
    # the model's terms: from the training call's (prediction, mask), or (evaluate) from fresh masks
    prediction, mask = mae(images, training=True)
    terms = mae.loss_terms(images, (prediction, mask), training=True)
    assert set(terms) == {"loss", "visible_mse"}
    want = masked_mse(images, prediction, mask, 4)
    np.testing.assert_allclose(
        [float(ops.convert_to_numpy(terms[k])) for k in terms], [np.mean(ops.convert_to_numpy(w)) for w in want], rtol=1e-5
    )
    assert np.isfinite(float(ops.convert_to_numpy(mae.loss_terms(images, None)["loss"])))


def test_mae_features_and_predictions_are_deterministic(mae, images):
    encoder = mae.get_layer("encoder")
    features = encoder.predict(images, verbose=0)
    assert features.shape == (16, 8)
    np.testing.assert_array_equal(encoder.predict(images, verbose=0), features)
    np.testing.assert_allclose(mae.encode_tokens(images).mean(axis=1), features, atol=1e-5)  # the mean token
    prediction = mae.predict(images, verbose=0)
    np.testing.assert_array_equal(mae.predict(images, verbose=0), prediction)
    # predict infers every patch from the others: a patch's own pixels do not change its prediction
    changed = images.copy()
    changed[:, 8:12, 12:16] = 1.0 - changed[:, 8:12, 12:16]
    np.testing.assert_allclose(mae.predict(changed, verbose=0)[:, 8:12, 12:16], prediction[:, 8:12, 12:16], atol=1e-5)


def test_mae_predict_is_the_mean_over_fixed_masks_that_hide_every_patch(mae, images):
    masks = mae.fixed_masks()
    assert masks.shape == (2, 49) and np.all(masks.sum(axis=1) == 37) and np.all(masks.max(axis=0) == 1)  # 0.75 of 49
    total = count = 0.0
    for m in masks:
        prediction, hidden = mae.masked_forward(images, np.tile(m, (len(images), 1)), mae.n_hidden)
        total = total + ops.convert_to_numpy(to_patches(prediction, 4)) * ops.convert_to_numpy(hidden)[..., None]
        count = count + ops.convert_to_numpy(hidden)[..., None]
    want = ops.convert_to_numpy(from_patches(total / count, 4, (7, 7)))
    np.testing.assert_allclose(mae.predict(images, verbose=0), want, atol=1e-5)


def test_mae_refuses_a_loss_metrics_and_a_target(fashion):
    (x, _), _ = fashion
    mae = aelib.masked_autoencoder((28, 28, 1), 8, depth=1, num_heads=2, decoder_dim=16, decoder_heads=2, seed=0)
    with pytest.raises(ValueError, match="computes its loss"):
        mae.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="computes its loss"):
        mae.compile(optimizer="adam", metrics=["mae"])
    mae.compile(optimizer="adam")
    with pytest.raises(ValueError, match="give no target y"):
        mae.fit(x[:32], x[:32], epochs=1, verbose=0)
    with pytest.raises(ValueError, match="give no target y"):
        mae.evaluate(x[:32], x[:32], verbose=0)
    history = mae.fit(x[:64], epochs=1, batch_size=32, validation_data=x[64:96], verbose=0).history
    assert set(history) == {"loss", "visible_mse", "val_loss", "val_visible_mse"}


def test_mae_has_encoder_decoder_and_a_summary_that_adds_up(mae):
    assert mae.encoder is mae.get_layer("encoder") and mae.decoder is mae.get_layer("decoder")
    assert mae.patch_embedding is mae.encoder.get_layer("patch_embedding")
    assert mae.transformer is mae.encoder.get_layer("encoder_transformer")
    assert [layer.name for layer in mae.layers] == ["encoder", "decoder"]
    assert sum(layer.count_params() for layer in mae.layers) == mae.count_params()
