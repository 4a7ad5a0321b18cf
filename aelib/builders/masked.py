"""Masked autoencoder (MAE, He et al. 2021): hide most of an image, predict what is missing.

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


def to_patches(images, patch_size):
    """(n, H, W, C) images -> (n, patches, patch_size**2 * C), patches in row-major order."""
    p, (h, w, c) = patch_size, images.shape[1:]
    x = ops.transpose(ops.reshape(images, (-1, h // p, p, w // p, p, c)), (0, 1, 3, 2, 4, 5))
    return ops.reshape(x, (-1, (h // p) * (w // p), p * p * c))


def from_patches(patches, patch_size, grid):
    """The inverse of :func:`to_patches`: (n, gh * gw, p * p * C) -> (n, gh * p, gw * p, C)."""
    p, (gh, gw), c = patch_size, grid, patches.shape[-1] // (patch_size * patch_size)
    x = ops.transpose(ops.reshape(patches, (-1, gh, gw, p, p, c)), (0, 1, 3, 2, 4, 5))
    return ops.reshape(x, (-1, gh * p, gw * p, c))


def masked_mse(images, prediction, mask, patch_size, norm_pix_loss=False):
    """Per example: (mean squared error over the hidden patches, the same over the visible ones). ``mask``: 1/True where
    hidden, per patch (n, patches) or per pixel (n, H, W, 1); ``norm_pix_loss``: targets normalised per patch first."""
    target, pred = (to_patches(ops.cast(v, "float32"), patch_size) for v in (images, prediction))
    if norm_pix_loss:
        target = (target - ops.mean(target, -1, keepdims=True)) / ops.sqrt(ops.var(target, -1, keepdims=True) + 1e-6)
    mask = ops.cast(mask, "float32")
    mask = ops.max(to_patches(mask, patch_size), axis=-1) if len(mask.shape) > 2 else mask  # a pixel mask: one per patch
    err = ops.mean(ops.square(pred - target), axis=-1)  # (n, patches)
    mean = lambda m: ops.sum(err * m, axis=1) / ops.maximum(ops.sum(m, axis=1), 1.0)
    return mean(mask), mean(1.0 - mask)


@keras.saving.register_keras_serializable(package="aelib")
class Patchify(layers.Layer):
    """Images (n, H, W, C) -> patches (n, (H/p) * (W/p), p * p * C), row-major. Args: ``patch_size`` (p). Returns: the
    patches. Raises: ValueError for an invalid ``patch_size``. Example: ``Patchify(4)(images)``: 49 for 28x28 images."""

    def __init__(self, patch_size, **kwargs):
        super().__init__(**kwargs)
        self.patch_size = check_int("patch_size", patch_size, example=4)

    def call(self, images):
        return to_patches(images, self.patch_size)

    def get_config(self):
        return {**super().get_config(), "patch_size": self.patch_size}


@keras.saving.register_keras_serializable(package="aelib")
class Unpatchify(layers.Layer):
    """The inverse of :class:`Patchify`. Args: ``patch_size`` (p), ``grid`` (rows, columns). Returns: images (n, rows * p,
    columns * p, C). Raises: ValueError for an invalid ``patch_size``. Example: ``Unpatchify(4, (7, 7))(patches)``."""

    def __init__(self, patch_size, grid, **kwargs):
        super().__init__(**kwargs)
        self.patch_size, self.grid = check_int("patch_size", patch_size, example=4), tuple(int(g) for g in grid)

    def call(self, patches):
        return from_patches(patches, self.patch_size, self.grid)

    def get_config(self):
        return {**super().get_config(), "patch_size": self.patch_size, "grid": list(self.grid)}


@keras.saving.register_keras_serializable(package="aelib")
class PositionEmbedding(layers.Layer):
    """Adds a learned vector to each position of a (n, positions, dim) sequence. Args: the ``Layer`` keywords. Returns:
    ``tokens + embedding`` when called. Raises: nothing of its own. Example: ``PositionEmbedding()(tokens)``."""

    def build(self, input_shape):
        init = keras.initializers.RandomNormal(stddev=0.02)
        self.embedding = self.add_weight(shape=tuple(input_shape[1:]), initializer=init, name="embedding")

    def call(self, tokens):
        return tokens + ops.cast(self.embedding, tokens.dtype)[None]


@keras.saving.register_keras_serializable(package="aelib")
class MaskToken(layers.Layer):
    """``[tokens (n, positions, dim), mask (n, positions)]`` -> the tokens, a shared learned vector where ``mask`` is 1.
    Args: the ``Layer`` keywords. Returns: those tokens. Raises: nothing of its own. Example: ``MaskToken()([t, m])``."""

    def build(self, input_shape):
        init = keras.initializers.RandomNormal(stddev=0.02)
        self.token = self.add_weight(shape=(input_shape[0][-1],), initializer=init, name="token")

    def call(self, inputs):
        tokens, mask = inputs[0], ops.cast(inputs[1], inputs[0].dtype)[..., None]
        return tokens * (1.0 - mask) + ops.cast(self.token, tokens.dtype) * mask


def transformer_blocks(x, depth, num_heads, mlp_dim, name):
    """``depth`` pre-norm Transformer blocks (x + attention(norm(x)), then x + MLP(norm(x))), then a final norm."""
    for block in (f"{name}_block_{i}" for i in range(depth)):
        h = layers.LayerNormalization(epsilon=1e-6, name=f"{block}_norm_1")(x)
        h = layers.MultiHeadAttention(num_heads, x.shape[-1] // num_heads, name=f"{block}_attention")(h, h)
        x = layers.Add(name=f"{block}_add_1")([x, h])
        h = layers.LayerNormalization(epsilon=1e-6, name=f"{block}_norm_2")(x)
        h = layers.Dense(mlp_dim, activation="gelu", name=f"{block}_mlp_1")(h)
        x = layers.Add(name=f"{block}_add_2")([x, layers.Dense(x.shape[-1], name=f"{block}_mlp_2")(h)])
    return layers.LayerNormalization(epsilon=1e-6, name=f"{name}_norm")(x)


def hidden_count(mask_ratio, n_patches, name="mask_ratio"):
    """round(mask_ratio * n_patches), checked to leave at least one patch hidden and one visible."""
    n_hidden = int(round(check_number(name, mask_ratio, 0.0, 1.0, open_low=True) * n_patches))
    if not 1 <= n_hidden <= n_patches - 1:
        raise ValueError(
            f"{name}={mask_ratio} hides {n_hidden} of {n_patches} patches; at least one must be hidden and one visible: "
            f"use a ratio between {1.5 / n_patches:.3g} and {1 - 1.5 / n_patches:.3g}, e.g. 0.75."
        )
    return n_hidden


@keras.saving.register_keras_serializable(package="aelib")
class MaskedAutoencoder(LossTermsModel):
    """Patch embedding and Transformer encoder on the visible patches, Transformer decoder on all; loss built in.

    ``fit(x)`` hides a fresh random ``mask_ratio`` of the patches of each image at every step; ``loss`` is the mean
    squared error per pixel on the hidden patches, ``visible_mse`` the same on the visible ones (a diagnostic: nothing
    trains the output on a patch the encoder sees); ``evaluate(x)`` likewise. ``predict(x)`` (``call(x)``) predicts
    every patch from the others, never from itself, deterministically: it runs ceil(patches / n_hidden) masked passes
    (2 at ``mask_ratio=0.75`` with 49 patches) under the fixed masks of :meth:`fixed_masks`, which together hide every
    patch, and returns for each patch the mean of the passes that hid it. The "encoder" sees every patch (features).
    Args: ``encoder`` (images -> features, with sub-models "patch_embedding" and "encoder_transformer"), ``decoder``
    (``[tokens (n, patches, dim), mask (n, patches), 1 = hidden]`` -> images), ``patch_size``, ``mask_ratio``,
    ``norm_pix_loss``, ``seed`` (as :func:`masked_autoencoder`'s). Returns: the predicted images when called (in
    training ``(prediction, mask)``, what the loss needs). Raises: ValueError for an invalid argument, or
    ``compile(loss=...)``, ``metrics=`` or a target ``y``. Example: ``masked_autoencoder((28, 28, 1), 64)``.
    """

    term_names = ("loss", "visible_mse")
    patch_embedding = property(lambda self: self.encoder.get_layer("patch_embedding"), doc="Images -> tokens.")
    transformer = property(lambda self: self.encoder.get_layer("encoder_transformer"), doc="The encoder's blocks.")

    def __init__(self, encoder, decoder, patch_size, mask_ratio=0.75, norm_pix_loss=False, seed=None, **kwargs):
        super().__init__(encoder, decoder, **kwargs)
        self.patch_size = check_int("patch_size", patch_size, example=4)
        self.n_patches = int(decoder.inputs[0].shape[1])
        self.n_hidden, self.mask_ratio = hidden_count(mask_ratio, self.n_patches), float(mask_ratio)
        self.norm_pix_loss, self.seed, self.seed_generator = bool(norm_pix_loss), seed, keras.random.SeedGenerator(seed)

    def call(self, inputs, training=False):
        if training:  # a fresh random mask per image and step
            return self.masked_forward(inputs, self._noise(inputs), self.n_hidden, training=True)
        total = count = 0.0
        for noise in self.fixed_masks():  # each patch predicted from the others (see the class docstring)
            noise = ops.broadcast_to(ops.convert_to_tensor(noise[None]), (ops.shape(inputs)[0], self.n_patches))
            prediction, mask = self.masked_forward(inputs, noise, self.n_hidden)
            total, count = total + to_patches(prediction, self.patch_size) * mask[..., None], count + mask[..., None]
        return from_patches(total / count, self.patch_size, [side // self.patch_size for side in inputs.shape[1:3]])

    def _noise(self, x):
        return keras.random.uniform((ops.shape(x)[0], self.n_patches), seed=self.seed_generator)

    def fixed_masks(self):
        """``predict``'s masks (1 = hidden): runs of ``n_hidden`` patches of a fixed permutation, hiding every patch."""
        order, n, k = np.random.default_rng(0).permutation(self.n_patches), self.n_hidden, -(-self.n_patches // self.n_hidden)
        hidden = order[(np.arange(k)[:, None] * n + np.arange(n)) % self.n_patches]  # (masks, n_hidden) patch numbers
        return np.stack([np.isin(np.arange(self.n_patches), h) for h in hidden]).astype("float32")

    def masked_forward(self, images, noise, n_hidden, training=False):
        """(prediction, mask 1 where hidden): the ``n_hidden`` patches of largest ``noise`` (n, patches) hidden."""
        tokens = self.patch_embedding(images, training=training)  # (n, patches, dim)
        order = ops.argsort(noise, axis=1)  # patches by increasing noise: the first n_visible are seen
        select = ops.one_hot(order[:, : self.n_patches - n_hidden], self.n_patches, dtype=tokens.dtype)
        encoded = self.transformer(ops.matmul(select, tokens), training=training)  # (n, visible, dim) only
        full = ops.matmul(ops.transpose(select, (0, 2, 1)), encoded)  # back in patch order, zeros where hidden
        mask = 1.0 - ops.cast(ops.sum(select, axis=1), "float32")
        return self.decoder([full, mask], training=training), mask

    def loss_terms(self, x, y_pred, sample_weight=None, training=False):
        prediction, mask = y_pred if training else self.masked_forward(x, self._noise(x), self.n_hidden)
        hidden, visible = masked_mse(x, prediction, mask, self.patch_size, self.norm_pix_loss)
        return {"loss": batch_mean(hidden, sample_weight), "visible_mse": batch_mean(visible, sample_weight)}

    def reconstruct(self, images, mask_ratio=None, seed=0, batch_size=256):
        """Hide a random ``mask_ratio`` of the patches of each image (default: the training ratio; ``seed`` fixes which)
        and predict them. Returns ``(reconstruction, mask)``: the decoder's output (normalised patches with
        ``norm_pix_loss``) and a boolean pixel mask (n, H, W, 1), True where hidden: ``np.where(mask, reconstruction,
        images)`` pastes the visible pixels back."""
        n_hidden = self.n_hidden if mask_ratio is None else hidden_count(mask_ratio, self.n_patches)
        images, p = np.asarray(images, "float32"), self.patch_size
        noise = np.random.default_rng(seed).random((len(images), self.n_patches)).astype("float32")
        starts = range(0, len(images), batch_size)
        parts = [self.masked_forward(images[s : s + batch_size], noise[s : s + batch_size], n_hidden) for s in starts]
        mask = np.concatenate([ops.convert_to_numpy(m) for _, m in parts]).astype(bool)  # (n, patches)
        mask = mask.reshape(-1, images.shape[1] // p, images.shape[2] // p).repeat(p, axis=1).repeat(p, axis=2)[..., None]
        return np.concatenate([ops.convert_to_numpy(r) for r, _ in parts]), mask

    def encode_tokens(self, x, batch_size=256):
        """The encoder's output token of every patch, nothing hidden: (n, patches, latent_dim)."""
        tokens = keras.Model(self.encoder.inputs, self.encoder.get_layer("features").input)  # before the pooling
        return tokens.predict(x, batch_size=batch_size, verbose=0)

    def get_config(self):
        return {**super().get_config(), **{k: getattr(self, k) for k in ("patch_size", "mask_ratio", "norm_pix_loss", "seed")}}


@checked_arguments
def masked_autoencoder(input_shape, latent_dim, patch_size=4, mask_ratio=0.75, depth=3, num_heads=4, mlp_ratio=2, decoder_dim=64,
                       decoder_depth=1, decoder_heads=4, norm_pix_loss=False, seed=None, name="masked_autoencoder"):  # fmt: skip
    """A masked autoencoder, uncompiled: sub-models "encoder" (images -> features (n, latent_dim), every patch seen) and
    "decoder" (``[tokens, mask]`` -> images).

    Args:
        input_shape: ``(height, width, channels)``, both sides multiples of ``patch_size`` (4 cuts 28x28 into 49).
        latent_dim: width of the encoder's tokens and so of the features (a multiple of ``num_heads``), e.g. 64.
        mask_ratio: fraction of the patches hidden per image in training, in (0, 1) (0.75 as in the paper).
        depth, num_heads, mlp_ratio: the encoder's Transformer blocks, attention heads, and MLP width as a multiple of
            ``latent_dim``; decoder_dim, decoder_depth, decoder_heads: the (lighter) decoder's width, blocks, heads.
        norm_pix_loss: the loss on per-patch normalised pixels; seed: seed of the random masks; name: the model's name.

    Returns: an uncompiled :class:`MaskedAutoencoder` (compile it with an optimizer alone): ``fit(x)`` trains it to fill
        in hidden patches of ``x``; ``predict`` is the mean of a few masked passes (see the class).
    Raises: ValueError for an invalid or unknown argument, naming it and what would work.

    Example::

        mae = masked_autoencoder((28, 28, 1), latent_dim=64, patch_size=4, mask_ratio=0.75)
        mae.compile(optimizer="adam")
        mae.fit(x_train, epochs=10, batch_size=128)  # loss, visible_mse
        features = mae.encoder.predict(x_test)       # (n, 64)
        filled, mask = mae.reconstruct(x_test[:8])   # the hidden patches filled in, and where they are
    """
    input_shape = check_shape(input_shape, (3,), "an image (height, width, channels)")
    (height, width, channels), p = input_shape, check_int("patch_size", patch_size, example=4)
    if height % p or width % p:
        divisors = [d for d in range(1, min(height, width) + 1) if height % d == 0 and width % d == 0]
        raise ValueError(f"patch_size={p} does not divide the image sides {height}x{width}; use one of {divisors}, or crop.")
    grid, n = (height // p, width // p), (height // p) * (width // p)
    hidden_count(mask_ratio, n)
    for key, value in dict(depth=depth, mlp_ratio=mlp_ratio, decoder_dim=decoder_dim, decoder_depth=decoder_depth).items():
        check_int(key, value, example=2)
    by_heads = {"num_heads": (num_heads, "latent_dim", latent_dim), "decoder_heads": (decoder_heads, "decoder_dim", decoder_dim)}
    for key, (heads, dim_name, dim) in by_heads.items():
        if check_int(dim_name, dim, example=64) % check_int(key, heads, example=4):
            raise ValueError(f"{key}={heads} must divide {dim_name}={dim}: each head gets {dim_name} / {key} dimensions.")
    images = keras.Input(input_shape, name="encoder_input")
    tokens = layers.Dense(latent_dim, name="patch_projection")(Patchify(p, name="patches")(images))
    embed = keras.Model(images, PositionEmbedding(name="position_embedding")(tokens), name="patch_embedding")
    sequence = keras.Input((None, latent_dim), name="tokens")  # any number of (visible) tokens
    x = transformer_blocks(sequence, depth, num_heads, mlp_ratio * latent_dim, "encoder")
    blocks = keras.Model(sequence, x, name="encoder_transformer")
    encoder = keras.Model(images, layers.GlobalAveragePooling1D(name="features")(blocks(embed(images))), name="encoder")
    tokens, mask = keras.Input((n, latent_dim), name="decoder_tokens"), keras.Input((n,), name="decoder_mask")
    x = layers.Dense(decoder_dim, name="decoder_projection")(tokens)
    x = PositionEmbedding(name="decoder_position_embedding")(MaskToken(name="mask_token")([x, mask]))
    x = transformer_blocks(x, decoder_depth, decoder_heads, mlp_ratio * decoder_dim, "decoder")
    x = layers.Dense(p * p * channels, name="patch_pixels")(x)
    decoder = keras.Model([tokens, mask], Unpatchify(p, grid, name="reconstruction")(x), name="decoder")
    model = MaskedAutoencoder(encoder, decoder, p, mask_ratio=mask_ratio, norm_pix_loss=norm_pix_loss, seed=seed, name=name)
    model.build((None,) + input_shape)
    return model
