"""Sparse autoencoder: a code in which only a few units are active for any one input.

Use it to learn an over-complete dictionary of parts (strokes, edges, textures) that can be
read one unit at a time. Two penalties are offered:

- ``sparsity="kl"``: the KL divergence between a target activation ``target`` (rho, e.g. 0.05)
  and each unit's mean activation over the batch, with sigmoid code units (Ng's sparse AE);
- ``sparsity="l1"``: an L1 penalty on the code activations (summed over units, averaged over
  the batch), with ReLU code units, which drives many activations to exactly zero.

Both penalties are explicit registered layers (:class:`~aelib.layers.KLSparsity`,
:class:`~aelib.layers.L1Sparsity`), so their strength means the same on every Keras version
(Keras' own ``activity_regularizer`` was divided by the batch size only from early 2026 on).

Example::

    sae = aelib.sparse_autoencoder((28, 28, 1), latent_dim=256, sparsity="kl", target=0.05)
    sae.compile(optimizer="adam", loss="mse")
    sae.fit(x_train, x_train, epochs=10)
"""

import keras

from ..checks import check_choice, check_positive_int, check_range, check_shape, check_units, checked_arguments
from ..layers import KLSparsity, L1Sparsity
from .base import join
from .dense import dense_decoder, dense_encoder


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
            the L1 penalty already silences nearly every unit).
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
        code_activation, penalty = "sigmoid", KLSparsity(target, weight, name="kl_sparsity")
    else:
        code_activation, penalty = "relu", L1Sparsity(weight, name="l1_sparsity")
    dense = dense_encoder(
        input_shape, latent_dim, hidden_units=hidden_units, activation=activation, code_activation=code_activation
    )
    encoder = keras.Model(dense.inputs, penalty(dense.outputs[0]), name="encoder")  # the code, then its penalty
    decoder = dense_decoder(
        latent_dim, input_shape, hidden_units=hidden_units[::-1], activation=activation, output_activation=output_activation
    )
    return join(encoder, decoder, input_shape, name)
