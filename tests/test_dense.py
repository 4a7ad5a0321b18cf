"""The dense family (aelib/builders/dense.py), tied weights: dense_autoencoder(tie_weights=True) reuses the encoder's kernels, transposed, in
its decoder: about half the weights, trained through both uses, saved once and re-tied on load."""

import keras
import numpy as np
import pytest

import aelib


def test_tied_decoder_uses_the_encoder_kernels_transposed(fashion):
    (x, _), _ = fashion
    aelib.set_seed(0)
    tied = aelib.dense_autoencoder((28, 28, 1), 16, hidden_units=(64,), tie_weights=True)
    free = aelib.dense_autoencoder((28, 28, 1), 16, hidden_units=(64,))
    assert isinstance(tied, aelib.TiedAutoencoder)
    biases = 64 + 784
    assert tied.count_params() == free.get_layer("encoder").count_params() + biases
    assert tied.count_params() < 0.55 * free.count_params()
    tied.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse")
    before = tied.evaluate(x[:512], x[:512], verbose=0)
    tied.fit(x[:512], x[:512], epochs=3, batch_size=64, verbose=0)
    assert tied.evaluate(x[:512], x[:512], verbose=0) < 0.8 * before
    encoder, decoder = tied.get_layer("encoder"), tied.get_layer("decoder")
    codes = encoder.predict(x[:8], verbose=0)
    hidden = keras.ops.convert_to_numpy(
        keras.activations.relu(
            codes @ keras.ops.convert_to_numpy(encoder.get_layer("code").kernel).T
            + keras.ops.convert_to_numpy(decoder.get_layer("decoder_hidden_0").bias)
        )
    )
    w1 = keras.ops.convert_to_numpy(encoder.get_layer("encoder_hidden_0").kernel)
    logits = hidden @ w1.T + keras.ops.convert_to_numpy(decoder.get_layer("reconstruction").bias)
    np.testing.assert_allclose(decoder.predict(codes, verbose=0).reshape(8, -1), 1 / (1 + np.exp(-logits)), rtol=1e-4, atol=1e-5)


def test_tied_autoencoder_saves_and_loads_re_tied(tmp_path, fashion):
    (x, _), _ = fashion
    tied = aelib.dense_autoencoder((28, 28, 1), 8, hidden_units=(32,), tie_weights=True)
    tied.compile(optimizer="adam", loss="mse")
    tied.fit(x[:128], x[:128], epochs=1, verbose=0)
    tied.save(tmp_path / "tied.keras")
    loaded = keras.saving.load_model(tmp_path / "tied.keras", safe_mode=True)
    np.testing.assert_array_equal(loaded.predict(x[:16], verbose=0), tied.predict(x[:16], verbose=0))
    assert loaded.count_params() == tied.count_params()
    loaded.fit(x[:128], x[:128], epochs=1, verbose=0)  # and trains on, through both uses of the kernels


def test_an_untied_transposed_layer_says_how_to_build_it():
    layer = aelib.DenseTransposed("code", 4)
    with pytest.raises(ValueError, match="tie_weights=True"):
        layer(np.zeros((2, 3), "float32"))
    with pytest.raises(ValueError, match="ties to a built Dense layer with 4 inputs"):
        layer.tie(keras.layers.Dense(2))
