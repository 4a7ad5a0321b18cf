"""The recurrent (sequence) autoencoder (aelib/builders/recurrent.py): shapes, the renamed ``hidden_units``,
argument errors, and Keras' conventions (compile needs a loss, ``fit(x)``, ``.encoder``/``.decoder``, summary
totals, safe-mode reload)."""

import keras
import numpy as np
import pytest

import aelib


def windows(n=256, steps=24, seed=0):
    """Noisy sine windows (n, steps, 2) of random phase and frequency."""
    rng = np.random.default_rng(seed)
    t = np.arange(steps)[None, :, None]
    x = np.sin(rng.uniform(0.2, 0.6, (n, 1, 2)) * t + rng.uniform(0, 2 * np.pi, (n, 1, 2)))
    return (x + 0.05 * rng.normal(size=x.shape)).astype("float32")


@pytest.mark.parametrize("cell,hidden_units", [("lstm", (16,)), ("gru", (16, 8))])
def test_shapes_and_parts(cell, hidden_units):
    model = aelib.recurrent_autoencoder((24, 2), 4, hidden_units=hidden_units, cell=cell)
    x = windows(3)
    assert model.predict(x, verbose=0).shape == (3, 24, 2)
    assert model.encoder.predict(x, verbose=0).shape == (3, 4)
    assert model.decoder.predict(np.zeros((3, 4), "float32"), verbose=0).shape == (3, 24, 2)
    assert [layer.name for layer in model.decoder.layers if cell in layer.name] == [
        f"decoder_{cell}_{i}" for i in range(len(hidden_units))
    ]
    assert sum(layer.count_params() for layer in model.layers) == model.count_params()


def test_units_is_renamed_hidden_units_with_a_deprecation_warning():
    for builder, args in [
        (aelib.recurrent_autoencoder, ((24, 2), 4)),
        (aelib.recurrent_encoder, ((24, 2), 4)),
        (aelib.recurrent_decoder, (4, (24, 2))),
    ]:
        with pytest.warns(DeprecationWarning, match=rf"{builder.__name__}\(units=\) is deprecated: use hidden_units="):
            old = builder(*args, units=(8,), cell="gru")
        assert old.get_config() == builder(*args, hidden_units=(8,), cell="gru").get_config()


@pytest.mark.parametrize(
    "builder,args,kwargs,text",
    [
        (aelib.recurrent_autoencoder, ((28, 28, 1), 8), {}, "input_shape"),
        (aelib.recurrent_autoencoder, ((28, 28), 8), {"cell": "rnn"}, "cell"),
        (aelib.recurrent_autoencoder, ((28, 28), 0), {}, "latent_dim"),
        (aelib.recurrent_autoencoder, ((28, 28), 8), {"hiden_units": (3,)}, "did you mean 'hidden_units'"),
        (aelib.recurrent_encoder, ((28, 28), 8), {"hidden_units": ()}, "hidden_units"),
        (aelib.recurrent_decoder, (8, (28,)), {}, "input_shape"),
        (aelib.recurrent_decoder, (8, (28, 2)), {"output_activation": "sigmoidal"}, "output_activation"),
    ],
)
def test_bad_arguments(builder, args, kwargs, text):
    with pytest.raises(ValueError, match=text):
        builder(*args, **kwargs)


def test_keras_conventions(fashion, tmp_path):
    (images, _), _ = fashion
    x = images[:512, ..., 0]  # 28 steps of 28 pixels
    aelib.set_seed(0)
    model = aelib.recurrent_autoencoder((28, 28), 8, hidden_units=(32,), cell="gru")
    with pytest.raises(ValueError, match="needs a reconstruction loss"):
        model.compile(optimizer="adam")
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse")
    before = model.evaluate(x, x, verbose=0)
    model.fit(x, epochs=3, batch_size=32, verbose=0, validation_data=x)  # fit(x): the target is x
    assert model.evaluate(x, verbose=0) < 0.6 * before
    model.save(tmp_path / "recurrent.keras")
    loaded = keras.saving.load_model(tmp_path / "recurrent.keras", safe_mode=True)
    np.testing.assert_allclose(loaded.predict(x[:16], verbose=0), model.predict(x[:16], verbose=0), atol=1e-6)
