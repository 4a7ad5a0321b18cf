"""Autoregressive prior (a small PixelCNN, van den Oord et al. 2016) over grids of codebook indices, e.g. a VQ-VAE's.

To use it without aelib, copy this one file into your project: it needs only keras and numpy. Its classes are
registered under the package name "aelib": keep it to load ``.keras`` files saved by aelib, or rename it (every
``package="aelib"``) for your own. The blocks marked ``# Copied from`` are repeated in other aelib files on purpose.
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


def causal_mask(kernel_size, mask_type):
    """The (rows, cols, 1, 1) mask of a causal kernel whose last row is the cell's own row: every row above is seen; on
    the cell's row, the columns left of the centre, and the centre itself for type "B" (a later layer may read what an
    earlier one computed at its own cell), not for "A" (the first layer must not read the index it predicts)."""
    rows, cols = kernel_size
    mask = np.ones((rows, cols, 1, 1), "float32")
    mask[-1, cols // 2 + (mask_type == "B") :] = 0.0
    return mask


@keras.saving.register_keras_serializable(package="aelib")
class MaskedConv2D(layers.Layer):
    """A causal 2-D convolution (stride 1, output the size of the input): the output at cell (i, j) reads the cells
    before (i, j) in reading order only: ``rows - 1`` rows above and ``cols // 2`` columns either side, and on row i the
    columns left of j (and j itself for type "B"). Padded above and at the sides, so no kernel row is wasted.

    Args: ``filters`` (output channels), ``kernel_size`` (``(rows, cols)``, cols odd, or an int k for ``(k // 2 + 1,
    k)``), ``mask_type``: "A" (the cell itself hidden: the first layer) or "B" (seen: every later layer).
    Returns: ``(n, h, w, filters)`` when called on ``(n, h, w, channels)``. Raises: ValueError for an invalid argument.
    Example: ``MaskedConv2D(64, (7, 13), mask_type="A")`` sees every earlier cell of a 7x7 grid.
    """

    def __init__(self, filters, kernel_size, mask_type="B", **kwargs):
        super().__init__(**kwargs)
        self.filters = check_int("filters", filters, example=64)
        size = (kernel_size // 2 + 1, kernel_size) if isinstance(kernel_size, (int, np.integer)) else kernel_size
        ok = isinstance(size, (tuple, list)) and len(size) == 2 and all(isinstance(k, (int, np.integer)) for k in size)
        if not ok or size[0] < 1 or size[1] < 1 or size[1] % 2 == 0:
            raise ValueError(f"kernel_size={kernel_size!r} must be (rows, cols) with cols odd (a centre column), e.g. (2, 3).")
        self.kernel_size = (int(size[0]), int(size[1]))
        self.mask_type = check_choice("mask_type", mask_type, ("A", "B"))

    def build(self, input_shape):
        shape = self.kernel_size + (input_shape[-1], self.filters)
        self.kernel = self.add_weight(shape=shape, initializer="glorot_uniform", name="kernel")
        self.bias = self.add_weight(shape=(self.filters,), initializer="zeros", name="bias")

    def call(self, inputs):
        rows, cols = self.kernel_size
        x = ops.pad(inputs, [[0, 0], [rows - 1, 0], [cols // 2, cols // 2], [0, 0]])  # the kernel's last row: the cell's
        kernel = self.kernel * ops.convert_to_tensor(causal_mask(self.kernel_size, self.mask_type), self.kernel.dtype)
        return ops.conv(x, kernel, padding="valid") + self.bias

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.filters,)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size, "mask_type": self.mask_type}


@keras.saving.register_keras_serializable(package="aelib")
class PixelCNNPrior(keras.Model):
    """A distribution over grids of integers (codebook indices) in 0..K-1, one cell at a time in reading order:
    ``p(grid) = prod_ij p(k_ij | the cells before (i, j))``. Called on an int grid ``(n, h, w)``, it returns the logits
    ``(n, h, w, K)`` of each cell given the cells before it (masked convolutions: never the cell itself or later ones).

    Its loss is built in: the cross-entropy of each cell (nats per cell), Keras' ``SparseCategoricalCrossentropy``
    from logits, minimised by Keras' own training step. ``compile(optimizer=...)`` (``metrics=["accuracy"]`` allowed,
    no ``loss=``); ``fit(indices)``: the target is the input grid; :meth:`sample` draws new grids.
    Args: ``inputs``, ``outputs`` and ``name``, as for a functional ``keras.Model`` (:func:`pixelcnn_prior` builds it).
    Returns: the logits when called. Raises: ValueError for ``compile(loss=...)``, a target ``y``, or grids of another
    shape, non-integers or indices outside 0..K-1. Example: ``pixelcnn_prior((7, 7), 128).sample(16, seed=0)``.
    """

    grid_shape = property(lambda self: tuple(self.inputs[0].shape[1:]), doc="(h, w) of the grids.")
    num_embeddings = property(lambda self: int(self.outputs[0].shape[-1]), doc="K: the indices are 0..K-1.")

    def compile(self, optimizer="rmsprop", loss=None, **kwargs):
        if loss is not None:
            raise ValueError(
                f"{type(self).__name__} computes its loss (the cross-entropy of each index given the ones before it): "
                "compile(optimizer=...) takes no loss."
            )
        super().compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), **kwargs)

    def compile_from_config(self, config):  # Keras skips it for a model with its own compile: do what it does
        config = keras.saving.deserialize_keras_object(config)
        config.pop("loss", None)  # built in
        self.compile(**config)
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def check_indices(self, x, name="x"):
        """``x`` as an int32 array of grids (n, h, w) with values in 0..K-1; ValueError naming what is wrong."""
        check_finite(x, name)
        array = np.asarray(x)
        if array.ndim != 3 or array.shape[1:] != self.grid_shape:
            raise ValueError(
                f"{name} must be grids of indices of shape (n, {', '.join(map(str, self.grid_shape))}); got {array.shape}."
            )
        if array.dtype.kind not in "iu" and not (array.dtype.kind == "f" and np.array_equal(array, np.round(array))):
            raise ValueError(f"{name} must hold integers (codebook indices), e.g. vq.encode_indices(x); got {array.dtype}.")
        if array.size and (array.min() < 0 or array.max() >= self.num_embeddings):
            raise ValueError(f"{name} must hold indices in 0..{self.num_embeddings - 1}; got {array.min()}..{array.max()}.")
        return array.astype("int32")

    def _target(self, x, y, name="x"):
        if y is not None:
            raise ValueError(f"{type(self).__name__} learns to predict its input grid: fit({name}) takes no target y.")
        x = self.check_indices(x, name)
        return x, x

    def fit(self, *args, **kwargs):
        a = inspect.signature(keras.Model.fit).bind(self, *args, **kwargs).arguments  # x, y, epochs, ... as given
        a.pop("self")
        a["x"], a["y"] = self._target(a.get("x"), a.get("y"))
        val = a.get("validation_data")
        if val is not None:
            a["validation_data"] = self._target(val, None, "validation_data")
        callbacks = list(a.get("callbacks") or [])
        a["callbacks"] = callbacks + [StopOnNaN()] * (not any(type(c).__name__ == "StopOnNaN" for c in callbacks))
        return super().fit(**a)

    def evaluate(self, x=None, y=None, **kwargs):
        if kwargs.get("_use_cached_eval_dataset"):  # fit's validation: the data were checked by fit
            return super().evaluate(x, y, **kwargs)
        return super().evaluate(*self._target(x, y), **kwargs)

    def _logits(self, x, batch_size):
        """The logits of checked grids ``x`` as float64 NumPy, in chunks of ``batch_size`` (direct calls: fast in loops)."""
        parts = [self(x[s : s + batch_size], training=False) for s in range(0, len(x), batch_size)]
        return np.concatenate([ops.convert_to_numpy(p) for p in parts]).astype("float64")

    def predict(self, x, *args, **kwargs):
        return super().predict(self.check_indices(x), *args, **kwargs)

    def log_likelihood(self, x, batch_size=256):
        """``log p(grid)`` of each grid of ``x`` in nats (the sum over its cells): NumPy, shape (n,)."""
        x = self.check_indices(x)
        logits = self._logits(x, batch_size)
        logits -= logits.max(axis=-1, keepdims=True)
        log_p = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
        return np.take_along_axis(log_p, x[..., None], axis=-1)[..., 0].sum(axis=(1, 2))

    def sample(self, n, temperature=1.0, seed=None, batch_size=256):
        """Draw ``n`` grids cell by cell in reading order, each cell from ``softmax(logits / temperature)`` given the
        cells drawn before it (h * w passes of the network).

        Args:
            n: how many grids; temperature: > 0, 1 samples the model, lower is more conservative; seed: an int for
                the same grids on every call (NumPy's generator), None for fresh ones; batch_size: of each pass.

        Returns:
            NumPy int32 grids of shape ``(n, h, w)``, values in 0..K-1 (decode them, e.g. ``vq.decode_indices``).

        Raises:
            ValueError: for a non-positive ``n`` or ``temperature``.
        """
        n = check_int("n", n, example=16)
        temperature = check_number("temperature", temperature, open_low=True)
        rng, (h, w) = np.random.default_rng(seed), self.grid_shape
        grids = np.zeros((n, h, w), "int32")
        for i, j in np.ndindex(h, w):
            logits = self._logits(grids, batch_size)[:, i, j] / temperature
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            cdf = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
            grids[:, i, j] = np.minimum((cdf < rng.random((n, 1))).sum(axis=1), self.num_embeddings - 1)
        return grids


@checked_arguments
def pixelcnn_prior(
    grid_shape, num_embeddings, filters=64, num_blocks=2, embedding_dim=16, first_kernel_size=None, name="pixelcnn_prior"
):
    """A small PixelCNN over grids of indices, uncompiled: an embedding of each index, a type-"A" masked convolution
    that sees every earlier cell of the grid at once, ``num_blocks`` residual blocks (1x1 conv, type-"B" (2, 3) masked
    convolution, 1x1 conv) and 1x1 convolutions to K logits per cell.

    Args:
        grid_shape: ``(h, w)`` of the grids, e.g. (7, 7) for a 28x28 image through ``vq_autoencoder``.
        num_embeddings: K, the number of different indices (the VQ-VAE's codebook size).
        filters: channels of the network (64); num_blocks: residual blocks (2); embedding_dim: size of each index's
            embedding (16).
        first_kernel_size: ``(rows, cols)`` of the first, type-"A" convolution; None: ``(h, 2 w - 1)``, every earlier
            cell (no blind spot; a smaller kernel is cheaper on large grids, its reach grows with ``num_blocks``).
        name: the model's name.

    Returns:
        An uncompiled :class:`PixelCNNPrior`: compile it with an optimizer alone; ``fit(indices)`` trains it to
        predict each index of ``indices`` from those before it; ``sample(n)`` draws grids.

    Raises:
        ValueError: for an invalid or unknown argument, naming it and what would work.

    Example::

        grids = vq.encode_indices(x_train)  # (n, 7, 7) ints in 0..127
        prior = pixelcnn_prior((7, 7), num_embeddings=128)
        prior.compile(optimizer="adam")
        prior.fit(grids, epochs=10, batch_size=128)  # loss: nats per cell
        images = vq.decode_indices(prior.sample(16, seed=0))
    """
    grid_shape = check_shape(grid_shape, (2,), "a grid (height, width)")
    num_embeddings = check_int("num_embeddings", num_embeddings, example=128, low=2)
    filters = check_int("filters", filters, example=64)
    num_blocks = check_int("num_blocks", num_blocks, example=2, low=0)
    embedding_dim = check_int("embedding_dim", embedding_dim, example=32)
    first = (grid_shape[0], 2 * grid_shape[1] - 1) if first_kernel_size is None else first_kernel_size
    inputs = keras.Input(grid_shape, dtype="int32", name="indices")
    x = layers.Embedding(num_embeddings, embedding_dim, name="embedding")(inputs)
    x = MaskedConv2D(filters, first, mask_type="A", name="masked_conv_a")(x)
    for i in range(num_blocks):  # a residual block of the PixelCNN paper, on half the channels inside
        y = layers.Conv2D(max(filters // 2, 1), 1, activation="relu", name=f"block_{i}_in")(layers.ReLU()(x))
        y = layers.ReLU()(MaskedConv2D(max(filters // 2, 1), (2, 3), mask_type="B", name=f"block_{i}_masked_conv")(y))
        x = layers.Add(name=f"block_{i}_add")([x, layers.Conv2D(filters, 1, name=f"block_{i}_out")(y)])
    x = layers.Conv2D(filters, 1, activation="relu", name="head")(layers.ReLU()(x))
    return PixelCNNPrior(inputs, layers.Conv2D(num_embeddings, 1, name="logits")(x), name=name)
