"""The VQ-VAE (aelib.builders.vq): nearest-entry assignment, the straight-through gradient, code
statistics, EMA updates and dead-code resets, and Keras' conventions for a model whose loss is
built in. Runs on the Keras backend of the process (``KERAS_BACKEND``)."""

import numpy as np
import pytest
from keras import ops

import aelib
from aelib.builders.vq import code_statistics


def small_vq(**kwargs):
    aelib.set_seed(0)
    return aelib.vq_autoencoder((28, 28, 1), 4, num_embeddings=16, filters=(8, 16), **kwargs)


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
    vq = small_vq()
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
    vq = small_vq(commitment_cost=0.0, ema=ema)
    vq.compile(optimizer="adam")
    codebook = vq.quantizer.codebook
    assert any(w is codebook for w in vq.trainable_weights) is not ema
    before = [ops.convert_to_numpy(w).copy() for w in (vq.encoder.weights[0], codebook)]
    vq.fit(x[:128], epochs=1, batch_size=64, verbose=0)
    after = [ops.convert_to_numpy(w) for w in (vq.encoder.weights[0], codebook)]
    assert all(np.abs(a - b).max() > 0 for a, b in zip(after, before))


def test_encode_and_decode_indices_round_trip(fashion):
    (x, _), _ = fashion
    vq = small_vq()
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
    vq = small_vq(ema=ema)
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


def test_vqvae_refuses_a_loss_metrics_and_a_target(fashion):
    (x, _), _ = fashion
    vq = small_vq()
    with pytest.raises(ValueError, match="computes its loss"):
        vq.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="computes its loss"):
        vq.compile(optimizer="adam", metrics=["mae"])
    vq.compile(optimizer="adam")
    with pytest.raises(ValueError, match="give no target y"):
        vq.fit(x[:32], x[:32], epochs=1, verbose=0)
    with pytest.raises(ValueError, match="give no target y"):
        vq.evaluate(x[:32], x[:32], verbose=0)
    history = vq.fit(x[:64], epochs=1, batch_size=32, validation_data=x[64:96], verbose=0).history
    assert set(history) == {p + k for p in ("", "val_") for k in vq.term_names}


def test_vqvae_has_encoder_decoder_and_a_summary_that_adds_up():
    vq = small_vq(ema=True)
    assert (vq.encoder.name, vq.decoder.name, vq.quantizer.name) == ("encoder", "decoder", "quantizer")
    assert vq.encoder is vq.get_layer("encoder") and vq.decoder is vq.get_layer("decoder")
    assert vq.encoder.output.shape == (None, 7, 7, 4) and vq.decoder.output.shape == (None, 28, 28, 1)
    assert sum(layer.count_params() for layer in vq.layers) == vq.count_params()
    assert len(vq.quantizer.weights) == 3 and len(vq.quantizer.trainable_weights) == 0  # codebook, ema_count, ema_sum
