"""What is particular to the conditional VAE, the VQ-VAE and the masked autoencoder (the shared
battery of shapes, learning, save/load and argument errors is in test_builders.py): label
formats and class-conditional generation; nearest-entry assignment, the straight-through
gradient, code statistics, EMA updates and dead-code resets; masks, the hidden-only loss and the
feature extractor. Runs on the Keras backend of the process (``KERAS_BACKEND``)."""

import keras
import numpy as np
import pytest
from keras import ops

import aelib
from aelib.builders.masked import from_patches, hidden_count, masked_mse, to_patches
from aelib.builders.vq import code_statistics


# ---- conditional VAE ---------------------------------------------------------------------------
def small_cvae(latent=4, hidden=(32,), **kwargs):
    aelib.set_seed(0)
    return aelib.conditional_variational_autoencoder(
        (28, 28, 1), latent, 10, architecture="dense", hidden_units=hidden, seed=0, **kwargs
    )


@pytest.fixture(scope="module")
def pinned_cvae(fashion):
    """A small CVAE whose log-variance is pinned at -30 (no sampling noise: its losses are
    deterministic), trained two epochs under KLWarmup; returns it and the betas seen."""
    (x, y), _ = fashion
    cvae = small_cvae(log_var_limit=30.0)
    layer = cvae.get_layer("encoder").get_layer("z_log_var_raw")
    layer.kernel.assign(np.zeros(layer.kernel.shape, "float32"))
    layer.bias.assign(np.full(layer.bias.shape, -30.0, "float32"))
    cvae.compile(optimizer="adam")
    seen = []
    record = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(cvae.beta))
    cvae.fit([x[:128], y[:128]], epochs=2, batch_size=64, verbose=0, callbacks=[aelib.KLWarmup(epochs=2), record])
    cvae.beta = 1.0
    return cvae, seen


def test_cvae_takes_integer_column_and_one_hot_labels_alike(pinned_cvae, fashion):
    cvae, _ = pinned_cvae
    (x, y), _ = fashion
    x, y = x[:128], y[:128]
    formats = {"integers": y, "column": y[:, None].astype("int64"), "one_hot": np.eye(10, dtype="float32")[y]}
    for labels in formats.values():
        cvae.fit([x, labels], epochs=1, batch_size=64, verbose=0)
    results = {}
    for key, labels in formats.items():
        results[key] = (
            cvae.evaluate([x, labels], batch_size=64, verbose=0),
            cvae.predict([x[:16], labels[:16]], verbose=0),
            ops.convert_to_numpy(cvae([x[:16], labels[:16]])),  # converted inside the call, too
            cvae.encode([x[:16], labels[:16]])[0],
        )
    for key in formats:
        for got, want in zip(results[key], results["integers"]):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_cvae_is_a_vae_with_beta_for_kl_warmup_and_the_iwae_bound(pinned_cvae, fashion):
    cvae, seen = pinned_cvae
    (x, y), _ = fashion
    assert isinstance(cvae, aelib.VAE) and cvae.term_names == ("loss", "reconstruction_loss", "kl_loss")
    assert seen == [0.0, 0.5]  # beta is the VAE's variable, so KLWarmup drives it
    elbo = cvae.evaluate([x[:100], y[:100]], batch_size=64, verbose=0, return_dict=True)["loss"]
    iwae = cvae.importance_weighted_nll([x[:100], y[:100]], k=2)
    assert iwae.shape == (100,) and np.all(np.isfinite(iwae))
    np.testing.assert_allclose(iwae.mean(), elbo, rtol=5e-3)  # (nearly) no sampling noise: about the ELBO


def test_cvae_runs_eagerly_too(fashion):
    """Without jit (how a .keras file saved on TensorFlow loads on JAX) a step gets NumPy arrays."""
    (x, y), _ = fashion
    cvae = small_cvae()
    cvae.compile(optimizer="adam", jit_compile=False)
    prediction = cvae.predict([x[:8], np.eye(10)[y[:8]]], verbose=0)
    np.testing.assert_allclose(prediction, ops.convert_to_numpy(cvae([x[:8], y[:8]])), atol=1e-6)


def test_cvae_decoder_generates_the_requested_class(fashion):
    """Trained briefly, the CVAE explains images better with their own labels than with wrong
    ones, and its decoder's images for label c, from codes drawn from the prior, are nearest to
    the mean image of class c more often than chance (0.1)."""
    (x, y), _ = fashion
    cvae = small_cvae(latent=2, hidden=(64,))
    cvae.compile(optimizer=keras.optimizers.Adam(5e-3))
    cvae.fit([x, y], epochs=8, batch_size=128, verbose=0)
    wrong = (y + np.random.default_rng(0).integers(1, 10, len(y))) % 10
    right_loss, wrong_loss = (cvae.evaluate([x, labels], verbose=0, return_dict=True)["loss"] for labels in (y, wrong))
    assert right_loss < wrong_loss - 10, (right_loss, wrong_loss)
    decoder = cvae.get_layer("decoder")
    labels = np.tile(np.arange(10), 10)
    z = np.random.default_rng(0).standard_normal((100, 2)).astype("float32")
    images = decoder.predict([z, labels], verbose=0)
    assert images.shape == (100, 28, 28, 1)
    np.testing.assert_array_equal(decoder.predict([z, labels[:, None]], verbose=0), images)
    np.testing.assert_array_equal(decoder.predict([z, np.eye(10)[labels]], verbose=0), images)
    means = np.stack([x[y == c].mean(axis=0) for c in range(10)])
    nearest = np.argmin(((images[:, None] - means[None]) ** 2).sum(axis=(2, 3, 4)), axis=1)
    assert np.mean(nearest == labels) >= 0.2, nearest  # 0.26 to 0.45 seen; chance 0.1 +- 0.03
    assert cvae.generate([3, 7], seed=0).shape == (2, 28, 28, 1)


def test_cvae_refuses_missing_or_out_of_range_labels(pinned_cvae, fashion):
    cvae, _ = pinned_cvae
    (x, y), _ = fashion
    with pytest.raises(ValueError, match=r"x\[1\] holds labels in \[1, 10\], but num_classes=10 takes 0 to 9"):
        cvae.fit([x[:64], y[:64] + 1], epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"must be \[images, labels\]"):
        cvae.fit(x[:64], epochs=1, verbose=0)
    with pytest.raises(ValueError, match="shape"):
        cvae.evaluate([x[:64], np.zeros((64, 3))], verbose=0)
    with pytest.raises(ValueError, match="non-integer"):
        cvae.predict([x[:4], np.array([0.5, 1, 2, 3])], verbose=0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):  # a Bernoulli likelihood, as the VAE's
        cvae.fit([x[:64] * 255, y[:64]], epochs=1, verbose=0)


# ---- VQ-VAE ------------------------------------------------------------------------------------
def quantizer(codebook, ema=False, decay=0.99):
    codebook = np.asarray(codebook, "float32")
    layer = aelib.VectorQuantizer(len(codebook), codebook.shape[1], ema=ema, decay=decay)
    layer.build((None, codebook.shape[1]))
    layer.set_entries(np.arange(len(codebook)), codebook)
    return layer


def test_vector_quantizer_picks_the_nearest_entry():
    rng = np.random.default_rng(0)
    codebook = rng.normal(size=(7, 3)).astype("float32")
    z = rng.normal(size=(4, 5, 5, 3)).astype("float32")
    layer = quantizer(codebook)
    want = np.argmin(((z[..., None, :] - codebook) ** 2).sum(-1), axis=-1)
    got = ops.convert_to_numpy(layer.nearest(z))
    np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(ops.convert_to_numpy(layer(z)), codebook[want], atol=1e-6)


def test_vector_quantizer_gradient_is_straight_through():
    rng = np.random.default_rng(1)
    layer = quantizer(rng.normal(size=(5, 3)))
    z = rng.normal(size=(6, 3)).astype("float32")
    jacobian = aelib.autodiff_jacobian(layer, z)  # (vectors, outputs, inputs)
    np.testing.assert_allclose(jacobian, np.broadcast_to(np.eye(3), (6, 3, 3)), atol=1e-6)


def test_code_statistics_on_hand_made_codes():
    cases = [([0, 0, 1, 1], None, 2.0, 0.5), ([0, 1, 2, 3], None, 4.0, 1.0), ([2, 2, 2, 2], None, 1.0, 0.25)]
    cases.append(([0, 0, 1, 1], [1.0, 1.0, 0.0, 0.0], 1.0, 0.25))  # zero weight: not counted
    for indices, weights, perplexity, usage in cases:
        got = code_statistics(np.array(indices), 4, None if weights is None else np.array(weights, "float32"))
        np.testing.assert_allclose([float(ops.convert_to_numpy(v)) for v in got], [perplexity, usage], rtol=1e-5)


def test_vqvae_reports_the_code_statistics_of_its_batch(fashion):
    (x, _), _ = fashion
    aelib.set_seed(0)
    vq = aelib.vq_autoencoder((28, 28, 1), 4, num_embeddings=16, filters=(8, 16))
    vq.compile(optimizer="adam")
    vq.reset_dead_codes(x[:64])  # so that several entries are used
    counts = vq.code_usage(x[:64])
    p = counts / counts.sum()
    logs = vq.evaluate(x[:64], batch_size=64, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["usage"], np.mean(counts > 0), rtol=1e-6)
    np.testing.assert_allclose(logs["perplexity"], np.exp(-np.sum(p[p > 0] * np.log(p[p > 0]))), rtol=1e-4)
    np.testing.assert_allclose(logs["loss"], logs["reconstruction_loss"] + logs["vq_loss"], rtol=1e-5)


def test_ema_moves_used_entries_to_the_mean_of_their_vectors():
    layer = quantizer([[0.0, 0.0], [10.0, 10.0], [-10.0, 10.0]], ema=True, decay=0.5)
    z = np.array([[1.0, 1.0], [2.0, 0.0], [9.0, 9.0]], "float32")  # two vectors for entry 0, one for entry 1
    layer(z, training=True)
    # N = 0.5 * 1 + 0.5 * n, S = 0.5 * e + 0.5 * sum: e_0 = (0 + [3, 1]) / 2 / 1.5, e_1 = (5 + 4.5) / 1
    want = np.array([[1.0, 1.0 / 3.0], [9.5, 9.5], [-10.0, 10.0]])
    np.testing.assert_allclose(ops.convert_to_numpy(layer.codebook), want, rtol=1e-5)
    np.testing.assert_allclose(ops.convert_to_numpy(layer.ema_count), [1.5, 1.0, 0.5], rtol=1e-6)
    layer(z, training=False)  # inference never updates
    np.testing.assert_allclose(ops.convert_to_numpy(layer.codebook), want, rtol=1e-5)


@pytest.mark.parametrize("ema", [True, False])
def test_vqvae_training_updates_codebook_and_encoder_through_the_quantizer(ema, fashion):
    """With no commitment term the encoder's only gradient is the decoder's, copied straight
    through the quantizer; the codebook moves by EMA (not a trainable weight) or by its loss."""
    (x, _), _ = fashion
    aelib.set_seed(0)
    vq = aelib.vq_autoencoder((28, 28, 1), 4, num_embeddings=16, filters=(8, 16), commitment_cost=0.0, ema=ema)
    vq.compile(optimizer="adam")
    codebook = vq.quantizer.codebook
    assert any(w is codebook for w in vq.trainable_weights) is not ema
    before = [ops.convert_to_numpy(w).copy() for w in (vq.encoder.weights[0], codebook)]
    vq.fit(x[:128], epochs=1, batch_size=64, verbose=0)
    after = [ops.convert_to_numpy(w) for w in (vq.encoder.weights[0], codebook)]
    assert all(np.abs(a - b).max() > 0 for a, b in zip(after, before))


def test_encode_and_decode_indices_round_trip(fashion):
    (x, _), _ = fashion
    aelib.set_seed(0)
    vq = aelib.vq_autoencoder((28, 28, 1), 4, num_embeddings=16, filters=(8, 16))
    indices = vq.encode_indices(x[:32])
    assert indices.shape == (32, 7, 7) and indices.dtype == np.int32
    assert 0 <= indices.min() and indices.max() < 16
    np.testing.assert_allclose(vq.decode_indices(indices), vq.predict(x[:32], verbose=0), atol=1e-5)
    vectors = ops.convert_to_numpy(vq.quantizer.lookup(indices))
    np.testing.assert_array_equal(ops.convert_to_numpy(vq.quantizer.nearest(vectors)), indices)  # entries are fixed points
    with pytest.raises(ValueError, match="indices must be in 0..15"):
        vq.decode_indices(indices + 16)


@pytest.mark.parametrize("ema", [True, False])
def test_reset_dead_codes_moves_unused_entries_onto_encoder_outputs(ema, fashion):
    (x, _), _ = fashion
    aelib.set_seed(0)
    vq = aelib.vq_autoencoder((28, 28, 1), 4, num_embeddings=16, filters=(8, 16), ema=ema)
    codebook = ops.convert_to_numpy(vq.quantizer.codebook).copy()
    codebook[8:] = 1e3  # entries 8..15 far from everything: dead
    vq.quantizer.set_entries(np.arange(16), codebook)
    assert vq.code_usage(x[:64])[8:].sum() == 0
    dead = vq.reset_dead_codes(x[:64], seed=0)
    assert set(range(8, 16)) <= set(dead.tolist())
    z = vq.encoder.predict(x[:64], verbose=0).reshape(-1, 4)
    moved = ops.convert_to_numpy(vq.quantizer.codebook)[dead]
    assert all(np.abs(z - row).sum(axis=1).min() < 1e-6 for row in moved)  # each is an encoder output
    assert (vq.code_usage(x[:64]) > 0).sum() > (16 - len(dead))
    if ema:  # the moving averages agree with the new entries
        count = ops.convert_to_numpy(vq.quantizer.ema_count)[dead]
        np.testing.assert_allclose(ops.convert_to_numpy(vq.quantizer.ema_sum)[dead], moved * count[:, None], rtol=1e-6)


# ---- masked autoencoder ------------------------------------------------------------------------
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
    terms = mae.loss_terms(images)
    assert set(terms) == {"loss", "visible_mse"} and np.isfinite(float(ops.convert_to_numpy(terms["loss"])))


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
