"""Contractive autoencoder: a code that barely moves when the input moves a little.

To use it without aelib, copy this one file into your project: it needs only keras and numpy. Its classes are
registered under the package name "aelib": keep it to load ``.keras`` files saved by aelib, or rename it (every
``package="aelib"``) for your own. The blocks marked ``# Copied from`` are repeated in other aelib files on purpose.

The training loss adds ``penalty_weight * ||d code / d input||_F^2``, the squared Frobenius norm of the encoder's
Jacobian (Rifai et al. 2011): a code robust to small perturbations that still follows the data. For Dense layers
the Jacobian has the closed form J = D_L W_L^T ... D_1 W_1^T (D_k: activation derivatives), which
:func:`jacobian_frobenius_norm` computes from the code side backwards (its widest matrix is (batch, latent_dim,
hidden), not (batch, pixels, hidden)). ``tie_weights=True``: the decoder reuses the encoder's kernels, transposed.
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


# Copied from aelib.builders.base.EncoderDecoderModel
@keras.saving.register_keras_serializable(package="aelib")
class EncoderDecoderModel(CheckedFit, keras.Model):
    """A subclassed model of sub-models ``encoder`` and ``decoder`` (and any others in ``submodels``), saved by
    ``get_config``; ``call`` is ``decoder(encoder(x))``."""

    submodels = ("encoder", "decoder")

    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder = encoder, decoder

    def call(self, inputs, training=False):
        return self.decoder(self.encoder(inputs, training=training), training=training)

    def get_config(self):
        return {**super().get_config(), **{k: keras.saving.serialize_keras_object(getattr(self, k)) for k in self.submodels}}

    @classmethod
    def from_config(cls, config):
        return cls(**{**config, **{k: keras.saving.deserialize_keras_object(config[k]) for k in cls.submodels}})


# Copied from aelib.builders.dense.to_output
def to_output(x, output_shape, output_activation):
    """Reshape flat outputs to ``output_shape``, then the output activation, last, as a layer of its own (so that a
    VAE can read the logits just before it)."""
    x = layers.Reshape(output_shape, name="reshape")(x) if len(output_shape) > 1 else x
    return x if output_activation is None else layers.Activation(output_activation, name="output_activation")(x)


# Copied from aelib.builders.dense.DenseTransposed
@keras.saving.register_keras_serializable(package="aelib")
class DenseTransposed(layers.Layer):
    """A Dense layer whose kernel is the transpose of another Dense layer's (tied weights): only the bias is its own.

    Args:
        tied_to: name of the source ``Dense`` layer, attached by :meth:`tie` (a :class:`TiedAutoencoder` does it).
        units: output size (the source kernel's input size).
        activation: activation, as for ``Dense``.

    Returns: ``activation(inputs @ source.kernel.T + bias)`` when called.

    Raises: ValueError for an invalid argument, a source of another shape, or a call before :meth:`tie`.

    Example: ``dense_autoencoder((784,), 32, tie_weights=True)`` builds its decoder from these layers.
    """

    def __init__(self, tied_to, units, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.tied_to, self.units = tied_to, check_int("units", units)
        self.activation = keras.activations.get(check_activation("activation", activation))
        self._source = None

    def tie(self, layer):
        """Use ``layer``'s kernel (a built ``Dense`` layer with ``units`` inputs), transposed."""
        shape = tuple(layer.kernel.shape) if isinstance(layer, layers.Dense) and layer.built else None
        if shape is None or shape[0] != self.units:
            raise ValueError(
                f"{self.name} ties to a built Dense layer with {self.units} inputs; {layer.name!r} has kernel shape {shape}."
            )
        object.__setattr__(self, "_source", layer)  # not an attribute Keras tracks: its weights are the source's

    def build(self, input_shape):
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")

    def call(self, inputs):
        if self._source is None:
            raise ValueError(f"{self.name} is not tied to a layer yet: build it with dense_autoencoder(..., tie_weights=True).")
        return self.activation(ops.matmul(inputs, ops.transpose(self._source.kernel)) + self.bias)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {
            **super().get_config(),
            "tied_to": self.tied_to,
            "units": self.units,
            "activation": keras.activations.serialize(self.activation),
        }


# The derivative of each supported activation, from its input z and output a = f(z).
DERIVATIVES = {
    "linear": lambda z, a: ops.ones_like(z),
    "sigmoid": lambda z, a: a * (1.0 - a),
    "tanh": lambda z, a: 1.0 - ops.square(a),
    "relu": lambda z, a: ops.cast(z > 0, z.dtype),
    "softplus": lambda z, a: ops.sigmoid(z),
    "elu": lambda z, a: ops.where(z > 0, ops.ones_like(z), a + 1.0),
}


def _dense_layers(encoder):
    for layer in encoder.layers:
        if not isinstance(layer, (layers.Dense, layers.InputLayer, layers.Flatten)):
            raise ValueError(f"jacobian_frobenius_norm takes Dense encoders only; found {type(layer).__name__}.")
    return [layer for layer in encoder.layers if isinstance(layer, layers.Dense)]


def jacobian_frobenius_norm(encoder, x):
    """Per-example ``||d encoder(x) / dx||_F^2`` of an encoder of Dense layers, shape (batch,), in closed form.

    Args: ``encoder``, a model of ``Flatten`` and ``Dense`` layers with activations in :data:`DERIVATIVES`; ``x``, a batch.

    Returns: a tensor of shape (batch,). Raises: ValueError when the encoder has another kind of layer.

    Example: ``penalty = ops.mean(jacobian_frobenius_norm(model.encoder, x))``.
    """
    h, dense, derivs = ops.reshape(x, (ops.shape(x)[0], -1)), _dense_layers(encoder), []
    for layer in dense:
        z = ops.matmul(h, layer.kernel) + layer.bias if layer.use_bias else ops.matmul(h, layer.kernel)
        h = layer.activation(z)
        derivs.append(DERIVATIVES[keras.activations.serialize(layer.activation)](z, h))
    a = None  # A = D_L W_L^T D_{L-1} ... D_1 from the code backwards; None stands for diag(derivs[-1])
    for k in range(len(dense) - 1, 0, -1):
        w_t = ops.transpose(dense[k].kernel)  # (out_k, in_k)
        a = (derivs[k][:, :, None] * w_t[None] if a is None else ops.matmul(a, w_t)) * derivs[k - 1][:, None, :]
    w1 = dense[0].kernel  # (pixels, units_1)
    if a is None:  # one layer: ||J||^2 = sum_j d_j^2 ||W[:, j]||^2
        return ops.sum(ops.square(derivs[0]) * ops.sum(ops.square(w1), axis=0)[None], axis=1)
    return ops.sum(ops.matmul(a, ops.matmul(ops.transpose(w1), w1)) * a, axis=(1, 2))  # ||A W1^T||^2 = sum(A G * A)


def autodiff_jacobian(model, x):
    """``d model(x) / dx`` per example by automatic differentiation (a check on :func:`jacobian_frobenius_norm`).

    Args: ``model``, any model, layer or function of a batch with one input and one output; ``x``, a batch of inputs.

    Returns: a NumPy array of shape (batch, *output shape, *input shape). Raises: ValueError on another backend.

    Example: ``(autodiff_jacobian(model.encoder, x) ** 2).reshape(len(x), -1).sum(axis=1)``.
    """
    backend, x = keras.backend.backend(), ops.convert_to_tensor(x, "float32")
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(x)
            y = model(x)
        return ops.convert_to_numpy(tape.batch_jacobian(y, x))
    if backend == "jax":
        import jax

        return ops.convert_to_numpy(jax.vmap(jax.jacrev(lambda v: model(v[None])[0]))(x))
    if backend == "torch":
        import torch

        return ops.convert_to_numpy(torch.stack([torch.autograd.functional.jacobian(lambda v: model(v[None])[0], r) for r in x]))
    raise ValueError(f"autodiff_jacobian needs the tensorflow, jax or torch backend, not {backend!r}.")


@keras.saving.register_keras_serializable(package="aelib")
class ContractiveAutoencoder(EncoderDecoderModel):
    """An encoder/decoder pair whose training loss adds ``penalty_weight * mean ||J||_F^2`` (``add_loss`` in ``call``,
    in training only), so Keras' own training step, callbacks and distribution apply on every backend.

    Args:
        encoder: a model of Dense layers (see :func:`jacobian_frobenius_norm`).
        decoder: a model from codes to reconstructions; its :class:`DenseTransposed` layers are tied to the encoder
            layers they name.
        penalty_weight: strength of the penalty (formerly ``weight``, accepted with a DeprecationWarning).

    Returns: the reconstruction ``decoder(encoder(x))`` when called.

    Raises: ValueError for an encoder with other layers, a negative weight, or a tied layer of another shape;
        at ``compile`` without a reconstruction loss (the penalty alone would train).

    Example: ``cae = contractive_autoencoder((784,), 64)`` builds one; compile it with ``loss="mse"``.
    """

    @checked_arguments(renamed={"weight": "penalty_weight"})
    def __init__(self, encoder, decoder, penalty_weight=1e-3, **kwargs):
        super().__init__(encoder, decoder, **kwargs)
        self.penalty_weight = check_number("penalty_weight", penalty_weight)
        _dense_layers(encoder)
        for layer in decoder.layers:  # by name, not class: another module's copy may be the one registered
            if type(layer).__name__ == "DenseTransposed":
                layer.tie(encoder.get_layer(layer.tied_to))

    def call(self, inputs, training=False):
        if training and self.penalty_weight:
            self.add_loss(self.penalty_weight * ops.mean(jacobian_frobenius_norm(self.encoder, inputs)))
        return self.decoder(self.encoder(inputs, training=training), training=training)

    def get_config(self):
        return {**super().get_config(), "penalty_weight": self.penalty_weight}


@checked_arguments(renamed={"weight": "penalty_weight"})
def contractive_autoencoder(
    input_shape,
    latent_dim,
    penalty_weight=1e-3,
    hidden_units=(),
    activation="sigmoid",
    code_activation="sigmoid",
    output_activation="sigmoid",
    tie_weights=False,
    name="contractive_autoencoder",
):
    """A dense autoencoder with the contractive (Jacobian) penalty, uncompiled.

    Args:
        input_shape: ``(features,)`` or an image shape ``(height, width[, channels])``.
        latent_dim: size of the code.
        penalty_weight: strength of the penalty (0: a plain autoencoder, same code path). Formerly ``weight``,
            accepted with a DeprecationWarning.
        hidden_units: hidden layers of the encoder (``()``: the classic one-layer CAE); the decoder mirrors them.
        activation, code_activation: of the hidden layers and of the code, one of ``linear, sigmoid, tanh, relu,
            softplus, elu`` (the Jacobian needs their derivatives).
        output_activation: of the reconstruction (None: linear).
        tie_weights: each decoder layer uses the transposed kernel of its mirror encoder layer
            (:class:`DenseTransposed`): half the weights.
        name: the model's name.

    Returns:
        An uncompiled :class:`ContractiveAutoencoder` with ``.encoder`` and ``.decoder``; ``fit(x)`` trains it to
        reconstruct ``x``, the penalty added to the loss.

    Raises:
        ValueError: for an invalid or unknown argument, naming it and what would work.

    Example::

        cae = contractive_autoencoder((28, 28, 1), latent_dim=64, penalty_weight=1e-3)
        cae.compile(optimizer="adam", loss="mse")
        cae.fit(x_train, epochs=10, batch_size=256)
        sensitivity = jacobian_frobenius_norm(cae.encoder, x_test) ** 0.5
    """
    input_shape = check_shape(input_shape, (1, 2, 3), "(features,) or an image (height, width[, channels])")
    check_int("latent_dim", latent_dim)
    hidden_units = check_units("hidden_units", hidden_units)
    check_choice("activation", activation, tuple(DERIVATIVES))
    check_choice("code_activation", code_activation, tuple(DERIVATIVES))
    check_activation("output_activation", output_activation)
    inputs = keras.Input(input_shape, name="encoder_input")
    x = layers.Flatten(name="flatten")(inputs) if len(input_shape) > 1 else inputs
    for i, units in enumerate(hidden_units):
        x = layers.Dense(units, activation, name=f"encoder_hidden_{i}")(x)
    encoder = keras.Model(inputs, layers.Dense(latent_dim, code_activation, name="code")(x), name="encoder")
    x = codes = keras.Input((latent_dim,), name="decoder_input")
    sources = [layer for layer in encoder.layers if isinstance(layer, layers.Dense)][::-1]
    for i, (units, source) in enumerate(zip(hidden_units[::-1] + (math.prod(input_shape),), sources)):
        act, name_i = (None, "reconstruction") if i == len(sources) - 1 else (activation, f"decoder_hidden_{i}")
        x = DenseTransposed(source.name, units, act, name=name_i)(x) if tie_weights else layers.Dense(units, act, name=name_i)(x)
    decoder = keras.Model(codes, to_output(x, input_shape, output_activation), name="decoder")
    model = ContractiveAutoencoder(encoder, decoder, penalty_weight, name=name)
    model.build((None,) + input_shape)
    return model
