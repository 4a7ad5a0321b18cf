"""Denoising autoencoder: corrupt the input in training, reconstruct the clean original.

To use it without aelib, copy this one file into your project: it needs only keras and numpy. Its classes are
registered under the package name "aelib": keep it to load ``.keras`` files saved by aelib, or rename it (every
``package="aelib"``) for your own. The blocks marked ``# Copied from`` are repeated in other aelib files on purpose.

It removes noise, fills in missing pixels, and makes an over-complete code learn features (it can no longer copy
its input). The :class:`Corruption` layer is active in training only: ``fit(x)`` scores a fresh noisy copy of each
batch against the clean one, ``predict`` sees its input untouched.
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


# Copied from aelib.builders.base.check_number
def check_number(name, value, low=0.0, high=math.inf, open_low=False, open_high=True):
    """A real number between ``low`` and ``high`` (each end open or closed), as a float."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) and not math.isnan(value)
    if not (ok and (value > low if open_low else value >= low) and (value < high if open_high else value <= high)):
        interval = f"{'(' if open_low else '['}{low}, {high}{')' if open_high else ']'}"
        raise ValueError(f"{name}={value!r} must be a number in {interval}.")
    return float(value)


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


# Copied from aelib.builders.conv.same_padding
def same_padding(size, stride):
    """(before, after) zero padding that makes ``size`` a multiple of ``stride``."""
    extra = -size % stride
    return extra // 2, extra - extra // 2


# Copied from aelib.builders.conv.conv_stack
def conv_stack(x, filters, kernel_size=3, activation="relu", batch_norm=False, name="conv"):
    """Stride-2 Conv2D blocks (each halves height and width), with optional batch normalisation."""
    for i, f in enumerate(filters):
        x = layers.Conv2D(f, kernel_size, strides=2, padding="same", use_bias=not batch_norm, name=f"{name}_{i}")(x)
        x = layers.BatchNormalization(name=f"{name}_bn_{i}")(x) if batch_norm else x
        x = layers.Activation(activation, name=f"{name}_act_{i}")(x)
    return x


# Copied from aelib.builders.conv.conv_trunk
def conv_trunk(inputs, filters, kernel_size=3, activation="relu", batch_norm=False, name="encoder"):
    """[zero padding to a multiple of 2 ** len(filters)] -> stride-2 Conv2D blocks -> Flatten."""
    stride = 2 ** len(filters)
    pad = same_padding(inputs.shape[1], stride), same_padding(inputs.shape[2], stride)
    x = layers.ZeroPadding2D(pad, name="pad")(inputs) if any(pad[0] + pad[1]) else inputs
    x = conv_stack(x, filters, kernel_size=kernel_size, activation=activation, batch_norm=batch_norm, name=f"{name}_conv")
    return layers.Flatten(name="flatten")(x)


# Copied from aelib.builders.dense.to_output
def to_output(x, output_shape, output_activation):
    """Reshape flat outputs to ``output_shape``, then the output activation, last, as a layer of its own (so that a
    VAE can read the logits just before it)."""
    x = layers.Reshape(output_shape, name="reshape")(x) if len(output_shape) > 1 else x
    return x if output_activation is None else layers.Activation(output_activation, name="output_activation")(x)


CORRUPTIONS = ("gaussian", "salt_and_pepper", "masking", "block")


def check_amount(kind, amount):
    """``amount`` for a corruption ``kind``: a noise std >= 0, a fraction in [0, 1], or a block side (an integer >= 1)."""
    check_choice("kind", kind, CORRUPTIONS)
    if kind != "block":
        what = "the noise std" if kind == "gaussian" else "the fraction of values"
        check_number(
            f"amount (for kind={kind!r}, {what})",
            amount,
            0.0,
            math.inf if kind == "gaussian" else 1.0,
            open_high=kind == "gaussian",
        )
    elif (
        isinstance(amount, bool)
        or not isinstance(amount, (int, float, np.integer, np.floating))
        or not float(amount).is_integer()
        or amount < 1
    ):
        raise ValueError(f"amount={amount!r}: for kind='block' it is the block side in pixels, an integer >= 1.")
    return amount


def block_mask(top, left, height, width, size):
    """Boolean masks ``(n, height, width)``, True inside squares of side ``size`` whose corners are ``top``/``left``,
    each ``(n, blocks)``: every image gets its ``blocks`` squares."""
    rows = ops.arange(height, dtype="int32")[None, None, :]
    cols = ops.arange(width, dtype="int32")[None, None, :]
    top, left = ops.expand_dims(ops.cast(top, "int32"), -1), ops.expand_dims(ops.cast(left, "int32"), -1)
    in_rows = ops.logical_and(rows >= top, rows < top + size)  # (n, blocks, height)
    in_cols = ops.logical_and(cols >= left, cols < left + size)  # (n, blocks, width)
    return ops.any(ops.logical_and(in_rows[..., :, None], in_cols[..., None, :]), axis=1)


@keras.saving.register_keras_serializable(package="aelib")
class Corruption(layers.Layer):
    """Corrupts its input in training only; at inference it is the identity.

    Args:
        kind: ``"gaussian"`` (adds N(0, amount^2) noise), ``"salt_and_pepper"`` (a fraction ``amount`` of values set
            to 0 or 1, half each), ``"masking"`` (a fraction ``amount`` set to 0) or ``"block"`` (a square of side
            ``amount`` pixels blanked in each image: inpainting).
        amount: the noise std, the fraction of values, or the block side in pixels.
        clip: clip the result to ``[0, 1]`` (for images scaled to that range).
        seed: seed of the layer's random stream.

    Returns: the inputs corrupted (``training=True``) or unchanged, of the same shape. Raises: ValueError for an
    unknown kind, an amount out of range, or a block larger than the images.

    Example: ``noisy = Corruption("masking", 0.25, seed=0)(images, training=True)``.
    """

    def __init__(self, kind="gaussian", amount=0.3, clip=True, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.kind, self.amount, self.clip, self.seed = kind, check_amount(kind, amount), clip, seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def build(self, input_shape):
        if self.kind == "block" and len(input_shape) < 3:
            raise ValueError(f"kind='block' needs images (batch, height, width[, channels]), got {input_shape}.")
        if self.kind == "block" and self.amount > min(input_shape[1:3]):
            raise ValueError(f"amount={self.amount}: the block is larger than the {input_shape[1]}x{input_shape[2]} image.")

    def call(self, inputs, training=None):
        if not training:
            return inputs
        x, shape = inputs, ops.shape(inputs)
        if self.kind == "gaussian":
            x = x + self.amount * keras.random.normal(shape, seed=self.seed_generator, dtype=x.dtype)
        elif self.kind == "block":
            size = int(self.amount)
            corner = [keras.random.randint((shape[0], 1), 0, shape[d] - size + 1, seed=self.seed_generator) for d in (1, 2)]
            mask = ops.cast(block_mask(corner[0], corner[1], shape[1], shape[2], size), x.dtype)
            x = x * (1.0 - ops.reshape(mask, (shape[0], shape[1], shape[2]) + (1,) * (len(x.shape) - 3)))
        else:
            u = keras.random.uniform(shape, seed=self.seed_generator, dtype=x.dtype)
            salt = ops.ones_like(x) if self.kind == "salt_and_pepper" else ops.zeros_like(x)
            x = ops.where(u < self.amount / 2, ops.zeros_like(x), ops.where(u < self.amount, salt, x))
        return ops.clip(x, 0.0, 1.0) if self.clip else x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "kind": self.kind, "amount": self.amount, "clip": self.clip, "seed": self.seed}


def dense_parts(
    input_shape, latent_dim, hidden_units=(256,), activation="relu", code_activation=None, output_activation="sigmoid"
):
    """The encoder and decoder of a dense autoencoder (``hidden_units`` mirrored), as :mod:`aelib.builders.dense` builds."""
    check_int("latent_dim", latent_dim)
    hidden_units = check_units("hidden_units", hidden_units)
    for key, value in dict(activation=activation, code_activation=code_activation, output_activation=output_activation).items():
        check_activation(key, value)
    inputs = keras.Input(input_shape, name="encoder_input")
    x = layers.Flatten(name="flatten")(inputs) if len(input_shape) > 1 else inputs
    for i, units in enumerate(hidden_units):
        x = layers.Dense(units, activation, name=f"encoder_hidden_{i}")(x)
    encoder = keras.Model(inputs, layers.Dense(latent_dim, code_activation, name="code")(x), name="encoder")
    x = codes = keras.Input((latent_dim,), name="decoder_input")
    for i, units in enumerate(hidden_units[::-1]):
        x = layers.Dense(units, activation, name=f"decoder_hidden_{i}")(x)
    x = layers.Dense(math.prod(input_shape), name="reconstruction")(x)
    return encoder, keras.Model(codes, to_output(x, input_shape, output_activation), name="decoder")


def conv_parts(
    input_shape,
    latent_dim,
    filters=(32, 64),
    kernel_size=3,
    activation="relu",
    code_activation=None,
    output_activation="sigmoid",
    upsampling="transpose",
    batch_norm=False,
):
    """The encoder and decoder of a convolutional autoencoder, as :mod:`aelib.builders.conv` builds them."""
    check_int("latent_dim", latent_dim)
    filters = check_units("filters", filters, allow_empty=False)
    check_choice("upsampling", upsampling, ("transpose", "nearest", "bilinear"))
    for key, value in dict(activation=activation, code_activation=code_activation, output_activation=output_activation).items():
        check_activation(key, value)
    inputs = keras.Input(input_shape, name="encoder_input")
    x = conv_trunk(inputs, filters, kernel_size=kernel_size, activation=activation, batch_norm=batch_norm, name="encoder")
    encoder = keras.Model(inputs, layers.Dense(latent_dim, activation=code_activation, name="code")(x), name="encoder")
    stride = 2 ** len(filters)
    pad = same_padding(input_shape[0], stride), same_padding(input_shape[1], stride)
    h, w = (input_shape[0] + sum(pad[0])) // stride, (input_shape[1] + sum(pad[1])) // stride
    codes = keras.Input((latent_dim,), name="decoder_input")
    x = layers.Reshape((h, w, filters[-1]), name="reshape")(layers.Dense(h * w * filters[-1], activation, name="expand")(codes))
    out_filters = filters[-2::-1] + (input_shape[-1],)  # each block doubles the image; the last outputs its channels
    for i, f in enumerate(out_filters):
        if upsampling == "transpose":
            x = layers.Conv2DTranspose(f, kernel_size, strides=2, padding="same", name=f"decoder_deconv_{i}")(x)
        else:
            x = layers.UpSampling2D(2, interpolation=upsampling, name=f"decoder_upsample_{i}")(x)
            x = layers.Conv2D(f, kernel_size, padding="same", name=f"decoder_conv_{i}")(x)
        if i < len(out_filters) - 1:
            x = layers.BatchNormalization(name=f"decoder_bn_{i}")(x) if batch_norm else x
            x = layers.Activation(activation, name=f"decoder_act_{i}")(x)
    x = layers.Cropping2D(pad, name="crop")(x) if any(pad[0] + pad[1]) else x
    return encoder, keras.Model(codes, layers.Activation(output_activation, name="reconstruction")(x), name="decoder")


PARTS = {"conv": conv_parts, "dense": dense_parts}


@checked_arguments(renamed={"noise_level": "amount"})
def denoising_autoencoder(
    input_shape,
    latent_dim,
    noise="gaussian",
    amount=0.3,
    architecture="conv",
    clip=True,
    seed=None,
    name="denoising_autoencoder",
    **kwargs,
):
    """A dense or convolutional autoencoder behind a training-only :class:`Corruption` layer, uncompiled.

    Args:
        input_shape: ``(height, width, channels)`` for ``architecture="conv"``; ``(features,)`` or an image shape
            for ``"dense"``.
        latent_dim: size of the code.
        noise: the corruption: ``"gaussian"``, ``"salt_and_pepper"``, ``"masking"`` or ``"block"`` (inpainting).
        amount: the noise std (gaussian), the fraction of values (salt_and_pepper, masking) or the block side in
            pixels (block). Formerly ``noise_level``, accepted with a DeprecationWarning.
        architecture: ``"conv"`` or ``"dense"``.
        clip: clip corrupted inputs to [0, 1].
        seed: seed of the corruption's random stream.
        name: the model's name.
        **kwargs: layer options in encoder order (the decoder mirrors the sizes), for ``"conv"``: ``filters``,
            ``kernel_size``, ``upsampling``, ``batch_norm``; for ``"dense"``: ``hidden_units``; for both:
            ``activation``, ``code_activation``, ``output_activation``.

    Returns:
        An uncompiled ``keras.Model`` with ``.encoder`` and ``.decoder``: ``fit(x)`` trains it to rebuild ``x`` from
        its corrupted copies, ``fit(x_noisy, x_clean)`` from pairs (both behind the layer's own corruption).

    Raises:
        ValueError: for an invalid or unknown argument, naming it and what would work.

    Example::

        dae = denoising_autoencoder((28, 28, 1), latent_dim=64, noise="gaussian", amount=0.3)
        dae.compile(optimizer="adam", loss="mse")
        dae.fit(x_train, epochs=10, batch_size=128)
        clean = dae.predict(np.clip(x_test + 0.3 * np.random.normal(size=x_test.shape), 0, 1))
    """
    check_choice("noise", noise, CORRUPTIONS)
    check_choice("architecture", architecture, tuple(PARTS))
    conv = architecture == "conv"
    ranks, what = ((3,), "an image (height, width, channels)") if conv else ((1, 2, 3), "(features,) or an image")
    input_shape = check_shape(input_shape, ranks, what)
    valid = list(inspect.signature(PARTS[architecture]).parameters)[2:]
    for key in [k for k in kwargs if k not in valid][:1]:
        hint = "".join(f"did you mean {c!r}? " for c in difflib.get_close_matches(key, valid, n=1))
        raise ValueError(
            f"denoising_autoencoder(architecture={architecture!r}) got an unknown argument {key!r}; {hint}it takes {valid}."
        )
    encoder, decoder = PARTS[architecture](input_shape, latent_dim, **kwargs)
    corruption = Corruption(noise, amount, clip=clip, seed=seed, name="corruption")
    return join(encoder, decoder, input_shape, name, corruption=corruption)
