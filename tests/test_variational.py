"""The VAE family (aelib/builders/variational.py) on the backend of this process: the Bernoulli likelihood from
logits, the closed-form KL, sample weights in the loss and the metrics, mixed precision, beta and its warm-up, the
input guards, the named NaN stop, the IWAE bound."""

import keras
import numpy as np
import pytest

import aelib


def pinned_vae(latent=4, **kwargs):
    """A dense VAE whose log-variance is pinned near -30 (limit raised to allow it): sampling
    noise ~1e-7, so losses are deterministic while the sampling code path still runs."""
    aelib.set_seed(0)
    vae = aelib.variational_autoencoder(
        (28, 28, 1), latent, architecture="dense", hidden_units=(16,), log_var_limit=30.0, seed=0, **kwargs
    )
    layer = vae.get_layer("encoder").get_layer("z_log_var_raw")
    layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
    layer.bias.assign(np.full(latent, -30.0, "float32"))
    return vae


def test_bernoulli_likelihood_is_computed_from_logits():
    """log(clip(sigmoid)) caps a pixel's loss near 16 nats; from logits it is exact."""
    x = np.ones((2, 5), "float32")
    logits = np.full((2, 5), -30.0, "float32")
    exact = keras.ops.convert_to_numpy(aelib.reconstruction_nll(x, logits, from_logits=True))
    np.testing.assert_allclose(exact, 5 * 30.0, rtol=1e-5)  # -log sigmoid(-30) = 30 + log(1 + e^-30)
    probabilities = keras.ops.convert_to_numpy(keras.ops.sigmoid(logits))
    capped = keras.ops.convert_to_numpy(aelib.reconstruction_nll(x, probabilities))
    assert (capped < 5 * 16.2).all()  # what the old loss saw

    vae = pinned_vae()
    last = vae.get_layer("decoder").get_layer("reconstruction")
    last.kernel.assign(np.zeros(last.kernel.shape, "float32"))
    last.bias.assign(np.full(last.bias.shape, -30.0, "float32"))
    vae.compile(optimizer="sgd")
    images = np.ones((8, 28, 28, 1), "float32")
    r = vae.evaluate(images, verbose=0, return_dict=True)
    np.testing.assert_allclose(r["reconstruction_loss"], 784 * 30.0, rtol=1e-4)
    assert vae.predict(images, verbose=0).max() < 1e-12  # the decoder still returns probabilities


def test_sample_weight_counts_in_loss_metrics_and_gradients(fashion):
    (x, _), _ = fashion
    x = x[:64]
    weight = np.r_[np.full(32, 2.0), np.zeros(32)].astype("float32")  # the first half, twice

    vae = pinned_vae()
    vae.compile(optimizer="sgd")
    weighted = vae.evaluate(x, sample_weight=weight, batch_size=64, verbose=0, return_dict=True)
    first = vae.evaluate(x[:32], batch_size=32, verbose=0, return_dict=True)
    for key in ("loss", "reconstruction_loss", "kl_loss"):  # sum(l * w) / n = mean over the first half
        np.testing.assert_allclose(weighted[key], first[key], rtol=1e-4)
    with pytest.raises(ValueError, match="sample_weight holds nan"):
        vae.evaluate(x, sample_weight=np.full(64, np.nan, "float32"), verbose=0)

    a, b = pinned_vae(), pinned_vae()
    a.compile(optimizer=keras.optimizers.SGD(0.01))
    b.compile(optimizer=keras.optimizers.SGD(0.01))
    a.fit(x, sample_weight=weight, batch_size=64, epochs=1, shuffle=False, verbose=0)
    b.fit(x[:32], batch_size=32, epochs=1, shuffle=False, verbose=0)
    diff = max(float(np.abs(u - v).max()) for u, v in zip(a.get_weights(), b.get_weights()))
    assert diff < 1e-5, diff


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_trains(policy, fashion):
    (x, _), _ = fashion
    keras.mixed_precision.set_dtype_policy(policy)
    try:
        aelib.set_seed(0)
        vae = aelib.variational_autoencoder((28, 28, 1), 4, architecture="dense", hidden_units=(32,), seed=0)
        vae.compile(optimizer=keras.optimizers.Adam(1e-3))
        assert vae.get_layer("encoder").get_layer("z_mean").compute_dtype == policy.split("_")[1]
        history = vae.fit(x[:512], epochs=4, batch_size=32, verbose=0).history
        if policy == "mixed_float16":  # compile wraps the optimizer; train_step scales the loss through it
            assert isinstance(vae.optimizer, keras.optimizers.LossScaleOptimizer)
        terms = vae.loss_terms(x[:64], None)
        assert all(keras.ops.convert_to_numpy(v).dtype == np.float32 for v in terms.values())
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    losses = history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < 0.9 * losses[0], losses


def test_nan_or_inf_in_fit_arrays_is_refused_before_training(fashion):
    (x, _), _ = fashion
    bad = x[:64].copy()
    bad[17, 3, 5, 0] = np.inf
    for model, args in [
        (aelib.variational_autoencoder((28, 28, 1), 2, architecture="dense", hidden_units=(8,)), lambda a: (a,)),
        (aelib.dense_autoencoder((28, 28, 1), 2, hidden_units=(8,)), lambda a: (a, a)),
        (aelib.contractive_autoencoder((28, 28, 1), 2), lambda a: (a, a)),
    ]:
        model.compile(optimizer="adam") if hasattr(model, "loss_terms") else model.compile(optimizer="adam", loss="mse")
        before = [w.copy() for w in model.get_weights()]
        with pytest.raises(ValueError, match=r"^x holds inf at index \(17, 3, 5, 0\)"):
            model.fit(*args(bad), epochs=1, verbose=0)
        with pytest.raises(ValueError, match=r"validation_data\[0\] holds inf"):
            model.fit(*args(x[:64]), epochs=1, verbose=0, validation_data=args(bad))
        assert all(np.array_equal(u, v) for u, v in zip(before, model.get_weights()))  # no step was taken
    ae = aelib.dense_autoencoder((28, 28, 1), 2, hidden_units=(8,))
    ae.compile(optimizer="adam", loss="mse")
    target = x[:64].copy()
    target[2, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match=r"^y holds nan at index \(2, 0, 0, 0\)"):
        ae.fit(x[:64], target, epochs=1, verbose=0)


def _diverge(model, x, *y):
    with pytest.raises(FloatingPointError) as err:  # each family file raises its own TrainingDivergedError
        model.fit(x, *y, epochs=2, batch_size=32, verbose=0)
    return str(err.value)


def test_a_nan_loss_stops_fit_naming_the_term_epoch_and_step(fashion):
    (x, _), _ = fashion
    x = x[:128]
    # reconstruction: a Gaussian likelihood so narrow that the squared error overflows float32
    vae = aelib.variational_autoencoder(
        (28, 28, 1), 2, architecture="dense", hidden_units=(8,), reconstruction="gaussian", decoder_std=1e-25
    )
    vae.compile(optimizer="adam")
    msg = _diverge(vae, x)
    assert msg.startswith("reconstruction_loss became inf at epoch 1, step 1") and "kl_loss" not in msg.split("(")[0]

    # KL: posterior means of 1e30
    vae = aelib.variational_autoencoder((28, 28, 1), 2, architecture="dense", hidden_units=(8,))
    vae.get_layer("encoder").get_layer("z_mean").bias.assign(np.full(2, 1e30, "float32"))
    vae.compile(optimizer="adam")
    assert "kl_loss" in _diverge(vae, x).split(" became ")[0]

    # a penalty: a sparsity weight that overflows, while the terms are finite
    sparse = aelib.sparse_autoencoder((28, 28, 1), 16, sparsity="l1", penalty_weight=3e38)
    sparse.get_layer("encoder").get_layer("code").bias.assign(np.full(16, 10.0, "float32"))
    sparse.compile(optimizer="adam", loss="mse")
    msg = _diverge(sparse, x, x)
    assert msg.startswith("loss became inf at epoch 1, step 1") and "lower learning rate" in msg

    # ... and inside a VAE, where it is named as the penalty
    vae = aelib.VAE(
        vae.get_layer("encoder"),
        keras.Sequential(
            [
                keras.Input((2,)),
                keras.layers.Dense(784, kernel_regularizer=keras.regularizers.L2(3e38)),
                keras.layers.Reshape((28, 28, 1)),
                keras.layers.Activation("sigmoid"),
            ]
        ),
    )
    vae.get_layer("encoder").get_layer("z_mean").bias.assign(np.zeros(2, "float32"))
    vae.compile(optimizer="adam")
    msg = _diverge(vae, x)
    assert msg.startswith("the penalties (regularisers, add_loss)")
    assert "still finite:" in msg and "reconstruction_loss" in msg and "kl_loss" in msg


def test_bernoulli_vae_needs_a_sigmoid_last_layer():
    encoder = aelib.variational_autoencoder((20,), 2, architecture="dense").get_layer("encoder")
    decoder = keras.Sequential([keras.Input((2,)), keras.layers.Dense(20, activation="sigmoid")])
    with pytest.raises(ValueError, match=r"must end in Activation\('sigmoid'\)"):
        aelib.VAE(encoder, decoder)
    aelib.VAE(encoder, decoder, reconstruction="gaussian")  # any decoder for a Gaussian likelihood


def test_importance_weighted_bound_is_tighter_than_the_elbo(fashion):
    (x, _), (xt, _) = fashion
    aelib.set_seed(0)
    vae = aelib.variational_autoencoder((28, 28, 1), 8, architecture="dense", hidden_units=(64,), seed=0)
    vae.compile(optimizer=keras.optimizers.Adam(2e-3))
    vae.fit(x, epochs=3, batch_size=64, verbose=0)
    elbo = vae.importance_weighted_nll(xt[:100], k=1).mean()
    bounds = [vae.importance_weighted_nll(xt[:100], k=k).mean() for k in (5, 50)]
    assert bounds[1] < bounds[0] < elbo, (elbo, bounds)
    np.testing.assert_allclose(elbo, vae.evaluate(xt[:100], verbose=0, return_dict=True)["loss"], rtol=0.02)


def test_kl_divergence_closed_form():
    mean = np.array([[0.0, 1.0, 0.0, -2.0]], "float32")
    log_var = np.array([[0.0, 0.0, np.log(4.0), np.log(0.25)]], "float32")
    want = [0.0, 0.5, 0.5 * (4 - 1 - np.log(4)), 0.5 * (0.25 + 4 - 1 - np.log(0.25))]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(aelib.kl_divergence(mean, log_var))[0], want, rtol=1e-5)


def test_vae_metrics_match_the_closed_form_on_a_known_input(fashion):
    (x, _), _ = fashion
    x = x[:32]
    vae = aelib.variational_autoencoder((28, 28, 1), 3, architecture="dense", hidden_units=(16,), beta=0.5, seed=0)
    vae.compile(optimizer="adam")
    mean, log_var = vae.encode(x)
    kl = np.mean(np.sum(-0.5 * (1 + log_var - mean**2 - np.exp(log_var)), axis=1))
    result = vae.evaluate(x, batch_size=32, verbose=0, return_dict=True)
    np.testing.assert_allclose(result["kl_loss"], kl, rtol=1e-4)
    np.testing.assert_allclose(result["loss"], result["reconstruction_loss"] + 0.5 * result["kl_loss"], rtol=1e-5)
    np.testing.assert_allclose(vae.kl_per_dimension(x).sum(), kl, rtol=1e-4)
    assert vae.kl_per_dimension(x).shape == (3,)
    assert 0 <= vae.active_units(x) <= 3
    assert 100 < result["reconstruction_loss"] < 784 * 2  # Bernoulli NLL in nats: 784 pixels, each 0 to ~16 nats


def test_vae_log_variance_cannot_overflow(fashion):
    (x, _), _ = fashion
    vae = aelib.variational_autoencoder((28, 28, 1), 4, architecture="dense", hidden_units=(16,))
    vae.compile(optimizer="adam")
    extreme = x[:32] * 1e4
    mean, log_var = vae.encode(extreme)
    assert np.abs(log_var).max() <= 10.0
    terms = vae.loss_terms(extreme, None)
    assert all(np.isfinite(keras.ops.convert_to_numpy(v)) for v in terms.values())


def test_vae_beta_follows_a_callback(fashion):
    (x, _), _ = fashion
    vae = aelib.variational_autoencoder((28, 28, 1), 2, architecture="dense", hidden_units=(16,))
    vae.compile(optimizer="adam")
    seen = []
    record = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(vae.beta))
    vae.fit(x[:128], epochs=4, batch_size=64, verbose=0, callbacks=[aelib.KLWarmup(epochs=2), record])
    assert seen == [0.0, 0.5, 1.0, 1.0]
    vae.beta = 0.0  # with beta = 0 the loss is the reconstruction alone, in the compiled step too
    r = vae.evaluate(x[:64], verbose=0, return_dict=True)
    np.testing.assert_allclose(r["loss"], r["reconstruction_loss"], rtol=1e-6)
    with pytest.raises(ValueError, match="beta"):
        vae.beta = -1


def test_vae_refuses_bce_on_data_outside_unit_interval(fashion):
    vae = aelib.variational_autoencoder((28, 28, 1), 2, filters=(8,))
    vae.compile(optimizer="adam")
    (x, _), _ = fashion
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        vae.fit(x[:64] * 255.0, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"integers \(uint8\) in \[0, 255\].*x / 255"):
        vae.fit((x[:64] * 255).astype("uint8"), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"validation_data\[0\] has values"):
        vae.fit(x[:64], epochs=1, verbose=0, validation_data=(x[:64] + 1.0, None))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        vae.evaluate((x[:64] * 255).astype("uint8"), verbose=0)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        with pytest.raises(ValueError, match="gaussian"):
            vae.fit(tf.data.Dataset.from_tensor_slices(x[:64] - 0.5).batch(32), epochs=1, verbose=0)
    vae.fit((x[:64] > 0.5).astype("uint8"), epochs=1, verbose=0)  # binary integer images are Bernoulli data
    gaussian = aelib.variational_autoencoder((28, 28, 1), 2, filters=(8,), reconstruction="gaussian")
    gaussian.compile(optimizer="adam")
    gaussian.fit(x[:64] - 0.5, epochs=1, verbose=0)  # fine for the Gaussian likelihood


def test_validation_data_and_sample_weight_without_a_target(fashion):
    """fit(x, validation_data=x_val) and (x_val,) work; sample weights reach the loss of a validation set too."""
    (x, _), _ = fashion
    vae = pinned_vae()
    vae.compile(optimizer="sgd")
    for val in (x[:32], (x[:32],), (x[:32], None)):
        assert "val_loss" in vae.fit(x[:64], epochs=1, verbose=0, validation_data=val).history
    weights = np.r_[np.ones(16), np.zeros(16)].astype("float32")
    h = vae.fit(x[:64], epochs=1, verbose=0, validation_data=(x[:32], None, weights))
    half = vae.evaluate(x[:16], batch_size=16, verbose=0, return_dict=True)["loss"] / 2  # Keras: sum(l * w) / n
    np.testing.assert_allclose(h.history["val_loss"][0], half, rtol=1e-4)
