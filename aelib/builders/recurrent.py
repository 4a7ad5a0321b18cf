"""Recurrent (sequence) autoencoder for ``(timesteps, features)`` windows.

Use it for time series: sensor windows, signals, short sequences. An LSTM or GRU encoder reads
the window and its last state becomes the code; the decoder repeats the code at every time step
and unrolls another recurrent stack to rebuild the window. Windows it reconstructs badly are
unlike the training data, which is how it flags anomalies.

Example::

    rae = aelib.recurrent_autoencoder((64, 1), latent_dim=16, units=(64,), cell="gru")
    rae.compile(optimizer="adam", loss="mse")
    rae.fit(windows, windows, epochs=10)
"""

import keras
from keras import layers

from ..checks import check_activation, check_choice, check_positive_int, check_shape, check_units, checked_arguments
from .base import join

CELLS = {"lstm": layers.LSTM, "gru": layers.GRU}


@checked_arguments
def recurrent_encoder(input_shape, latent_dim, units=(64,), cell="lstm", name="encoder"):
    """Window ``(timesteps, features)`` -> stacked LSTM/GRU -> last state -> Dense(latent_dim)."""
    input_shape = check_shape(input_shape, (2,), "(timesteps, features)")
    check_positive_int("latent_dim", latent_dim)
    units = check_units("units", units, allow_empty=False)
    check_choice("cell", cell, tuple(CELLS))
    inputs = keras.Input(input_shape, name=f"{name}_input")
    x = inputs
    for i, u in enumerate(units):
        x = CELLS[cell](u, return_sequences=i < len(units) - 1, name=f"{name}_{cell}_{i}")(x)
    return keras.Model(inputs, layers.Dense(latent_dim, name="code")(x), name=name)


@checked_arguments
def recurrent_decoder(latent_dim, output_shape, units=(64,), cell="lstm", output_activation=None, name="decoder"):
    """Code -> repeated at every time step -> stacked LSTM/GRU -> Dense(features) per step."""
    output_shape = check_shape(output_shape, (2,), "(timesteps, features)")
    check_positive_int("latent_dim", latent_dim)
    units = check_units("units", units, allow_empty=False)
    check_choice("cell", cell, tuple(CELLS))
    check_activation("output_activation", output_activation)
    timesteps, features = output_shape
    codes = keras.Input((latent_dim,), name=f"{name}_input")
    x = layers.RepeatVector(timesteps, name="repeat")(codes)
    for i, u in enumerate(units):
        x = CELLS[cell](u, return_sequences=True, name=f"{name}_{cell}_{i}")(x)
    outputs = layers.Dense(features, activation=output_activation, name="reconstruction")(x)
    return keras.Model(codes, outputs, name=name)


@checked_arguments
def recurrent_autoencoder(
    input_shape,
    latent_dim,
    units=(64,),
    cell="lstm",
    output_activation=None,
    name="recurrent_autoencoder",
):
    """A sequence autoencoder (uncompiled), with sub-models "encoder" and "decoder".

    Args:
        input_shape: ``(timesteps, features)``; the number of time steps is fixed, since the
            decoder repeats the code that many times.
        latent_dim: size of the code.
        units: sizes of the recurrent layers of the encoder; the decoder mirrors them.
        cell: ``"lstm"`` or ``"gru"``.
        output_activation: activation of the per-step output (None for standardised signals,
            ``"sigmoid"`` for data in [0, 1]).
    """
    input_shape = check_shape(input_shape, (2,), "(timesteps, features)")
    units = check_units("units", units, allow_empty=False)
    encoder = recurrent_encoder(input_shape, latent_dim, units=units, cell=cell)
    decoder = recurrent_decoder(latent_dim, input_shape, units=units[::-1], cell=cell, output_activation=output_activation)
    return join(encoder, decoder, input_shape, name)
