"""One battery for every builder (shapes, learning on real data, safe-mode save/load, argument
errors), then the family-specific checks (Jacobian, KL, sparsity, VAE details; those of the
conditional VAE, VQ-VAE and masked autoencoder are in test_new_families.py). Runs on the Keras
backend of the process (``KERAS_BACKEND``); see conftest.py."""

import json
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import aelib

# name -> (builder, keyword arguments, input shapes it must take)
BUILDERS = {
    "dense": (aelib.dense_autoencoder, {"hidden_units": (32,)}, [(28, 28, 1), (20,), (8, 8, 1), (6, 5, 3)]),
    "dense_deep_regularised": (
        aelib.dense_autoencoder,
        {"hidden_units": (64, 32), "dropout": 0.1, "l2": 1e-5},
        [(28, 28, 1), (20,)],
    ),
    "conv": (aelib.conv_autoencoder, {"filters": (8, 16)}, [(28, 28, 1), (8, 8, 1), (32, 32, 3), (30, 17, 2)]),
    "conv_upsampling": (aelib.conv_autoencoder, {"filters": (8, 16), "upsampling": "nearest"}, [(28, 28, 1), (9, 13, 1)]),
    "denoising_conv": (aelib.denoising_autoencoder, {"filters": (8, 16)}, [(28, 28, 1), (32, 32, 3), (15, 15, 1)]),
    "denoising_dense": (
        aelib.denoising_autoencoder,
        {"architecture": "dense", "noise": "masking", "noise_level": 0.2},
        [(28, 28, 1), (20,)],
    ),
    "sparse_kl": (aelib.sparse_autoencoder, {}, [(28, 28, 1), (20,)]),
    "sparse_l1": (aelib.sparse_autoencoder, {"sparsity": "l1"}, [(28, 28, 1), (20,)]),
    "contractive": (aelib.contractive_autoencoder, {"hidden_units": (32,)}, [(28, 28, 1), (20,)]),
    "vae_conv": (aelib.variational_autoencoder, {"filters": (8, 16)}, [(28, 28, 1), (32, 32, 3), (15, 15, 1)]),
    "vae_dense": (aelib.variational_autoencoder, {"architecture": "dense", "hidden_units": (32,)}, [(28, 28, 1), (20,)]),
    "recurrent_lstm": (aelib.recurrent_autoencoder, {"units": (16,)}, [(28, 28), (10, 3)]),
    "recurrent_gru": (aelib.recurrent_autoencoder, {"units": (16, 8), "cell": "gru"}, [(28, 28), (10, 3)]),
    "cvae_conv": (
        aelib.conditional_variational_autoencoder,
        {"num_classes": 10, "filters": (8, 16)},
        [(28, 28, 1), (15, 15, 1)],
    ),
    "cvae_dense": (
        aelib.conditional_variational_autoencoder,
        {"num_classes": 10, "architecture": "dense", "hidden_units": (32,)},
        [(28, 28, 1), (20,)],
    ),
    "vq": (aelib.vq_autoencoder, {"num_embeddings": 16, "filters": (8, 16)}, [(28, 28, 1), (32, 32, 3), (15, 15, 1)]),
    "masked": (aelib.masked_autoencoder, {"depth": 1, "num_heads": 2, "decoder_dim": 16, "decoder_heads": 2}, [(8, 12, 2)]),
}
LATENT = 4
SPARSE_LATENT = 32  # sparse codes are wide by design; 4 ReLU units under L1 just die


def latent(name):
    return SPARSE_LATENT if name.startswith("sparse") else LATENT


def is_vae(name):
    """The encoder returns [mean, log_var, z]."""
    return name.startswith(("vae", "cvae"))


def takes_labels(name):
    """The model and its parts take [data, labels] (the conditional VAE)."""
    return name.startswith("cvae")


def inputs(name, x, y):
    """What the model (or one of its parts) takes: [x, labels] for a conditional family, else x."""
    return [x, y] if takes_labels(name) else x


def head(data, n):
    """The first n examples of the model's inputs (an array, or a list of arrays)."""
    return [a[:n] for a in data] if isinstance(data, list) else data[:n]


def input_shape_of(data):
    return (data[0] if isinstance(data, list) else data).shape[1:]


def build(name, input_shape=None):
    builder, kwargs, shapes = BUILDERS[name]
    shape = input_shape or shapes[0]
    return builder(shape, latent(name), **kwargs)


def has_own_loss(model):
    """The loss is built in (VAE, CVAE, VQ-VAE, MAE): compile with an optimizer, fit without targets."""
    return isinstance(model, aelib.LossTermsModel)


def compile_model(name, model, lr=1e-3):
    if has_own_loss(model):
        model.compile(optimizer=keras.optimizers.Adam(lr))
    else:
        model.compile(optimizer=keras.optimizers.Adam(lr), loss="mse")
    return model


def real_data(name, fashion, n=512):
    """n real Fashion-MNIST images, as the model takes them (with their labels for a CVAE)."""
    (x, y), _ = fashion
    x, y = x[:n], y[:n]
    return inputs(name, x[..., 0] if name.startswith("recurrent") else x, y)  # recurrent: 28 rows of 28 pixels


def targets(model, data):
    return None if has_own_loss(model) else data


def fit(model, data, **kwargs):
    return model.fit(data, targets(model, data), batch_size=64, verbose=0, shuffle=False, **kwargs)


# ---- the battery -------------------------------------------------------------------------------
@pytest.mark.parametrize("name,shape", [(n, s) for n, (_, _, shapes) in BUILDERS.items() for s in shapes])
def test_shapes_and_named_submodels(name, shape):
    model = build(name, shape)
    rng = np.random.default_rng(0)
    x = rng.random((3,) + shape).astype("float32")
    y = rng.integers(0, 10, size=3)  # labels, for the conditional family
    assert model.predict(inputs(name, x, y), verbose=0).shape == (3,) + shape
    encoder, decoder = model.get_layer("encoder"), model.get_layer("decoder")
    codes = encoder.predict(inputs(name, x, y), verbose=0)
    if is_vae(name):
        assert [c.shape for c in codes] == [(3, LATENT)] * 3  # mean, log_var, sample
        codes = codes[0]
    if name.startswith("vq"):  # a grid of vectors, one per 4x4 block (two stride-2 blocks, padded)
        assert codes.shape == (3, -(-shape[0] // 4), -(-shape[1] // 4), LATENT)
    else:
        assert codes.shape == (3, latent(name))
    if name.startswith("masked"):  # its decoder reads one token per patch and the mask (1 = hidden)
        codes = [rng.random((3, model.n_patches, LATENT)).astype("float32"), np.ones((3, model.n_patches), "float32")]
    assert decoder.predict(inputs(name, codes, y), verbose=0).shape == (3,) + shape


@pytest.mark.parametrize("name", list(BUILDERS))
def test_loss_goes_down_on_real_fashion_mnist(name, fashion):
    aelib.set_seed(0)
    data = real_data(name, fashion)
    model = compile_model(name, build(name, input_shape_of(data)), lr=3e-3)
    before = model.evaluate(data, targets(model, data), verbose=0, return_dict=True)["loss"]
    fit(model, data, epochs=3)
    after = model.evaluate(data, targets(model, data), verbose=0, return_dict=True)["loss"]
    assert np.isfinite(after) and after < 0.95 * before, (before, after)


@pytest.fixture(scope="module")
def saved_models(tmp_path_factory, fashion):
    """Every builder trained one epoch and saved, with its predictions on a fixed batch (the
    inputs in an .npz: one array, or images and labels)."""
    folder = tmp_path_factory.mktemp("saved")
    out = {}
    for name in BUILDERS:
        aelib.set_seed(0)
        data = real_data(name, fashion, n=128)
        model = compile_model(name, build(name, input_shape_of(data)))
        fit(model, data, epochs=1)
        path = folder / f"{name}.keras"
        model.save(path)
        np.savez(folder / f"{name}_x.npz", *keras.tree.flatten(head(data, 16)))
        np.save(folder / f"{name}_pred.npy", model.predict(head(data, 16), verbose=0))
        out[name] = path
    return folder, out


def load_inputs(path):
    with np.load(path) as arrays:
        parts = [arrays[key] for key in arrays.files]
    return parts if len(parts) > 1 else parts[0]


@pytest.mark.parametrize("name", list(BUILDERS))
def test_save_load_safe_mode_identical_predictions(name, saved_models):
    folder, paths = saved_models
    loaded = keras.saving.load_model(paths[name], safe_mode=True)
    x = load_inputs(folder / f"{name}_x.npz")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), np.load(folder / f"{name}_pred.npy"))


def test_save_load_in_a_fresh_process(saved_models):
    """A new interpreter that imports aelib (to register its classes) and nothing of this run."""
    folder, paths = saved_models
    script = textwrap.dedent(f"""
        import json, numpy as np, keras, aelib
        folder, names = {str(folder)!r}, {list(paths)!r}
        result = {{}}
        for name in names:
            model = keras.saving.load_model(f"{{folder}}/{{name}}.keras", safe_mode=True)
            with np.load(f"{{folder}}/{{name}}_x.npz") as arrays:
                x = [arrays[key] for key in arrays.files]
            pred = model.predict(x if len(x) > 1 else x[0], verbose=0)
            result[name] = bool(np.array_equal(pred, np.load(f"{{folder}}/{{name}}_pred.npy")))
        print(json.dumps(result))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == {name: True for name in BUILDERS}


def test_loaded_vae_continues_training(saved_models, fashion):
    folder, paths = saved_models
    vae = keras.saving.load_model(paths["vae_conv"], safe_mode=True)
    steps = int(keras.ops.convert_to_numpy(vae.optimizer.iterations))
    assert steps > 0  # the optimizer state came back with the weights
    x = real_data("vae_conv", fashion, n=128)
    history = vae.fit(x, epochs=1, batch_size=64, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert int(keras.ops.convert_to_numpy(vae.optimizer.iterations)) == steps + 2


BAD_ARGUMENTS = [
    # (builder, args, kwargs, text the message must contain)
    (aelib.dense_autoencoder, ((28, 28, 1), 0), {}, "latent_dim"),
    (aelib.dense_autoencoder, ((28, 28, 1), -3), {}, "latent_dim"),
    (aelib.dense_autoencoder, ((28, 28, 1), 2.5), {}, "latent_dim"),
    (aelib.dense_autoencoder, ((0, 28), 8), {}, "input_shape"),
    (aelib.dense_autoencoder, ("28x28", 8), {}, "input_shape"),
    (aelib.dense_autoencoder, ((28, 28, 1), 8), {"hiden_units": (3,)}, "hidden_units"),
    (aelib.dense_autoencoder, ((28, 28, 1), 8), {"activation": "swishy"}, "activation"),
    (aelib.dense_autoencoder, ((28, 28, 1), 8), {"dropout": 1.5}, "dropout"),
    (aelib.dense_autoencoder, ((28, 28, 1), 8), {"dropout": 0.2, "hidden_units": ()}, "no effect"),
    (aelib.conv_autoencoder, ((28, 28), 8), {}, "input_shape"),
    (aelib.conv_autoencoder, ((28, 28, 1), 8), {"upsampling": "cubic"}, "upsampling"),
    (aelib.conv_autoencoder, ((28, 28, 1), 8), {"filters": ()}, "filters"),
    (aelib.denoising_autoencoder, ((28, 28, 1), 8), {"noise": "speckle"}, "noise"),
    (aelib.denoising_autoencoder, ((28, 28, 1), 8), {"noise_level": -0.1}, "amount"),
    (aelib.denoising_autoencoder, ((28, 28, 1), 8), {"hidden_units": (3,)}, "hidden_units"),
    (aelib.sparse_autoencoder, ((28, 28, 1), 8), {"sparsity": "l0"}, "sparsity"),
    (aelib.sparse_autoencoder, ((28, 28, 1), 8), {"target": 1.5}, "target"),
    (aelib.contractive_autoencoder, ((28, 28, 1), 8), {"activation": "gelu"}, "activation"),
    (aelib.contractive_autoencoder, ((28, 28, 1), 8), {"weight": -1.0}, "weight"),
    (aelib.variational_autoencoder, ((28, 28, 1), 0), {}, "latent_dim"),
    (aelib.variational_autoencoder, ((28, 28, 1), 8), {"reconstruction": "poisson"}, "reconstruction"),
    (aelib.variational_autoencoder, ((784,), 8), {}, "input_shape"),
    (aelib.variational_autoencoder, ((28, 28, 1), 8), {"beta": -1}, "beta"),
    (aelib.recurrent_autoencoder, ((28, 28, 1), 8), {}, "input_shape"),
    (aelib.recurrent_autoencoder, ((28, 28), 8), {"cell": "rnn"}, "cell"),
    (aelib.recurrent_encoder, ((28, 28), 8), {"units": ()}, "units"),
    (aelib.recurrent_decoder, (8, (28,)), {}, "input_shape"),
    (aelib.dense_decoder, (8, (28, 28)), {"output_activation": "sigmoidal"}, "output_activation"),
    (
        aelib.denoising_autoencoder,
        ((28, 28, 1), 8),
        {"architecture": "dense", "filters": (8,)},
        "did you mean 'filters'|unknown argument 'filters'",
    ),
    (aelib.conditional_variational_autoencoder, ((28, 28, 1), 8, 1), {}, "num_classes=1 must be an integer >= 2"),
    (aelib.conditional_variational_autoencoder, ((28, 28, 1), 8, 2.5), {}, "num_classes"),
    (aelib.conditional_variational_autoencoder, ((28, 28, 1), 0, 10), {}, "latent_dim"),
    (aelib.conditional_variational_autoencoder, ((784,), 8, 10), {}, "input_shape"),
    (aelib.conditional_variational_autoencoder, ((28, 28, 1), 8, 10), {"architecture": "rnn"}, "architecture"),
    (aelib.conditional_variational_autoencoder, ((28, 28, 1), 8, 10), {"beta": -1}, "beta"),
    (aelib.conditional_variational_autoencoder, ((28, 28, 1), 8, 10), {"num_class": 10}, "did you mean 'num_classes'"),
    (aelib.vq_autoencoder, ((28, 28, 1), 8), {"num_embeddings": 0}, "num_embeddings"),
    (aelib.vq_autoencoder, ((28, 28, 1), 8), {"decay": 1.0}, "decay"),
    (aelib.vq_autoencoder, ((28, 28, 1), 8), {"commitment_cost": -0.1}, "commitment_cost"),
    (aelib.vq_autoencoder, ((28, 28, 1), 8), {"ema": "yes"}, "ema"),
    (aelib.vq_autoencoder, ((784,), 8), {}, "input_shape"),
    (aelib.vq_autoencoder, ((28, 28, 1), 8), {"filters": ()}, "filters"),
    (aelib.masked_autoencoder, ((28, 28, 1), 64), {"patch_size": 5}, r"patch_size=5 does not divide .* \[1, 2, 4, 7, 14, 28\]"),
    (aelib.masked_autoencoder, ((28, 28, 1), 64), {"mask_ratio": 1.0}, "mask_ratio"),
    (aelib.masked_autoencoder, ((28, 28, 1), 64), {"mask_ratio": 0.0}, "mask_ratio"),
    (aelib.masked_autoencoder, ((28, 28, 1), 64), {"mask_ratio": 0.005}, "hides 0 of 49 patches"),
    (aelib.masked_autoencoder, ((28, 28, 1), 30), {"num_heads": 4}, "num_heads=4 must divide latent_dim=30"),
    (aelib.masked_autoencoder, ((28, 28, 1), 64), {"decoder_dim": 30}, "decoder_heads=4 must divide decoder_dim=30"),
    (aelib.masked_autoencoder, ((28, 28), 64), {}, "input_shape"),
    (aelib.masked_autoencoder, ((28, 28, 1), 64), {"depth": 0}, "depth"),
]


@pytest.mark.parametrize("builder,args,kwargs,text", BAD_ARGUMENTS)
def test_bad_arguments_raise_a_clear_value_error(builder, args, kwargs, text):
    with pytest.raises(ValueError, match=text):
        builder(*args, **kwargs)


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


# ---- family-specific ---------------------------------------------------------------------------
def finite_difference_jacobian(f, x, eps=1e-2):
    x = x.astype(np.float64)
    cols = []
    for i in range(x.size):
        step = np.zeros_like(x)
        step.flat[i] = eps
        cols.append((f(x + step) - f(x - step)) / (2 * eps))
    return np.stack(cols, axis=-1)  # (code, inputs)


@pytest.mark.parametrize(
    "activation,code_activation,hidden",
    [
        ("sigmoid", "sigmoid", ()),
        ("tanh", "linear", (7,)),
        ("softplus", "sigmoid", (6, 5)),
        ("elu", "tanh", (7,)),
    ],
)
def test_contractive_penalty_is_the_true_jacobian_norm(activation, code_activation, hidden):
    keras.utils.set_random_seed(1)
    model = aelib.contractive_autoencoder((10,), 4, hidden_units=hidden, activation=activation, code_activation=code_activation)
    encoder = model.get_layer("encoder")
    x = np.random.default_rng(0).normal(size=(3, 10)).astype("float32")
    got = keras.ops.convert_to_numpy(aelib.jacobian_frobenius_norm(encoder, x))
    f = lambda v: keras.ops.convert_to_numpy(encoder(v[None].astype("float32")))[0].astype(np.float64)  # noqa: E731
    want = [np.sum(finite_difference_jacobian(f, xi) ** 2) for xi in x]
    np.testing.assert_allclose(got, want, rtol=2e-3)
    # and against automatic differentiation on this backend
    jac = aelib.autodiff_jacobian(encoder, x)
    assert jac.shape == (3, 4, 10)
    np.testing.assert_allclose(got, np.sum(jac**2, axis=(1, 2)), rtol=1e-4)


def test_contractive_penalty_is_added_in_training_only(fashion):
    (x, _), _ = fashion
    model = aelib.contractive_autoencoder((28, 28, 1), 8, weight=10.0)
    plain = aelib.contractive_autoencoder((28, 28, 1), 8, weight=0.0)
    plain.set_weights(model.get_weights())
    for m in (model, plain):
        m.compile(optimizer="sgd", loss="mse")
    np.testing.assert_allclose(model.evaluate(x[:64], x[:64], verbose=0), plain.evaluate(x[:64], x[:64], verbose=0))
    model(x[:64], training=True)
    penalty = float(keras.ops.convert_to_numpy(model.losses[0]))
    want = 10.0 * np.mean(keras.ops.convert_to_numpy(aelib.jacobian_frobenius_norm(model.encoder, x[:64])))
    np.testing.assert_allclose(penalty, want, rtol=1e-5)


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
    # Bernoulli NLL in nats: 784 pixels, each between 0 and ~16 nats
    assert 100 < result["reconstruction_loss"] < 784 * 2


def test_vae_log_variance_cannot_overflow(fashion):
    (x, _), _ = fashion
    vae = aelib.variational_autoencoder((28, 28, 1), 4, architecture="dense", hidden_units=(16,))
    vae.compile(optimizer="adam")
    extreme = x[:32] * 1e4
    mean, log_var = vae.encode(extreme)
    assert np.abs(log_var).max() <= 10.0
    terms = vae.loss_terms(extreme)
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


@pytest.mark.parametrize("name", ["conv", "vae_dense"])
def test_seeded_runs_are_reproducible(name, fashion):
    x = real_data(name, fashion, n=128)
    losses = []
    for _ in range(2):
        aelib.set_seed(42)
        model = compile_model(name, build(name, x.shape[1:]))
        losses.append(fit(model, x, epochs=1).history["loss"][0])
    assert losses[0] == losses[1]


@pytest.mark.parametrize("sparsity", ["kl", "l1"])
def test_sparsity_lowers_mean_activation(sparsity, fashion):
    (x, _), _ = fashion
    acts = {}
    for weight in (0.0, None):  # None: the builder's default strength
        aelib.set_seed(0)
        model = aelib.sparse_autoencoder((28, 28, 1), 64, sparsity=sparsity, weight=weight)
        model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse")
        model.fit(x, x, epochs=4, batch_size=64, verbose=0)
        acts[weight] = model.get_layer("encoder").predict(x, verbose=0).mean()
    assert acts[None] < 0.7 * acts[0.0], acts
