"""VQ-VAE (vector-quantised autoencoder, van den Oord et al. 2017): a code made of symbols.

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


# Copied from aelib.builders.base.batch_mean
def batch_mean(values, sample_weight=None):
    """Mean of per-example ``values`` over the batch; with ``sample_weight``, Keras' ``sum(values * weight) / batch size``."""
    values = ops.cast(values, "float32")
    if sample_weight is None:
        return ops.mean(values)
    return ops.sum(values * ops.reshape(ops.cast(sample_weight, "float32"), (-1,))) / ops.cast(ops.shape(values)[0], "float32")


# Copied from aelib.builders.base.LossTermsModel
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


@keras.saving.register_keras_serializable(package="aelib")
class VectorQuantizer(layers.Layer):
    """Replaces each vector (last axis) by its nearest codebook entry e, as ``z + stop_gradient(e - z)`` (straight through).

    With ``ema=True``, ``call(z, training=True)`` and :meth:`update_ema` move each used entry to the moving average of
    its vectors; else the codebook is a weight trained by the codebook term of :meth:`losses_for`.
    Args: ``num_embeddings`` (K), ``embedding_dim`` (D), ``commitment_cost`` (beta >= 0), ``ema``, ``decay`` (in (0, 1)).
    Returns: the nearest entries (..., D) when called. Raises: ValueError for an invalid argument or vectors of another
    size. Example: ``VectorQuantizer(128, 16).nearest(z)``: (n, 7, 7) int32 for z (n, 7, 7, 16).
    """

    def __init__(self, num_embeddings, embedding_dim, commitment_cost=0.25, ema=True, decay=0.99, **kwargs):
        super().__init__(**kwargs)
        self.num_embeddings = check_int("num_embeddings", num_embeddings, example=128)
        self.embedding_dim = check_int("embedding_dim (latent_dim)", embedding_dim, example=16)
        self.commitment_cost = check_number("commitment_cost", commitment_cost)
        if not isinstance(ema, (bool, np.bool_)):
            raise ValueError(f"ema={ema!r} must be True (codebook by moving averages) or False (by the codebook loss).")
        self.ema, self.decay = bool(ema), check_number("decay", decay, 0.0, 1.0, open_low=True)

    def build(self, input_shape):
        if input_shape[-1] != self.embedding_dim:
            raise ValueError(f"VectorQuantizer(embedding_dim={self.embedding_dim}) got vectors of size {input_shape[-1]}.")
        k, d = self.num_embeddings, self.embedding_dim
        avg = dict(trainable=False, aggregation="mean")  # tf.distribute: the replicas' averages are averaged
        init = keras.initializers.RandomUniform(-1.0 / k, 1.0 / k)  # as in the paper's code
        self.codebook = self.add_weight(shape=(k, d), initializer=init, name="codebook", **(avg if self.ema else {}))
        if self.ema:  # moving averages of the counts N_k (1 to start) and sums S_k (= the codebook)
            self.ema_count = self.add_weight(shape=(k,), initializer="ones", name="ema_count", **avg)
            self.ema_sum = self.add_weight(shape=(k, d), initializer="zeros", name="ema_sum", **avg)
            self.ema_sum.assign(ops.copy(self.codebook))  # a copy: JAX must not see one buffer twice

    def nearest(self, z):
        """Index of the nearest codebook entry of every vector: int32, shape ``z.shape[:-1]``."""
        flat = ops.stop_gradient(ops.reshape(ops.cast(z, "float32"), (-1, self.embedding_dim)))
        codebook = ops.cast(ops.convert_to_tensor(self.codebook), "float32")
        distances = ops.sum(ops.square(codebook), axis=1)[None, :] - 2.0 * ops.matmul(flat, ops.transpose(codebook))
        return ops.reshape(ops.cast(ops.argmin(distances, axis=1), "int32"), ops.shape(z)[:-1])  # ||z - e||^2 - ||z||^2

    def lookup(self, indices):
        """The codebook vectors of integer ``indices`` (any shape): shape ``indices.shape + (D,)``."""
        return ops.take(ops.convert_to_tensor(self.codebook), ops.cast(indices, "int32"), axis=0)

    def call(self, inputs, training=False):
        indices = self.nearest(inputs)
        if training and self.ema:
            self.update_ema(inputs, indices)
        return straight_through(inputs, self.lookup(indices))

    def losses_for(self, z, e):
        """Per example: (codebook loss ||sg[z] - e||^2, 0 with EMA; commitment loss ||z - sg[e]||^2), means over cells."""
        z, e = ops.cast(z, "float32"), ops.cast(e, "float32")
        axes = tuple(range(1, len(z.shape)))
        commitment = ops.mean(ops.square(z - ops.stop_gradient(e)), axis=axes)
        codebook = ops.zeros_like(commitment) if self.ema else ops.mean(ops.square(ops.stop_gradient(z) - e), axis=axes)
        return codebook, commitment

    def update_ema(self, z, indices, weights=None):
        """One EMA step (``weights``: one per vector, or None): N_k <- decay N_k + (1 - decay) n_k, S_k alike, e_k = S_k / N_k."""
        flat = ops.stop_gradient(ops.reshape(ops.cast(z, "float32"), (-1, self.embedding_dim)))
        one_hot = ops.one_hot(ops.reshape(indices, (-1,)), self.num_embeddings, dtype="float32")  # (M, K)
        if weights is not None:
            one_hot = one_hot * ops.reshape(ops.cast(weights, "float32"), (-1, 1))
        old_count, old_sum, old_codebook = (ops.convert_to_tensor(v) for v in (self.ema_count, self.ema_sum, self.codebook))
        count = self.decay * old_count + (1.0 - self.decay) * ops.sum(one_hot, axis=0)
        total = self.decay * old_sum + (1.0 - self.decay) * ops.matmul(ops.transpose(one_hot), flat)
        # an entry never picked decays in N_k and S_k alike and keeps its vector (once N_k underflows, it is left alone)
        self.codebook.assign(ops.where(count[:, None] > 1e-20, total / ops.maximum(count, 1e-20)[:, None], old_codebook))
        self.ema_count.assign(count)
        self.ema_sum.assign(total)

    def set_entries(self, indices, vectors):
        """Overwrite codebook entries ``indices`` with ``vectors`` (NumPy), and their moving averages."""
        codebook = ops.convert_to_numpy(self.codebook).copy()
        codebook[np.asarray(indices, "int64")] = vectors
        self.codebook.assign(codebook)
        if self.ema:  # each moved entry's averages restart from its new vector, counted once
            count = np.where(np.isin(np.arange(self.num_embeddings), indices), 1.0, ops.convert_to_numpy(self.ema_count))
            self.ema_count.assign(count)
            self.ema_sum.assign(codebook * count[:, None])

    def get_config(self):
        names = ("num_embeddings", "embedding_dim", "commitment_cost", "ema", "decay")
        return {**super().get_config(), **{name: getattr(self, name) for name in names}}


def straight_through(z, e):
    """``e`` in the forward pass, the identity ``dz`` in the backward pass: ``z + sg[e - z]``."""
    return z + ops.stop_gradient(ops.cast(e, z.dtype) - z)


def code_statistics(indices, num_embeddings, weights=None):
    """(perplexity: exp(entropy) of the entries' use, K at most; usage: fraction of entries used) of ``indices``."""
    counts = ops.one_hot(ops.reshape(indices, (-1,)), num_embeddings, dtype="float32")
    weights = 1.0 if weights is None else ops.reshape(ops.cast(weights, "float32"), (-1, 1))
    counts = ops.sum(counts * weights, axis=0)
    p = counts / ops.maximum(ops.sum(counts), 1e-12)
    return ops.exp(-ops.sum(p * ops.log(ops.maximum(p, 1e-12)))), ops.mean(ops.cast(counts > 0, "float32"))


@keras.saving.register_keras_serializable(package="aelib")
class VQVAE(LossTermsModel):
    """Encoder -> :class:`VectorQuantizer` -> decoder, with the VQ-VAE loss built in: compile with an optimizer alone.

    Per image (means over pixels and grid, sg = stop gradient; the decoder's gradient goes straight to the encoder):
    ``loss = ||x - decoder(e)||^2 + ||sg[z_e] - e||^2 + commitment_cost ||z_e - sg[e]||^2``, logged as ``loss``,
    ``reconstruction_loss`` (first term), ``vq_loss`` (the others; the second is 0 with EMA), with ``perplexity`` and
    ``usage`` of a batch's codes (:func:`code_statistics`). ``predict``: the nearest entries decoded, no update.
    Args: ``encoder`` (images -> (n, h, w, D)), ``quantizer`` (a built :class:`VectorQuantizer`), ``decoder``.
    Returns: the reconstruction when called (in training ``(reconstruction, z, indices, e)``, for the loss). Raises:
    ValueError for ``compile(loss=...)``, ``metrics=`` or a target ``y``. Example: ``vq_autoencoder((28, 28, 1), 16)``.
    """

    submodels = ("encoder", "quantizer", "decoder")
    term_names = ("loss", "reconstruction_loss", "vq_loss", "perplexity", "usage")

    def __init__(self, encoder, quantizer, decoder, **kwargs):
        super().__init__(encoder, decoder, **kwargs)
        self.quantizer = quantizer

    def _encode(self, x, training=False):
        """``(z, indices, e)``: the encoder's grid of vectors, the indices of their nearest entries, those entries."""
        z = self.encoder(x, training=training)
        indices = self.quantizer.nearest(z)
        return z, indices, self.quantizer.lookup(indices)

    def call(self, inputs, training=False):
        z, indices, e = self._encode(inputs, training=training)
        output = self.decoder(straight_through(z, e), training=training)
        return (output, z, indices, e) if training else output

    def loss_terms(self, x, y_pred, sample_weight=None, training=False):
        output, z, indices, e = y_pred if training else (y_pred, *self._encode(x))
        weights = None if sample_weight is None else ops.reshape(ops.cast(sample_weight, "float32"), (-1, 1, 1))
        weights = None if weights is None else weights * ops.ones(ops.shape(indices))  # one per grid cell: statistics, EMA
        if training and self.quantizer.ema:  # e (and so this step's loss) is the codebook before the update
            self.quantizer.update_ema(z, indices, weights)
        codebook_loss, commitment = self.quantizer.losses_for(z, e)
        squared = ops.square(ops.cast(x, "float32") - ops.cast(output, "float32"))
        rec = batch_mean(ops.mean(squared, axis=(1, 2, 3)), sample_weight)
        vq = batch_mean(codebook_loss + self.quantizer.commitment_cost * commitment, sample_weight)
        perplexity, usage = code_statistics(indices, self.quantizer.num_embeddings, weights)
        return {"loss": rec + vq, "reconstruction_loss": rec, "vq_loss": vq, "perplexity": perplexity, "usage": usage}

    def _nearest(self, z, chunk=4096):
        """Nearest entries of encoder outputs ``z`` (NumPy), in padded chunks (JAX compiles one shape)."""
        flat = z.reshape(-1, self.quantizer.embedding_dim)
        flat = np.concatenate([flat, np.zeros((-len(flat) % chunk, flat.shape[1]), flat.dtype)])
        parts = [ops.convert_to_numpy(self.quantizer.nearest(flat[s : s + chunk])) for s in range(0, len(flat), chunk)]
        return np.concatenate(parts)[: np.prod(z.shape[:-1], dtype=int)].reshape(z.shape[:-1]).astype("int32")

    def encode_indices(self, x, batch_size=256):
        """The grid of codebook indices of each image: NumPy int32, shape (n, h, w)."""
        return self._nearest(self.encoder.predict(x, batch_size=batch_size, verbose=0))

    def decode_indices(self, indices, batch_size=256):
        """Images from grids of codebook indices (n, h, w), e.g. from :meth:`encode_indices`."""
        indices, k = np.asarray(indices), self.quantizer.num_embeddings
        if indices.size and (indices.min() < 0 or indices.max() >= k):
            raise ValueError(f"indices must be in 0..{k - 1}; got {indices.min()}..{indices.max()}.")
        return self.decoder.predict(ops.convert_to_numpy(self.quantizer.lookup(indices)), batch_size=batch_size, verbose=0)

    def code_usage(self, x, batch_size=256):
        """How many times each codebook entry is picked over the images ``x``: shape (K,)."""
        return np.bincount(self.encode_indices(x, batch_size).ravel(), minlength=self.quantizer.num_embeddings)

    def reset_dead_codes(self, x, min_count=1, batch_size=256, seed=0):
        """Move the entries picked < ``min_count`` times over ``x`` onto random encoder outputs of ``x``; returns them."""
        check_int("min_count", min_count, example=1)
        z = self.encoder.predict(x, batch_size=batch_size, verbose=0)
        dead = np.flatnonzero(np.bincount(self._nearest(z).ravel(), minlength=self.quantizer.num_embeddings) < min_count)
        if len(dead):
            z = z.reshape(-1, self.quantizer.embedding_dim)
            rows = np.random.default_rng(seed).choice(len(z), size=len(dead), replace=len(dead) > len(z))
            self.quantizer.set_entries(dead, z[rows])
        return dead


@checked_arguments
def vq_autoencoder(input_shape, latent_dim, num_embeddings=128, filters=(32, 64), activation="relu", commitment_cost=0.25,
                   ema=True, decay=0.99, output_activation="sigmoid", name="vq_autoencoder"):  # fmt: skip
    """A VQ-VAE, uncompiled: sub-models "encoder" (image -> grid of ``latent_dim``-vectors), "quantizer" and "decoder".

    Args:
        input_shape: ``(height, width, channels)``, padded to a multiple of ``2 ** len(filters)`` (28x28: a 7x7 grid).
        latent_dim: size of each codebook vector; num_embeddings: number of codebook entries K (log2(K) bits a cell).
        filters: filters of the encoder's stride-2 blocks (the decoder mirrors them); activation: hidden activation.
        commitment_cost: beta (0.25); ema: codebook by moving averages (True) or by its loss; decay: of the averages (0.99).
        output_activation: ``"sigmoid"`` for images in [0, 1], None for unbounded data; name: the model's name.

    Returns: an uncompiled :class:`VQVAE`: compile it with an optimizer alone; ``fit(x)`` trains it to reconstruct ``x``.
    Raises: ValueError for an invalid or unknown argument, naming it and what would work.

    Example::

        vq = vq_autoencoder((28, 28, 1), latent_dim=16, num_embeddings=128)
        vq.compile(optimizer="adam")
        vq.fit(x_train, epochs=10, batch_size=128)  # loss, reconstruction_loss, vq_loss, perplexity, usage
        images = vq.decode_indices(vq.encode_indices(x_test))  # via (n, 7, 7) integers in 0..127
    """
    input_shape = check_shape(input_shape, (3,), "an image (height, width, channels)")
    check_int("latent_dim", latent_dim, example=16)
    filters = check_units("filters", filters, allow_empty=False)
    check_activation("activation", activation)
    check_activation("output_activation", output_activation)
    quantizer = VectorQuantizer(num_embeddings, latent_dim, commitment_cost, ema=ema, decay=decay, name="quantizer")
    pad = tuple((e // 2, e - e // 2) for e in (-side % 2 ** len(filters) for side in input_shape[:2]))  # to the stride
    x = inputs = keras.Input(input_shape, name="encoder_input")  # -> [pad] -> stride-2 convs -> conv -> 1x1 conv
    x = layers.ZeroPadding2D(pad, name="pad")(x) if any(pad[0] + pad[1]) else x
    for i, f in enumerate(filters):
        x = layers.Conv2D(f, 3, strides=2, padding="same", name=f"encoder_conv_{i}")(x)
        x = layers.Activation(activation, name=f"encoder_conv_act_{i}")(x)
    x = layers.Conv2D(filters[-1], 3, padding="same", activation=activation, name="encoder_conv_last")(x)
    encoder = keras.Model(inputs, layers.Conv2D(latent_dim, 1, name="pre_quantization")(x), name="encoder")
    quantizer.build(encoder.output.shape)
    x = codes = keras.Input(encoder.output.shape[1:], name="decoder_input")  # -> conv -> x2 transposed convs -> [crop]
    x = layers.Conv2D(filters[-1], 3, padding="same", activation=activation, name="decoder_conv_first")(x)
    for i, f in enumerate(filters[::-1][1:] + (input_shape[-1],)):
        act = None if i == len(filters) - 1 else activation
        x = layers.Conv2DTranspose(f, 3, strides=2, padding="same", activation=act, name=f"decoder_deconv_{i}")(x)
    x = layers.Cropping2D(pad, name="crop")(x) if any(pad[0] + pad[1]) else x
    decoder = keras.Model(codes, layers.Activation(output_activation, name="reconstruction")(x), name="decoder")
    model = VQVAE(encoder, quantizer, decoder, name=name)
    model.build((None,) + input_shape)
    return model
