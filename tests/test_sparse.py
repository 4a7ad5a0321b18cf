"""The sparse autoencoder (aelib/builders/sparse.py): its two penalty layers, the KL between Bernoulli
distributions, the penalty lowering the code's mean activation, the renamed ``penalty_weight`` and Keras'
conventions (compile needs a loss, ``fit(x)``, ``.encoder``/``.decoder``, summary totals, safe-mode reload)."""

import inspect

import keras
import numpy as np
import pytest

import aelib
from aelib.builders.sparse import KLSparsity, L1Sparsity, kl_bernoulli


def params_add_up(model):
    return sum(layer.count_params() for layer in model.layers) == model.count_params()


def test_kl_bernoulli_is_the_closed_form():
    rho_hat = np.array([0.05, 0.2, 0.5, 0.9], "float32")
    want = 0.05 * np.log(0.05 / rho_hat) + 0.95 * np.log(0.95 / (1 - rho_hat))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(kl_bernoulli(0.05, rho_hat)), want, rtol=1e-5)
    assert keras.ops.convert_to_numpy(kl_bernoulli(0.05, rho_hat))[0] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("batch", [1, 8])
def test_penalty_layers_add_what_they_say(batch):
    a = np.random.default_rng(0).random((batch, 5)).astype("float32")
    kl = keras.Sequential([keras.Input((5,)), KLSparsity(0.1, penalty_weight=2.0)])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(kl(a)), a)  # identity
    want = 2.0 * np.sum(keras.ops.convert_to_numpy(kl_bernoulli(0.1, a.mean(axis=0))))
    assert float(keras.ops.convert_to_numpy(kl.losses[0])) == pytest.approx(want, rel=1e-5)
    l1 = keras.Sequential([keras.Input((5,)), L1Sparsity(penalty_weight=0.5)])
    l1(-a)
    assert float(keras.ops.convert_to_numpy(l1.losses[0])) == pytest.approx(0.5 * np.abs(a).sum(axis=1).mean(), rel=1e-5)


def test_weight_is_renamed_penalty_weight_with_a_deprecation_warning():
    with pytest.warns(DeprecationWarning, match=r"sparse_autoencoder\(weight=\) is deprecated: use penalty_weight="):
        old = aelib.sparse_autoencoder((20,), 8, sparsity="l1", weight=1e-3)
    new = aelib.sparse_autoencoder((20,), 8, sparsity="l1", penalty_weight=1e-3)
    assert old.get_config() == new.get_config()
    assert old.encoder.get_layer("l1_sparsity").penalty_weight == 1e-3
    for layer_class, args in ((KLSparsity, (0.1,)), (L1Sparsity, ())):
        with pytest.warns(DeprecationWarning, match=rf"{layer_class.__name__}\(weight=\) is deprecated"):
            layer = layer_class(*args, weight=0.25)
        assert layer.penalty_weight == 0.25 and "weight" not in layer.get_config()
        # checked_arguments keeps the signature Keras reads (inspect.getfullargspec) and names the class, not __init__
        assert inspect.getfullargspec(layer_class.__init__).args[:2] == ["self", "target" if args else "penalty_weight"]
        config = {**layer.get_config(), "weight": 0.5}  # a config saved before the rename
        del config["penalty_weight"]
        with pytest.warns(DeprecationWarning):
            assert layer_class.from_config(config).penalty_weight == 0.5


def test_defaults_and_bad_arguments():
    assert aelib.sparse_autoencoder((20,), 8).encoder.get_layer("kl_sparsity").penalty_weight == 3e-3
    assert aelib.sparse_autoencoder((20,), 8, sparsity="l1").encoder.get_layer("l1_sparsity").penalty_weight == 3e-4
    for kwargs, text in [
        ({"sparsity": "l0"}, "sparsity"),
        ({"target": 1.5}, "target"),
        ({"target": 0.0}, "target"),
        ({"penalty_weight": -1.0}, "penalty_weight"),
        ({"hiden_units": (3,)}, "did you mean 'hidden_units'"),
    ]:
        with pytest.raises(ValueError, match=text):
            aelib.sparse_autoencoder((28, 28, 1), 8, **kwargs)


@pytest.mark.parametrize("sparsity", ["kl", "l1"])
def test_keras_conventions(sparsity, fashion, tmp_path):
    (x, _), _ = fashion
    x = x[:256]
    aelib.set_seed(0)
    model = aelib.sparse_autoencoder((28, 28, 1), 32, sparsity=sparsity)
    with pytest.raises(ValueError, match="needs a reconstruction loss"):
        model.compile(optimizer="adam")
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse")
    assert params_add_up(model) and params_add_up(model.encoder)
    assert model.encoder.predict(x[:3], verbose=0).shape == (3, 32)
    assert model.decoder.predict(np.zeros((3, 32), "float32"), verbose=0).shape == (3, 28, 28, 1)
    before = model.evaluate(x, x, verbose=0)
    model.fit(x, epochs=3, batch_size=64, verbose=0, validation_data=x)  # fit(x): the target is x
    assert model.evaluate(x, x, verbose=0) < 0.9 * before
    model.save(tmp_path / "sparse.keras")
    loaded = keras.saving.load_model(tmp_path / "sparse.keras", safe_mode=True)
    np.testing.assert_array_equal(loaded.predict(x[:16], verbose=0), model.predict(x[:16], verbose=0))


@pytest.mark.parametrize("sparsity", ["kl", "l1"])
def test_sparsity_lowers_mean_activation(sparsity, fashion):
    (x, _), _ = fashion
    acts = {}
    for penalty_weight in (0.0, None):  # None: the builder's default strength
        aelib.set_seed(0)
        model = aelib.sparse_autoencoder((28, 28, 1), 64, sparsity=sparsity, penalty_weight=penalty_weight)
        model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse")
        model.fit(x, epochs=4, batch_size=64, verbose=0)
        acts[penalty_weight] = model.encoder.predict(x, verbose=0).mean()
    assert acts[None] < 0.7 * acts[0.0], acts
