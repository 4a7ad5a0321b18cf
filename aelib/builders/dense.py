"""Dense (fully connected) autoencoder: the vanilla and deep "hourglass", with optional tied weights.

To use it without aelib, copy this one file into your project: it needs only keras and numpy. Its classes are
registered under the package name "aelib": keep it to load ``.keras`` files saved by aelib, or rename it (every
``package="aelib"``) for your own. The blocks marked ``# Copied from`` are repeated in other aelib files on purpose.

For flat vectors (tables, ratings, codes) and small images (flattened on the way in, reshaped on the way out).
With ``tie_weights=True`` each decoder layer uses the transpose of its mirror encoder layer's kernel
(:class:`DenseTransposed`): half the weights, the constraint under which a linear autoencoder learns PCA.
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


def _weight_penalty(l1, l2):
    check_number("l1", l1)
    check_number("l2", l2)
    return keras.regularizers.L1L2(l1=l1, l2=l2) if (l1 or l2) else None


def _check_dropout(dropout, hidden_units):
    if check_number("dropout", dropout, 0.0, 1.0) and not hidden_units:
        raise ValueError(
            f"dropout={dropout} needs a hidden layer (it follows hidden layers only): add hidden_units=(256,), or use l1/l2."
        )


def dense_stack(x, units, activation="relu", dropout=0.0, kernel_regularizer=None, name="dense"):
    """Dense layers of the given sizes, each followed by dropout when ``dropout > 0``."""
    for i, u in enumerate(units):
        x = layers.Dense(u, activation=activation, kernel_regularizer=kernel_regularizer, name=f"{name}_{i}")(x)
        x = layers.Dropout(dropout, name=f"{name}_dropout_{i}")(x) if dropout else x
    return x


def to_output(x, output_shape, output_activation):
    """Reshape flat outputs to ``output_shape``, then the output activation, last, as a layer of its own (so that a
    VAE can read the logits just before it)."""
    x = layers.Reshape(output_shape, name="reshape")(x) if len(output_shape) > 1 else x
    return x if output_activation is None else layers.Activation(output_activation, name="output_activation")(x)


@checked_arguments
def dense_encoder(
    input_shape,
    latent_dim,
    hidden_units=(256,),
    activation="relu",
    code_activation=None,
    dropout=0.0,
    l1=0.0,
    l2=0.0,
    name="encoder",
):
    """Input -> Flatten -> Dense(hidden_units...) -> Dense(latent_dim): the encoder of :func:`dense_autoencoder`.

    Args: as :func:`dense_autoencoder`'s. Returns: a ``keras.Model`` from inputs to codes (n, latent_dim).
    Raises: ValueError for an invalid argument. Example: ``dense_encoder((784,), 32).predict(x)``.
    """
    input_shape = check_shape(input_shape, (1, 2, 3), "(features,) or an image (height, width[, channels])")
    check_int("latent_dim", latent_dim)
    hidden_units = check_units("hidden_units", hidden_units)
    check_activation("activation", activation)
    check_activation("code_activation", code_activation)
    _check_dropout(dropout, hidden_units)
    penalty = _weight_penalty(l1, l2)
    inputs = keras.Input(input_shape, name=f"{name}_input")
    x = layers.Flatten(name="flatten")(inputs) if len(input_shape) > 1 else inputs
    x = dense_stack(x, hidden_units, activation, dropout, penalty, name=f"{name}_hidden")
    return keras.Model(inputs, layers.Dense(latent_dim, code_activation, kernel_regularizer=penalty, name="code")(x), name=name)


@checked_arguments
def dense_decoder(
    latent_dim,
    output_shape,
    hidden_units=(256,),
    activation="relu",
    output_activation="sigmoid",
    dropout=0.0,
    l1=0.0,
    l2=0.0,
    name="decoder",
):
    """Code -> Dense(hidden_units...) -> Dense(prod(output_shape)) -> Reshape(output_shape) -> output activation.

    Args: as :func:`dense_autoencoder`'s; ``hidden_units`` in decoder order. Returns: a ``keras.Model`` from codes
    to outputs. Raises: ValueError for an invalid argument. Example: ``dense_decoder(32, (28, 28, 1)).predict(z)``.
    """
    output_shape = check_shape(output_shape, (1, 2, 3), "(features,) or an image (height, width[, channels])")
    check_int("latent_dim", latent_dim)
    hidden_units = check_units("hidden_units", hidden_units)
    check_activation("output_activation", output_activation)
    _check_dropout(dropout, hidden_units)
    penalty = _weight_penalty(l1, l2)
    codes = keras.Input((latent_dim,), name=f"{name}_input")
    x = dense_stack(codes, hidden_units, activation, dropout, penalty, name=f"{name}_hidden")
    x = layers.Dense(math.prod(output_shape), kernel_regularizer=penalty, name="reconstruction")(x)
    return keras.Model(codes, to_output(x, output_shape, output_activation), name=name)


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


@keras.saving.register_keras_serializable(package="aelib")
class TiedAutoencoder(EncoderDecoderModel):
    """A dense autoencoder whose decoder's :class:`DenseTransposed` layers reuse the encoder's kernels, transposed.

    Args: ``encoder`` (Dense layers) and ``decoder`` (whose ``DenseTransposed`` layers name encoder layers).
    Returns: the reconstruction ``decoder(encoder(x))`` when called.
    Raises: ValueError when a ``tied_to`` layer is missing from the encoder or has another shape.
    Example: ``tied = dense_autoencoder((784,), 32, tie_weights=True)``, then compile and fit as any autoencoder.
    """

    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(encoder, decoder, **kwargs)
        for layer in decoder.layers:
            if type(layer).__name__ == "DenseTransposed":  # by name: another family file may have registered its copy
                layer.tie(encoder.get_layer(layer.tied_to))


def _tied_decoder(encoder, output_shape, activation, output_activation, dropout, name="decoder"):
    """Code -> DenseTransposed of every encoder Dense layer, last first -> Reshape(output_shape)."""
    dense = [layer for layer in encoder.layers if isinstance(layer, layers.Dense)]
    x = codes = keras.Input((dense[-1].units,), name=f"{name}_input")
    for i, source in enumerate(reversed(dense)):
        last = i == len(dense) - 1
        name_i = "reconstruction" if last else f"{name}_hidden_{i}"
        x = DenseTransposed(source.name, tuple(source.kernel.shape)[0], None if last else activation, name=name_i)(x)
        x = layers.Dropout(dropout, name=f"{name}_hidden_dropout_{i}")(x) if dropout and not last else x
    return keras.Model(codes, to_output(x, output_shape, output_activation), name=name)


@checked_arguments
def dense_autoencoder(
    input_shape,
    latent_dim,
    hidden_units=(256,),
    activation="relu",
    code_activation=None,
    output_activation="sigmoid",
    dropout=0.0,
    l1=0.0,
    l2=0.0,
    tie_weights=False,
    name="dense_autoencoder",
):
    """A fully connected autoencoder, uncompiled.

    Args:
        input_shape: ``(features,)`` or an image shape ``(height, width[, channels])``.
        latent_dim: size of the code: smaller than the input (under-complete, compression) or larger (over-complete:
            it then needs regularisation to learn more than the identity).
        hidden_units: the encoder's hidden layer sizes; the decoder mirrors them. ``()``: one layer each way (linear
            with ``code_activation=None, output_activation=None``: the autoencoder PCA explains).
        activation, code_activation: of the hidden layers and of the code (None: linear).
        output_activation: ``"sigmoid"`` for data in [0, 1], None for unbounded data, ``"tanh"`` for [-1, 1].
        dropout: dropout rate after each hidden layer; l1, l2: penalties on every weight matrix (0: off).
        tie_weights: the decoder reuses the encoder's kernels, transposed (a :class:`TiedAutoencoder`).
        name: the model's name.

    Returns:
        An uncompiled ``keras.Model`` with ``.encoder`` and ``.decoder``; ``fit(x)`` trains it to reconstruct ``x``.

    Raises:
        ValueError: for an invalid or unknown argument, naming it and what would work.

    Example::

        ae = dense_autoencoder((28, 28, 1), latent_dim=32, hidden_units=(256,))
        ae.compile(optimizer="adam", loss="mse")
        ae.fit(x_train, epochs=10, batch_size=256, validation_data=x_test)
        codes = ae.encoder.predict(x_test)
    """
    input_shape = check_shape(input_shape, (1, 2, 3), "(features,) or an image (height, width[, channels])")
    hidden_units = check_units("hidden_units", hidden_units)
    shared = dict(activation=activation, dropout=dropout, l1=l1, l2=l2)
    encoder = dense_encoder(input_shape, latent_dim, hidden_units=hidden_units, code_activation=code_activation, **shared)
    if not tie_weights:
        decoder = dense_decoder(
            latent_dim, input_shape, hidden_units=hidden_units[::-1], output_activation=output_activation, **shared
        )
        return join(encoder, decoder, input_shape, name)
    model = TiedAutoencoder(encoder, _tied_decoder(encoder, input_shape, activation, output_activation, dropout), name=name)
    model.build((None,) + input_shape)
    return model
