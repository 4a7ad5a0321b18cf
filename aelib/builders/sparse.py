"""Sparse autoencoder: a code in which only a few units are active for any one input.

Use it to learn an over-complete dictionary of parts (strokes, edges, textures) that can be
read one unit at a time. Two penalties are offered:

- ``sparsity="kl"``: the KL divergence between a target activation ``target`` (rho, e.g. 0.05)
  and each unit's mean activation over the batch, with sigmoid code units (Ng's sparse AE);
- ``sparsity="l1"``: an L1 penalty on the code activations (per example, summed over units),
  with ReLU code units, which drives many activations to exactly zero.

Example::

    sae = aelib.sparse_autoencoder((28, 28, 1), latent_dim=256, sparsity="kl", target=0.05)
    sae.compile(optimizer="adam", loss="mse")
    sae.fit(x_train, x_train, epochs=10)
"""

import keras

from ..layers import KLSparsity
from ._checks import check_choice, check_positive_int, check_range, check_shape, check_units, checked_arguments
from .dense import dense_decoder, dense_encoder, dense_stack


@checked_arguments
def sparse_autoencoder(
    input_shape,
    latent_dim,
    sparsity="kl",
    target=0.05,
    weight=None,
    hidden_units=(),
    activation="relu",
    output_activation="sigmoid",
    name="sparse_autoencoder",
):
    """A dense autoencoder with a sparsity penalty on its code (uncompiled).

    Args:
        input_shape: ``(features,)`` or an image shape.
        latent_dim: number of code units; typically over-complete (larger than needed).
        sparsity: ``"kl"`` or ``"l1"``.
        target: the target mean activation rho for ``"kl"`` (ignored for ``"l1"``).
        weight: strength of the penalty; None picks a default that works with MSE on images
            in [0, 1] (3e-3 for kl, 3e-4 for l1; a loss per pixel is small, and at 1e-3
            the L1 penalty already silences every unit).
        hidden_units: hidden layers between input and code (``()``: the code units read the
            pixels directly, so their weights can be shown as images).
        activation: activation of the hidden layers.
        output_activation: activation of the reconstruction.
    """
    input_shape = check_shape(input_shape, (1, 2, 3), "(features,) or an image (height, width[, channels])")
    check_positive_int("latent_dim", latent_dim)
    check_choice("sparsity", sparsity, ("kl", "l1"))
    hidden_units = check_units("hidden_units", hidden_units)
    if weight is None:
        weight = 3e-3 if sparsity == "kl" else 3e-4
    check_range("weight", weight, 0.0, float("inf"))
    if sparsity == "kl":
        check_range("target", target, 0.0, 1.0, low_inclusive=False)
        inputs = keras.Input(input_shape, name="encoder_input")
        x = keras.layers.Flatten(name="flatten")(inputs) if len(input_shape) > 1 else inputs
        x = dense_stack(x, hidden_units, activation, name="encoder_hidden")
        code = keras.layers.Dense(latent_dim, activation="sigmoid", name="code")(x)
        encoder = keras.Model(inputs, KLSparsity(target, weight, name="kl_sparsity")(code), name="encoder")
    else:
        encoder = dense_encoder(
            input_shape, latent_dim, hidden_units, activation, "relu", code_regularizer=keras.regularizers.L1(weight)
        )
    decoder = dense_decoder(latent_dim, input_shape, hidden_units[::-1], activation, output_activation)
    inputs = keras.Input(input_shape, name="input")
    return keras.Model(inputs, decoder(encoder(inputs)), name=name)
