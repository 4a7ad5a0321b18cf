"""Recurrent (sequence) autoencoder for ``(timesteps, features)`` windows.

To use it without aelib, copy this one file into your project: it needs only keras and numpy. Its classes are
registered under the package name "aelib": keep it to load ``.keras`` files saved by aelib, or rename it (every
``package="aelib"``) for your own. The blocks marked ``# Copied from`` are repeated in other aelib files on purpose.

For time series (sensor windows, signals, short sequences): an LSTM or GRU encoder reads the window and its last
state becomes the code; the decoder repeats the code at every time step and unrolls another recurrent stack to
rebuild the window. Windows it reconstructs badly are unlike the training data, which is how it flags anomalies.
"""

import difflib
import functools
import inspect
import math
import warnings

import keras
import numpy as np
from keras import layers, ops


# Copied from aelib.builders.base.check_shape
def check_shape(input_shape, ranks, what):
    """``input_shape`` as a tuple of positive ints whose length is in ``ranks``; ValueError otherwise."""
    ok = isinstance(input_shape, (tuple, list)) and len(input_shape) in ranks
    if not ok or any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d <= 0 for d in input_shape):
        raise ValueError(f"input_shape={input_shape!r} is not valid: expected {what}, positive integers, no batch axis.")
    return tuple(int(d) for d in input_shape)


# Copied from aelib.builders.base.check_int
def check_int(name, value, example=32, low=1):
    """An integer >= ``low`` (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name}={value!r} must be an integer >= {low}, e.g. {example}.")
    return int(value)


# Copied from aelib.builders.base.check_units
def check_units(name, units, allow_empty=True):
    """Layer sizes: a tuple of positive ints (an int is one layer; ``()`` only if ``allow_empty``)."""
    units = (units,) if isinstance(units, (int, np.integer)) else units
    ok = isinstance(units, (list, tuple)) and (allow_empty or len(units) > 0)
    if not ok or any(isinstance(u, bool) or not isinstance(u, (int, np.integer)) or u <= 0 for u in units):
        raise ValueError(f"{name}={units!r} must be a sequence of positive integers, e.g. (256, 128).")
    return tuple(int(u) for u in units)


# Copied from aelib.builders.base.check_choice
def check_choice(name, value, choices):
    """One of ``choices``; the error suggests the closest."""
    if value not in choices:
        close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1)
        raise ValueError(f"{name}={value!r} is not one of {tuple(choices)}." + (f" Did you mean {close[0]!r}?" if close else ""))
    return value


# Copied from aelib.builders.base.check_activation
def check_activation(name, value):
    """A Keras activation name or callable, or None (linear)."""
    try:
        keras.activations.get(value)
    except (ValueError, TypeError):
        raise ValueError(f"{name}={value!r} is not a Keras activation: use e.g. 'relu', 'sigmoid' or None.") from None
    return value


# Copied from aelib.builders.base.checked_arguments
def checked_arguments(builder=None, renamed=None):
    """Decorator of a builder or an ``__init__``: an unknown keyword raises ValueError naming the closest valid one (not
    Python's TypeError); an old name in ``renamed`` ({old: new}) still works, with a DeprecationWarning."""
    if builder is None:
        return functools.partial(checked_arguments, renamed=renamed)
    signature, owner = inspect.signature(builder), builder.__qualname__.replace(".__init__", "")
    valid = [n for n, p in signature.parameters.items() if p.kind is not p.VAR_KEYWORD]

    @functools.wraps(builder)
    def wrapper(*args, **kwargs):
        for old in [k for k in kwargs if k in (renamed or {})]:
            warnings.warn(f"{owner}({old}=) is deprecated: use {renamed[old]}=", DeprecationWarning, stacklevel=2)
            kwargs[renamed[old]] = kwargs.pop(old)
        unknown = [k for k in kwargs if k not in valid] if len(valid) == len(signature.parameters) else []
        if unknown:
            hint = "".join(f"did you mean {c!r}? " for c in difflib.get_close_matches(unknown[0], valid, n=1))
            raise ValueError(f"{owner}() got an unknown argument {unknown[0]!r}; {hint}it takes {', '.join(valid)}.")
        return builder(*args, **kwargs)

    wrapper.__signature__ = signature  # Keras reads an __init__'s arguments with inspect.getfullargspec
    return wrapper


# Copied from aelib.builders.base.check_finite
def check_finite(data, name):
    """Refuse NaN or inf in an array or a (nested) list, tuple or dict of arrays, naming the first bad index (anything
    else, such as a ``tf.data.Dataset``, is left alone: it cannot be read without consuming it)."""
    if isinstance(data, (dict, list, tuple)):
        return [check_finite(v, f"{name}[{k!r}]") for k, v in (data.items() if isinstance(data, dict) else enumerate(data))]
    array = np.asarray(data) if hasattr(data, "__array__") else np.zeros(0)
    if array.dtype.kind in "fc" and not np.isfinite(array).all():
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise ValueError(
            f"{name} holds {array[index]} at index {index} (the first of {int((~np.isfinite(array)).sum())} NaN or inf values). "
            "Training on it would make every weight NaN: drop or impute those entries first (e.g. np.nan_to_num)."
        )


# Copied from aelib.builders.base.TrainingDivergedError
class TrainingDivergedError(FloatingPointError):
    """A loss term became NaN or inf during ``fit`` (a ``FloatingPointError``)."""


# Copied from aelib.builders.base.StopOnNaN
class StopOnNaN(keras.callbacks.Callback):
    """Stops ``fit`` when a logged loss term (a name ending in "loss") is NaN or inf, naming it, the epoch and the step
    (when only the total is bad: the penalties added to it). Every aelib ``fit`` adds this callback."""

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        values = {k: float(np.mean(ops.convert_to_numpy(v))) for k, v in (logs or {}).items() if k.endswith("loss")}
        bad = [k for k, v in values.items() if not math.isfinite(v)]
        finite = ", ".join(f"{k} {v:.4g}" for k, v in values.items() if k not in bad)
        what = " and ".join(k for k in bad if k != "loss") or ("the penalties (regularisers, add_loss)" if finite else "loss")
        if bad:  # raising stops fit
            raise TrainingDivergedError(
                f"{what} became {values[bad[0]]} at epoch {getattr(self, 'epoch', 0) + 1}, step {batch + 1}"
                f"{f' (still finite: {finite})' * bool(finite)}. Training stopped: rebuild the model or reload a checkpoint. "
                "Usual fixes: a lower learning rate (e.g. 1e-4), inputs scaled to [0, 1] or standardised, a smaller penalty weight."
            )


# Copied from aelib.builders.base.CheckedFit
class CheckedFit:
    """Keras' ``compile``/``fit``/``evaluate`` with an autoencoder's conventions: ``fit(x)`` trains to reconstruct
    ``x`` (its target is its input; ``validation_data=x_val`` likewise), ``fit(x, y)`` takes another target (denoising
    from pairs of noisy and clean images); ``compile`` needs a ``loss`` (without one only the penalties would train);
    NaN or inf in the data is refused before training, and :class:`StopOnNaN` stops a diverging ``fit``."""

    def compile(self, optimizer="rmsprop", loss=None, **kwargs):
        if loss is None:
            raise ValueError(f"{type(self).__name__} needs a reconstruction loss, e.g. compile(optimizer='adam', loss='mse').")
        super().compile(optimizer=optimizer, loss=loss, **kwargs)

    def compile_from_config(self, config):  # Keras skips it for a model with its own compile: do what it does
        self.compile(**keras.saving.deserialize_keras_object(config))
        self.optimizer.build(self.trainable_variables) if self.built else None

    def _target(self, x, y, sample_weight, names=("x", "y", "sample_weight")):
        for value, name in zip((x, y, sample_weight), names):
            check_finite(value, name)
        return x if y is None and (isinstance(x, (list, tuple)) or hasattr(x, "__array__")) else y

    def fit(self, *args, **kwargs):
        a = inspect.signature(keras.Model.fit).bind(self, *args, **kwargs).arguments  # x, y, epochs, ... as given
        a.pop("self")
        a["y"] = self._target(a.get("x"), a.get("y"), a.get("sample_weight"))
        val = a.get("validation_data")
        if isinstance(val, (tuple, list)) or hasattr(val, "__array__"):
            val = (list(val) if isinstance(val, (tuple, list)) else [val]) + [None] * 3
            a["validation_data"] = (val[0], self._target(*val[:3], [f"validation_data[{i}]" for i in range(3)]), val[2])
        callbacks = list(a.get("callbacks") or [])
        a["callbacks"] = callbacks + [StopOnNaN()] * (not any(type(c).__name__ == "StopOnNaN" for c in callbacks))
        return super().fit(**a)

    def evaluate(self, x=None, y=None, sample_weight=None, **kwargs):
        y = self._target(x, y, sample_weight)
        return super().evaluate(x, y, sample_weight=sample_weight, **kwargs)


# Copied from aelib.builders.base.Autoencoder
@keras.saving.register_keras_serializable(package="aelib")
class Autoencoder(CheckedFit, keras.Model):
    """A functional autoencoder whose sub-models are layers named "encoder" and "decoder" (also ``.encoder`` and
    ``.decoder``), with :class:`CheckedFit`'s conventions: ``fit(x)`` trains it to reconstruct ``x``.

    Args: ``inputs``, ``outputs`` and ``name``, as for a functional ``keras.Model``.
    Returns: the reconstruction, when called. Raises: ValueError for a compile without loss, or NaN in the data.
    Example: ``Autoencoder(inputs, decoder(encoder(inputs)))``, as the builders of this file make it.
    """

    encoder = property(lambda self: self.get_layer("encoder"), doc="The encoder sub-model.")
    decoder = property(lambda self: self.get_layer("decoder"), doc="The decoder sub-model.")


# Copied from aelib.builders.base.join
def join(encoder, decoder, input_shape, name, corruption=None):
    """The :class:`Autoencoder` ``decoder(encoder(inputs))``, behind an optional training-only ``corruption`` layer."""
    inputs = keras.Input(input_shape, name="input")
    return Autoencoder(inputs, decoder(encoder(inputs if corruption is None else corruption(inputs))), name=name)


CELLS = {"lstm": layers.LSTM, "gru": layers.GRU}


@checked_arguments(renamed={"units": "hidden_units"})
def recurrent_encoder(input_shape, latent_dim, hidden_units=(64,), cell="lstm", name="encoder"):
    """Window ``(timesteps, features)`` -> stacked LSTM/GRU -> last state -> Dense(latent_dim).

    Args: as :func:`recurrent_autoencoder`'s. Returns: a ``keras.Model`` from windows to codes (n, latent_dim).
    Raises: ValueError for an invalid argument. Example: ``recurrent_encoder((64, 1), 16).predict(windows)``.
    """
    input_shape = check_shape(input_shape, (2,), "(timesteps, features)")
    check_int("latent_dim", latent_dim)
    hidden_units = check_units("hidden_units", hidden_units, allow_empty=False)
    check_choice("cell", cell, tuple(CELLS))
    x = inputs = keras.Input(input_shape, name=f"{name}_input")
    for i, u in enumerate(hidden_units):
        x = CELLS[cell](u, return_sequences=i < len(hidden_units) - 1, name=f"{name}_{cell}_{i}")(x)
    return keras.Model(inputs, layers.Dense(latent_dim, name="code")(x), name=name)


@checked_arguments(renamed={"units": "hidden_units"})
def recurrent_decoder(latent_dim, output_shape, hidden_units=(64,), cell="lstm", output_activation=None, name="decoder"):
    """Code -> repeated at every time step -> stacked LSTM/GRU -> Dense(features) at each step.

    Args: as :func:`recurrent_autoencoder`'s; ``hidden_units`` in decoder order. Returns: a ``keras.Model`` from
    codes to windows. Raises: ValueError for an invalid argument. Example: ``recurrent_decoder(16, (64, 1)).predict(z)``.
    """
    output_shape = check_shape(output_shape, (2,), "(timesteps, features)")
    check_int("latent_dim", latent_dim)
    hidden_units = check_units("hidden_units", hidden_units, allow_empty=False)
    check_choice("cell", cell, tuple(CELLS))
    check_activation("output_activation", output_activation)
    codes = keras.Input((latent_dim,), name=f"{name}_input")
    x = layers.RepeatVector(output_shape[0], name="repeat")(codes)
    for i, u in enumerate(hidden_units):
        x = CELLS[cell](u, return_sequences=True, name=f"{name}_{cell}_{i}")(x)
    return keras.Model(codes, layers.Dense(output_shape[1], output_activation, name="reconstruction")(x), name=name)


@checked_arguments(renamed={"units": "hidden_units"})
def recurrent_autoencoder(
    input_shape, latent_dim, hidden_units=(64,), cell="lstm", output_activation=None, name="recurrent_autoencoder"
):
    """A sequence autoencoder, uncompiled.

    Args:
        input_shape: ``(timesteps, features)``; the number of time steps is fixed (the decoder repeats the code
            that many times).
        latent_dim: size of the code.
        hidden_units: sizes of the encoder's recurrent layers; the decoder mirrors them. (Formerly ``units``,
            still accepted with a DeprecationWarning.)
        cell: ``"lstm"`` or ``"gru"``.
        output_activation: of the per-step output: None for standardised signals, ``"sigmoid"`` for data in [0, 1].
        name: the model's name.

    Returns:
        An uncompiled ``keras.Model`` with ``.encoder`` and ``.decoder``; ``fit(x)`` trains it to reconstruct ``x``.

    Raises:
        ValueError: for an invalid or unknown argument, naming it and what would work.

    Example::

        rae = recurrent_autoencoder((64, 1), latent_dim=16, hidden_units=(64,), cell="gru")
        rae.compile(optimizer="adam", loss="mse")
        rae.fit(windows, epochs=10, validation_split=0.1)
        errors = ((rae.predict(windows) - windows) ** 2).mean(axis=(1, 2))  # high: unusual windows
    """
    input_shape = check_shape(input_shape, (2,), "(timesteps, features)")
    hidden_units = check_units("hidden_units", hidden_units, allow_empty=False)
    encoder = recurrent_encoder(input_shape, latent_dim, hidden_units=hidden_units, cell=cell)
    decoder = recurrent_decoder(
        latent_dim, input_shape, hidden_units=hidden_units[::-1], cell=cell, output_activation=output_activation
    )
    return join(encoder, decoder, input_shape, name)
