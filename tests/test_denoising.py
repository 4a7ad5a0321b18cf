"""The denoising autoencoder (aelib/builders/denoising.py, also the source of the Corruption layer; its own tests
are in test_corruption.py): both architectures built as the dense and conv builders build theirs, the renamed
``amount``, argument errors, and Keras' conventions (compile needs a loss, ``fit(x)`` and ``fit(x_noisy,
x_clean)``, ``.encoder``/``.decoder``, summary totals, safe-mode reload)."""

import keras
import numpy as np
import pytest

import aelib


def params_add_up(model):
    return sum(layer.count_params() for layer in model.layers) == model.count_params()


def same_parts(a, b):
    for part in ("encoder", "decoder"):
        pa, pb = getattr(a, part), getattr(b, part)
        assert [(layer.name, layer.count_params()) for layer in pa.layers] == [
            (layer.name, layer.count_params()) for layer in pb.layers
        ]
        assert pa.output.shape == pb.output.shape


@pytest.mark.parametrize(
    "shape,kwargs",
    [
        ((28, 28, 1), {"filters": (8, 16)}),
        ((15, 13, 3), {"filters": (8, 16), "upsampling": "nearest", "batch_norm": True, "kernel_size": 5}),
        ((9, 9, 1), {"filters": (4,), "activation": "tanh", "code_activation": "relu", "output_activation": None}),
    ],
)
def test_conv_parts_are_the_conv_autoencoders(shape, kwargs):
    """The stand-alone file builds its conv encoder and decoder itself: the same layers as conv_autoencoder's."""
    dae = aelib.denoising_autoencoder(shape, 6, **kwargs)
    same_parts(dae, aelib.conv_autoencoder(shape, 6, **kwargs))
    assert dae.predict(np.zeros((2,) + shape, "float32"), verbose=0).shape == (2,) + shape
    assert params_add_up(dae)


@pytest.mark.parametrize(
    "shape,kwargs",
    [
        ((28, 28, 1), {"hidden_units": (32,)}),
        ((20,), {"hidden_units": (16, 8), "activation": "tanh", "output_activation": None}),
        ((6, 5, 3), {"hidden_units": (), "code_activation": "sigmoid"}),
    ],
)
def test_dense_parts_are_the_dense_autoencoders(shape, kwargs):
    dae = aelib.denoising_autoencoder(shape, 6, architecture="dense", **kwargs)
    same_parts(dae, aelib.dense_autoencoder(shape, 6, **kwargs))
    assert dae.predict(np.zeros((2,) + shape, "float32"), verbose=0).shape == (2,) + shape
    assert params_add_up(dae)


def test_noise_level_is_renamed_amount_with_a_deprecation_warning():
    with pytest.warns(DeprecationWarning, match=r"denoising_autoencoder\(noise_level=\) is deprecated: use amount="):
        old = aelib.denoising_autoencoder((12, 12, 1), 4, filters=(4,), noise="masking", noise_level=0.2, seed=1)
    new = aelib.denoising_autoencoder((12, 12, 1), 4, filters=(4,), noise="masking", amount=0.2, seed=1)
    assert old.get_config() == new.get_config()
    assert old.get_layer("corruption").amount == 0.2


@pytest.mark.parametrize(
    "kwargs,text",
    [
        ({"noise": "speckle"}, "noise"),
        ({"amount": -0.1}, "amount"),
        ({"noise": "masking", "amount": 1.5}, "amount"),
        ({"noise": "block", "amount": 2.5}, "amount"),
        ({"noise": "block", "amount": 40}, "larger than the 28x28 image"),
        ({"architecture": "rnn"}, "architecture"),
        ({"hidden_units": (3,)}, r"denoising_autoencoder\(architecture='conv'\) got an unknown argument 'hidden_units'"),
        ({"architecture": "dense", "filters": (8,)}, "unknown argument 'filters'"),
        ({"architecture": "dense", "hiden_units": (8,)}, "did you mean 'hidden_units'"),
        ({"filters": ()}, "filters"),
        ({"upsampling": "cubic"}, "upsampling"),
        ({"architecture": "dense", "activation": "swishy"}, "activation"),
        ({"nois": "gaussian"}, "unknown argument 'nois'"),
    ],
)
def test_bad_arguments(kwargs, text):
    with pytest.raises(ValueError, match=text):
        aelib.denoising_autoencoder((28, 28, 1), 8, **kwargs)
    with pytest.raises(ValueError, match="input_shape"):
        aelib.denoising_autoencoder((784,), 8)  # conv needs an image


@pytest.mark.parametrize("architecture,kwargs", [("conv", {"filters": (8, 16)}), ("dense", {"hidden_units": (64,)})])
def test_keras_conventions(architecture, kwargs, fashion, tmp_path):
    (x, _), _ = fashion
    x = x[:512]
    aelib.set_seed(0)
    dae = aelib.denoising_autoencoder((28, 28, 1), 16, amount=0.2, architecture=architecture, seed=0, **kwargs)
    with pytest.raises(ValueError, match="needs a reconstruction loss"):
        dae.compile(optimizer="adam")
    dae.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse")
    assert params_add_up(dae)
    assert dae.encoder.predict(x[:3], verbose=0).shape == (3, 16)
    assert dae.decoder.predict(np.zeros((3, 16), "float32"), verbose=0).shape == (3, 28, 28, 1)
    np.testing.assert_array_equal(dae.predict(x[:8], verbose=0), dae.predict(x[:8], verbose=0))  # no noise in predict
    before = dae.evaluate(x, verbose=0)
    dae.fit(x, epochs=3, batch_size=64, verbose=0, validation_data=x)  # fit(x): the target is x
    assert dae.evaluate(x, x, verbose=0) < 0.8 * before
    dae.save(tmp_path / "dae.keras")
    loaded = keras.saving.load_model(tmp_path / "dae.keras", safe_mode=True)
    np.testing.assert_array_equal(loaded.predict(x[:16], verbose=0), dae.predict(x[:16], verbose=0))
    assert loaded.get_layer("corruption").get_config() == dae.get_layer("corruption").get_config()


def test_fit_takes_another_target(fashion):
    """fit(x_noisy, x_clean) scores against x_clean (denoising from pairs), fit(x) against x."""
    (x, _), _ = fashion
    clean, noisy = x[:512], aelib.add_gaussian_noise(x[:512], 0.4, seed=0)
    dae = aelib.denoising_autoencoder((28, 28, 1), 16, filters=(8, 16), amount=0.0, seed=0)  # the pairs bring the noise
    dae.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse")
    mse = lambda a, b: float(np.mean((a - b) ** 2))  # noqa: E731
    pred = dae.predict(noisy, verbose=0)
    assert dae.evaluate(noisy, clean, verbose=0) == pytest.approx(mse(pred, clean), rel=1e-4)
    assert dae.evaluate(noisy, verbose=0) == pytest.approx(mse(pred, noisy), rel=1e-4)
    before = dae.evaluate(noisy, clean, verbose=0)
    dae.fit(noisy, clean, epochs=3, batch_size=32, verbose=0)
    assert dae.evaluate(noisy, clean, verbose=0) < 0.8 * before
