"""The blocks that several autoencoder families need: the source of every ``# Copied from aelib.builders.base``.

Each family file (``dense.py``, ``variational.py``, ...) stands alone when copied into a project, so it carries
its own copy of the blocks below that it uses, each marked ``# Copied from aelib.builders.base.NAME``.
``python -m aelib.copies --check`` (run by CI) says where a copy differs from its source; edit the source
here, then ``python -m aelib.copies --fix`` rewrites every copy.

- argument checks: ``ValueError`` naming the argument, the value and what would work;
- :class:`StopOnNaN`: the NaN guard every ``fit`` adds;
- :class:`CheckedFit`: Keras' ``compile``/``fit``/``evaluate`` with an autoencoder's conventions;
- :class:`Autoencoder` (functional) and :class:`EncoderDecoderModel` (subclassed) models;
- :class:`LossTermsModel`: a model whose loss is built in, with one training step per Keras backend.
"""

import difflib
import functools
import inspect
import math
import warnings

import keras
import numpy as np
from keras import ops


def check_shape(input_shape, ranks, what):
    """``input_shape`` as a tuple of positive ints whose length is in ``ranks``; ValueError otherwise."""
    ok = isinstance(input_shape, (tuple, list)) and len(input_shape) in ranks
    if not ok or any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d <= 0 for d in input_shape):
        raise ValueError(f"input_shape={input_shape!r} is not valid: expected {what}, positive integers, no batch axis.")
    return tuple(int(d) for d in input_shape)


def check_int(name, value, example=32, low=1):
    """An integer >= ``low`` (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name}={value!r} must be an integer >= {low}, e.g. {example}.")
    return int(value)


def check_units(name, units, allow_empty=True):
    """Layer sizes: a tuple of positive ints (an int is one layer; ``()`` only if ``allow_empty``)."""
    units = (units,) if isinstance(units, (int, np.integer)) else units
    ok = isinstance(units, (list, tuple)) and (allow_empty or len(units) > 0)
    if not ok or any(isinstance(u, bool) or not isinstance(u, (int, np.integer)) or u <= 0 for u in units):
        raise ValueError(f"{name}={units!r} must be a sequence of positive integers, e.g. (256, 128).")
    return tuple(int(u) for u in units)


def check_choice(name, value, choices):
    """One of ``choices``; the error suggests the closest."""
    if value not in choices:
        close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1)
        raise ValueError(f"{name}={value!r} is not one of {tuple(choices)}." + (f" Did you mean {close[0]!r}?" if close else ""))
    return value


def check_number(name, value, low=0.0, high=math.inf, open_low=False, open_high=True):
    """A real number between ``low`` and ``high`` (each end open or closed), as a float."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) and not math.isnan(value)
    if not (ok and (value > low if open_low else value >= low) and (value < high if open_high else value <= high)):
        interval = f"{'(' if open_low else '['}{low}, {high}{')' if open_high else ']'}"
        raise ValueError(f"{name}={value!r} must be a number in {interval}.")
    return float(value)


def check_activation(name, value):
    """A Keras activation name or callable, or None (linear)."""
    try:
        keras.activations.get(value)
    except (ValueError, TypeError):
        raise ValueError(f"{name}={value!r} is not a Keras activation: use e.g. 'relu', 'sigmoid' or None.") from None
    return value


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


class TrainingDivergedError(FloatingPointError):
    """A loss term became NaN or inf during ``fit`` (a ``FloatingPointError``)."""


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


def join(encoder, decoder, input_shape, name, corruption=None):
    """The :class:`Autoencoder` ``decoder(encoder(inputs))``, behind an optional training-only ``corruption`` layer."""
    inputs = keras.Input(input_shape, name="input")
    return Autoencoder(inputs, decoder(encoder(inputs if corruption is None else corruption(inputs))), name=name)


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


def batch_mean(values, sample_weight=None):
    """Mean of per-example ``values`` over the batch; with ``sample_weight``, Keras' ``sum(values * weight) / batch size``."""
    values = ops.cast(values, "float32")
    if sample_weight is None:
        return ops.mean(values)
    return ops.sum(values * ops.reshape(ops.cast(sample_weight, "float32"), (-1,))) / ops.cast(ops.shape(values)[0], "float32")


@keras.saving.register_keras_serializable(package="aelib")
class LossTermsModel(keras.Model):
    """A model of sub-models ``encoder``, ``decoder`` (and any others in ``submodels``) whose loss is built in: a subclass
    names its metrics in ``term_names`` ("loss" first) and returns them, as batch means, from ``loss_terms(x, y_pred,
    sample_weight, training)``, which Keras' own step minimises through ``compute_loss`` on every backend (``y_pred``:
    what ``call(x, training=True)`` returned in ``fit``, ``call(x)`` in ``evaluate``). A loss, metrics or a target y
    would be ignored, so ``compile`` and ``fit`` refuse them."""

    submodels, term_names = ("encoder", "decoder"), ("loss",)

    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder = encoder, decoder
        self.trackers = [keras.metrics.Mean(name=name) for name in self.term_names[1:]]  # "loss" is Keras' own

    def compile(self, optimizer="rmsprop", loss=None, metrics=None, **kwargs):
        if loss is not None or metrics or kwargs.get("weighted_metrics"):
            raise ValueError(f"{type(self).__name__} computes its loss and metrics: compile(optimizer=...) takes no other.")
        super().compile(optimizer=optimizer, **kwargs)

    def compile_from_config(self, config):  # Keras skips it for a model with its own compile: do what it does
        self.compile(**keras.saving.deserialize_keras_object(config))
        self.optimizer.build(self.trainable_variables) if self.built else None

    def check_data(self, x, name):  # subclasses add their checks
        check_finite(x, name)

    def _no_target(self, x, y=None, sample_weight=None, name="x"):
        self.check_data(x, name)
        check_finite(sample_weight, "sample_weight")
        if y is not None and tuple(getattr(y, "shape", (1,)))[-1:] != (0,):  # (n, 0): the weights' carrier, below
            raise ValueError(f"{type(self).__name__} computes its loss from {name} alone: give no target y.")
        return None if sample_weight is None else np.zeros((len(keras.tree.flatten(x)[0]), 0), "float32")  # carries the weights

    def fit(self, *args, **kwargs):
        a = inspect.signature(keras.Model.fit).bind(self, *args, **kwargs).arguments  # x, epochs, ... as given
        del a["self"]
        a["y"] = self._no_target(a.get("x"), a.get("y"), a.get("sample_weight"))
        val = (a["validation_data"],) if hasattr(a.get("validation_data"), "__array__") else a.get("validation_data")
        if isinstance(val, tuple):
            a["validation_data"] = (val[0], self._no_target(*val[:3], name="validation_data[0]"), *val[2:3])
        callbacks = list(a.get("callbacks") or [])
        a["callbacks"] = callbacks + [StopOnNaN()] * (not any(type(c).__name__ == "StopOnNaN" for c in callbacks))
        return super().fit(**a)

    def evaluate(self, x=None, y=None, sample_weight=None, **kwargs):
        return super().evaluate(x, self._no_target(x, y, sample_weight), sample_weight=sample_weight, **kwargs)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        terms = self.loss_terms(x, y_pred, sample_weight=sample_weight, training=training)
        size = ops.cast(ops.shape(keras.tree.flatten(x)[0])[0], "float32")  # epoch means weigh every example once
        for tracker in self.trackers:
            tracker.update_state(terms[tracker.name], sample_weight=size)
        loss = terms["loss"] + sum(ops.cast(v, "float32") for v in self.losses) if training else terms["loss"]
        if keras.backend.backend() == "tensorflow":  # tf.distribute sums the replicas' gradients: each takes its share
            import tensorflow as tf

            loss = loss / tf.distribute.get_strategy().num_replicas_in_sync
        return loss

    def get_metrics_result(self):
        logs = super().get_metrics_result()
        if keras.backend.backend() == "tensorflow":  # tensorflow/tensorflow#72388: multi-worker logs need shape (1,)
            import tensorflow as tf

            if isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
                return {name: ops.reshape(value, (1,)) for name, value in logs.items()}
        return logs

    def get_config(self):
        return {**super().get_config(), **{k: keras.saving.serialize_keras_object(getattr(self, k)) for k in self.submodels}}

    @classmethod
    def from_config(cls, config):
        return cls(**{**config, **{k: keras.saving.deserialize_keras_object(config[k]) for k in cls.submodels}})
