"""The conditional VAE (aelib/builders/conditional.py): label formats, beta and the IWAE bound inherited from its
VAE, class-conditional generation, label checks; the shared battery is in test_builders.py. Runs on the Keras
backend of the process (``KERAS_BACKEND``)."""

import keras
import numpy as np
import pytest
from keras import ops

import aelib


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
    assert isinstance(cvae, aelib.builders.conditional.VAE) and cvae.term_names == ("loss", "reconstruction_loss", "kl_loss")
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
    with pytest.raises(ValueError, match=r"must be \[x, labels\]"):
        cvae.fit(x[:64], epochs=1, verbose=0)
    with pytest.raises(ValueError, match="shape"):
        cvae.evaluate([x[:64], np.zeros((64, 3))], verbose=0)
    with pytest.raises(ValueError, match="integer labels"):
        cvae.predict([x[:4], np.array([0.5, 1, 2, 3])], verbose=0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):  # a Bernoulli likelihood, as the VAE's
        cvae.fit([x[:64] * 255, y[:64]], epochs=1, verbose=0)
