"""The contractive autoencoder (aelib/builders/contractive.py): the closed-form Jacobian norm against finite
differences and automatic differentiation, the penalty in training only, tied weights, the renamed
``penalty_weight`` and Keras' conventions (compile needs a loss, ``fit(x)``, ``.encoder``/``.decoder``, summary
totals, safe-mode reload)."""

import keras
import numpy as np
import pytest

import aelib
from aelib.builders.contractive import ContractiveAutoencoder


def params_add_up(model):
    return sum(layer.count_params() for layer in model.layers) == model.count_params()


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
    [("sigmoid", "sigmoid", ()), ("tanh", "linear", (7,)), ("softplus", "sigmoid", (6, 5)), ("elu", "tanh", (7,))],
)
def test_contractive_penalty_is_the_true_jacobian_norm(activation, code_activation, hidden):
    keras.utils.set_random_seed(1)
    model = aelib.contractive_autoencoder((10,), 4, hidden_units=hidden, activation=activation, code_activation=code_activation)
    encoder = model.encoder
    x = np.random.default_rng(0).normal(size=(3, 10)).astype("float32")
    got = keras.ops.convert_to_numpy(aelib.jacobian_frobenius_norm(encoder, x))
    f = lambda v: keras.ops.convert_to_numpy(encoder(v[None].astype("float32")))[0].astype(np.float64)  # noqa: E731
    want = [np.sum(finite_difference_jacobian(f, xi) ** 2) for xi in x]
    np.testing.assert_allclose(got, want, rtol=2e-3)
    jac = aelib.autodiff_jacobian(encoder, x)  # and against automatic differentiation on this backend
    assert jac.shape == (3, 4, 10)
    np.testing.assert_allclose(got, np.sum(jac**2, axis=(1, 2)), rtol=1e-4)


def test_jacobian_needs_a_dense_encoder():
    conv = aelib.conv_autoencoder((8, 8, 1), 4, filters=(4,))
    with pytest.raises(ValueError, match="Dense encoders only; found Conv2D"):
        aelib.jacobian_frobenius_norm(conv.encoder, np.zeros((2, 8, 8, 1), "float32"))
    with pytest.raises(ValueError, match="Dense encoders only"):
        ContractiveAutoencoder(conv.encoder, conv.decoder)


@pytest.mark.parametrize("tie_weights", [False, True])
def test_penalty_is_added_in_training_only(tie_weights, fashion):
    (x, _), _ = fashion
    model = aelib.contractive_autoencoder((28, 28, 1), 8, penalty_weight=10.0, tie_weights=tie_weights)
    plain = aelib.contractive_autoencoder((28, 28, 1), 8, penalty_weight=0.0, tie_weights=tie_weights)
    plain.set_weights(model.get_weights())
    for m in (model, plain):
        m.compile(optimizer="sgd", loss="mse")
    np.testing.assert_allclose(model.evaluate(x[:64], verbose=0), plain.evaluate(x[:64], verbose=0))
    model(x[:64], training=True)
    penalty = float(keras.ops.convert_to_numpy(model.losses[0]))
    want = 10.0 * np.mean(keras.ops.convert_to_numpy(aelib.jacobian_frobenius_norm(model.encoder, x[:64])))
    np.testing.assert_allclose(penalty, want, rtol=1e-5)


def test_tied_weights_use_the_encoder_kernels_transposed(fashion, tmp_path):
    (x, _), _ = fashion
    aelib.set_seed(0)
    tied = aelib.contractive_autoencoder((28, 28, 1), 16, hidden_units=(64,), tie_weights=True)
    free = aelib.contractive_autoencoder((28, 28, 1), 16, hidden_units=(64,))
    assert sum(type(layer).__name__ == "DenseTransposed" for layer in tied.decoder.layers) == 2
    assert tied.count_params() == free.encoder.count_params() + 64 + 784  # the decoder adds its biases only
    assert params_add_up(tied) and params_add_up(free)
    codes = tied.encoder.predict(x[:8], verbose=0)
    kernel = {name: keras.ops.convert_to_numpy(tied.encoder.get_layer(name).kernel) for name in ("code", "encoder_hidden_0")}
    bias = {
        name: keras.ops.convert_to_numpy(tied.decoder.get_layer(name).bias) for name in ("decoder_hidden_0", "reconstruction")
    }
    hidden = 1 / (1 + np.exp(-(codes @ kernel["code"].T + bias["decoder_hidden_0"])))  # sigmoid hidden layer
    out = 1 / (1 + np.exp(-(hidden @ kernel["encoder_hidden_0"].T + bias["reconstruction"])))
    np.testing.assert_allclose(tied.predict(x[:8], verbose=0), out.reshape(8, 28, 28, 1), atol=1e-5)
    tied.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse")
    before = tied.evaluate(x[:512], verbose=0)
    tied.fit(x[:512], epochs=3, batch_size=64, verbose=0)
    assert tied.evaluate(x[:512], verbose=0) < 0.9 * before
    tied.save(tmp_path / "tied.keras")
    loaded = keras.saving.load_model(tmp_path / "tied.keras", safe_mode=True)
    np.testing.assert_array_equal(loaded.predict(x[:16], verbose=0), tied.predict(x[:16], verbose=0))
    assert loaded.count_params() == tied.count_params()


def test_weight_is_renamed_penalty_weight_with_a_deprecation_warning():
    with pytest.warns(DeprecationWarning, match=r"contractive_autoencoder\(weight=\) is deprecated: use penalty_weight="):
        old = aelib.contractive_autoencoder((20,), 4, weight=0.5)
    assert old.penalty_weight == 0.5 and old.get_config()["penalty_weight"] == 0.5 and "weight" not in old.get_config()
    assert old.get_config() == aelib.contractive_autoencoder((20,), 4, penalty_weight=0.5).get_config()
    config = old.get_config()
    config["weight"] = config.pop("penalty_weight")  # a model saved before the rename
    with pytest.warns(DeprecationWarning, match=r"ContractiveAutoencoder\(weight=\) is deprecated"):
        assert ContractiveAutoencoder.from_config(config).penalty_weight == 0.5


@pytest.mark.parametrize(
    "kwargs,text",
    [
        ({"activation": "gelu"}, "activation"),
        ({"code_activation": "swish"}, "code_activation"),
        ({"penalty_weight": -1.0}, "penalty_weight"),
        ({"hidden_units": (0,)}, "hidden_units"),
        ({"tie_weight": True}, "did you mean 'tie_weights'"),
    ],
)
def test_bad_arguments(kwargs, text):
    with pytest.raises(ValueError, match=text):
        aelib.contractive_autoencoder((28, 28, 1), 8, **kwargs)


def test_keras_conventions(fashion, tmp_path):
    (x, _), _ = fashion
    x = x[:512]
    aelib.set_seed(0)
    model = aelib.contractive_autoencoder((28, 28, 1), 16, hidden_units=(32,))
    with pytest.raises(ValueError, match="needs a reconstruction loss"):  # else the penalty alone would train
        model.compile(optimizer="adam")
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse")
    assert params_add_up(model)
    assert model.encoder.predict(x[:3], verbose=0).shape == (3, 16)
    assert model.decoder.predict(np.zeros((3, 16), "float32"), verbose=0).shape == (3, 28, 28, 1)
    before = model.evaluate(x, verbose=0)
    model.fit(x, epochs=3, batch_size=64, verbose=0, validation_data=x)  # fit(x): the target is x
    assert model.evaluate(x, x, verbose=0) < 0.9 * before
    model.save(tmp_path / "cae.keras")
    loaded = keras.saving.load_model(tmp_path / "cae.keras", safe_mode=True)
    np.testing.assert_array_equal(loaded.predict(x[:16], verbose=0), model.predict(x[:16], verbose=0))


def test_autodiff_jacobian_takes_a_plain_function_too():
    x = np.array([[1.0, -2.0], [0.5, 3.0]], "float32")
    jac = aelib.autodiff_jacobian(lambda v: keras.ops.stack([v[:, 0] * v[:, 1], v[:, 0] ** 2], axis=1), x)
    want = np.stack([[[b, a], [2 * a, 0.0]] for a, b in x])  # d(ab)/d(a, b), d(a^2)/d(a, b)
    np.testing.assert_allclose(jac, want, rtol=1e-6)
