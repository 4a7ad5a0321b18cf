"""Convolutional autoencoder for images of any size and channel count.

To use it without aelib, copy this one file into your project: it needs only keras and numpy. Its classes are
registered under the package name "aelib": keep it to load ``.keras`` files saved by aelib, or rename it (every
``package="aelib"``) for your own. The blocks marked ``# Copied from`` are repeated in other aelib files on purpose.

Convolutions share weights across positions, so on images they reconstruct better than a dense autoencoder with
far fewer parameters. Each encoder block halves the image with a stride-2 convolution; the decoder doubles it back
with transposed convolutions (or upsampling then a convolution, which avoids checkerboard artefacts). Sides that are
not a multiple of ``2 ** len(filters)`` are zero-padded on the way in and cropped on the way out.
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


def same_padding(size, stride):
    """(before, after) zero padding that makes ``size`` a multiple of ``stride``."""
    extra = -size % stride
    return extra // 2, extra - extra // 2


def conv_stack(x, filters, kernel_size=3, activation="relu", batch_norm=False, name="conv"):
    """Stride-2 Conv2D blocks (each halves height and width), with optional batch normalisation."""
    for i, f in enumerate(filters):
        x = layers.Conv2D(f, kernel_size, strides=2, padding="same", use_bias=not batch_norm, name=f"{name}_{i}")(x)
        x = layers.BatchNormalization(name=f"{name}_bn_{i}")(x) if batch_norm else x
        x = layers.Activation(activation, name=f"{name}_act_{i}")(x)
    return x


def conv_trunk(inputs, filters, kernel_size=3, activation="relu", batch_norm=False, name="encoder"):
    """[zero padding to a multiple of 2 ** len(filters)] -> stride-2 Conv2D blocks -> Flatten."""
    stride = 2 ** len(filters)
    pad = same_padding(inputs.shape[1], stride), same_padding(inputs.shape[2], stride)
    x = layers.ZeroPadding2D(pad, name="pad")(inputs) if any(pad[0] + pad[1]) else inputs
    x = conv_stack(x, filters, kernel_size=kernel_size, activation=activation, batch_norm=batch_norm, name=f"{name}_conv")
    return layers.Flatten(name="flatten")(x)


@checked_arguments
def conv_encoder(
    input_shape,
    latent_dim,
    filters=(32, 64),
    kernel_size=3,
    activation="relu",
    code_activation=None,
    batch_norm=False,
    name="encoder",
):
    """Image -> [pad] -> stride-2 Conv2D blocks -> Flatten -> Dense(latent_dim): the encoder of :func:`conv_autoencoder`.

    Args: as :func:`conv_autoencoder`'s. Returns: a ``keras.Model`` from images to codes (n, latent_dim).
    Raises: ValueError for an invalid argument. Example: ``conv_encoder((28, 28, 1), 32).predict(x)``.
    """
    input_shape = check_shape(input_shape, (3,), "an image (height, width, channels)")
    check_int("latent_dim", latent_dim)
    filters = check_units("filters", filters, allow_empty=False)
    check_activation("activation", activation)
    check_activation("code_activation", code_activation)
    inputs = keras.Input(input_shape, name=f"{name}_input")
    x = conv_trunk(inputs, filters, kernel_size=kernel_size, activation=activation, batch_norm=batch_norm, name=name)
    return keras.Model(inputs, layers.Dense(latent_dim, activation=code_activation, name="code")(x), name=name)


@checked_arguments
def conv_decoder(
    latent_dim,
    output_shape,
    filters=(64, 32),
    kernel_size=3,
    activation="relu",
    output_activation="sigmoid",
    upsampling="transpose",
    batch_norm=False,
    name="decoder",
):
    """Code -> Dense -> Reshape(h, w, filters[0]) -> x2 upsampling blocks -> [crop] -> output activation.

    ``filters`` are in decoder order (widest first): each block doubles the image and the last one outputs the
    image's channels, so no convolution runs at full resolution with many channels.

    Args: as :func:`conv_autoencoder`'s. Returns: a ``keras.Model`` from codes to images; its last layer is the
    output activation (a VAE reads the logits before it). Raises: ValueError for an invalid argument.
    Example: ``conv_decoder(32, (28, 28, 1)).predict(z)``.
    """
    output_shape = check_shape(output_shape, (3,), "an image (height, width, channels)")
    check_int("latent_dim", latent_dim)
    filters = check_units("filters", filters, allow_empty=False)
    check_choice("upsampling", upsampling, ("transpose", "nearest", "bilinear"))
    check_activation("output_activation", output_activation)
    stride = 2 ** len(filters)
    pad = same_padding(output_shape[0], stride), same_padding(output_shape[1], stride)
    h, w = (output_shape[0] + sum(pad[0])) // stride, (output_shape[1] + sum(pad[1])) // stride
    codes = keras.Input((latent_dim,), name=f"{name}_input")
    x = layers.Dense(h * w * filters[0], activation=activation, name="expand")(codes)
    x = layers.Reshape((h, w, filters[0]), name="reshape")(x)
    out_filters = tuple(filters[1:]) + (output_shape[-1],)
    for i, f in enumerate(out_filters):
        if upsampling == "transpose":
            x = layers.Conv2DTranspose(f, kernel_size, strides=2, padding="same", name=f"{name}_deconv_{i}")(x)
        else:
            x = layers.UpSampling2D(2, interpolation=upsampling, name=f"{name}_upsample_{i}")(x)
            x = layers.Conv2D(f, kernel_size, padding="same", name=f"{name}_conv_{i}")(x)
        if i < len(out_filters) - 1:
            x = layers.BatchNormalization(name=f"{name}_bn_{i}")(x) if batch_norm else x
            x = layers.Activation(activation, name=f"{name}_act_{i}")(x)
    x = layers.Cropping2D(pad, name="crop")(x) if any(pad[0] + pad[1]) else x
    return keras.Model(codes, layers.Activation(output_activation, name="reconstruction")(x), name=name)


@checked_arguments
def conv_autoencoder(
    input_shape,
    latent_dim,
    filters=(32, 64),
    kernel_size=3,
    activation="relu",
    code_activation=None,
    output_activation="sigmoid",
    upsampling="transpose",
    batch_norm=False,
    name="conv_autoencoder",
):
    """A convolutional autoencoder, uncompiled.

    Args:
        input_shape: ``(height, width, channels)``, any positive sizes.
        latent_dim: size of the code (a flat vector).
        filters: filters of the encoder's stride-2 blocks; the decoder mirrors them. ``(32, 64)`` takes 28x28 to 7x7.
        kernel_size: convolution kernel size.
        activation: activation of the hidden convolutions.
        code_activation: activation of the code layer (None: linear).
        output_activation: ``"sigmoid"`` for images in [0, 1], None for unbounded data.
        upsampling: ``"transpose"`` (Conv2DTranspose), ``"nearest"`` or ``"bilinear"`` (UpSampling2D, then Conv2D).
        batch_norm: batch normalisation after each hidden convolution.
        name: the model's name.

    Returns:
        An uncompiled ``keras.Model`` with ``.encoder`` and ``.decoder``; ``fit(x)`` trains it to reconstruct ``x``.

    Raises:
        ValueError: for an invalid or unknown argument, naming it and what would work.

    Example::

        ae = conv_autoencoder((28, 28, 1), latent_dim=32)
        ae.compile(optimizer="adam", loss="mse")
        ae.fit(x_train, epochs=10, batch_size=128, validation_data=x_test)
        images = ae.decoder.predict(ae.encoder.predict(x_test))
    """
    input_shape = check_shape(input_shape, (3,), "an image (height, width, channels)")
    filters = check_units("filters", filters, allow_empty=False)
    shared = dict(kernel_size=kernel_size, activation=activation, batch_norm=batch_norm)
    encoder = conv_encoder(input_shape, latent_dim, filters=filters, code_activation=code_activation, **shared)
    decoder = conv_decoder(
        latent_dim, input_shape, filters=filters[::-1], output_activation=output_activation, upsampling=upsampling, **shared
    )
    return join(encoder, decoder, input_shape, name)
