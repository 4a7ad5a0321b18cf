"""Conditional variational autoencoder (CVAE): a VAE told the class of each example, so it can draw a chosen class.

To use it without aelib, copy this one file into your project: it needs only keras and numpy. Its classes are
registered under the package name "aelib": keep it to load ``.keras`` files saved by aelib, or rename it (every
``package="aelib"``) for your own. The blocks marked ``# Copied from`` are repeated in other aelib files on purpose.

Encoder and decoder both read the label y (Sohn et al. 2015): q(z | x, y) and p(x | z, y), trained as the VAE is.
The code then holds what the label does not say (style: thickness, slant), and the decoder draws any class on request.
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


# Copied from aelib.builders.variational.encoder_trunk
def encoder_trunk(inputs, conv, sizes, activation):
    """Inputs -> features: stride-2 3x3 convolutions with ``sizes`` filters (the image zero-padded to a multiple of
    ``2 ** len(sizes)``) then Flatten; or Flatten then Dense layers of ``sizes`` units."""
    pad = [(e // 2, e - e // 2) for e in (-side % 2 ** len(sizes) for side in inputs.shape[1:3])] if conv else [()]
    x = layers.ZeroPadding2D(pad, name="pad")(inputs) if any(sum(pad, ())) else inputs
    x = x if conv or len(inputs.shape) == 2 else layers.Flatten(name="flatten")(x)
    for i, size in enumerate(sizes):
        options = dict(activation=activation, name=f"encoder_conv_{i}" if conv else f"encoder_hidden_{i}")
        x = (layers.Conv2D(size, 3, strides=2, padding="same", **options) if conv else layers.Dense(size, **options))(x)
    return layers.Flatten(name="flatten")(x) if conv else x


# Copied from aelib.builders.variational.decoder_model
def decoder_model(latent_dim, output_shape, conv, sizes, activation, output_activation, name="decoder"):
    """Codes -> outputs, the mirror of :func:`encoder_trunk` (``sizes`` widest first), its last layer
    ``Activation(output_activation)`` (a Bernoulli likelihood reads the logits before it): Dense -> Reshape ->
    stride-2 transposed convolutions, the last to the image's channels -> crop; or Dense layers -> Dense -> Reshape."""
    x = codes = keras.Input((latent_dim,), name=f"{name}_input")
    if conv:
        pad = [(e // 2, e - e // 2) for e in (-side % 2 ** len(sizes) for side in output_shape[:2])]  # as the encoder's
        h, w = ((side + sum(p)) // 2 ** len(sizes) for side, p in zip(output_shape[:2], pad))
        x = layers.Dense(h * w * sizes[0], activation=activation, name="expand")(x)
        x = layers.Reshape((h, w, sizes[0]), name="reshape")(x)
        for i, f in enumerate(sizes[1:] + (output_shape[-1],)):
            act = activation if i < len(sizes) - 1 else None
            x = layers.Conv2DTranspose(f, 3, strides=2, padding="same", activation=act, name=f"{name}_deconv_{i}")(x)
        x = layers.Cropping2D(pad, name="crop")(x) if any(sum(pad, ())) else x
    else:
        for i, size in enumerate(sizes):
            x = layers.Dense(size, activation=activation, name=f"{name}_hidden_{i}")(x)
        x = layers.Reshape(output_shape, name="reshape")(layers.Dense(math.prod(output_shape), name="reconstruction")(x))
    out = layers.Activation(output_activation, name="reconstruction" if conv else "output_activation")(x)
    return keras.Model(codes, out, name=name)


# Copied from aelib.builders.variational.Sampling
@keras.saving.register_keras_serializable(package="aelib")
class Sampling(layers.Layer):
    """The reparameterisation trick, ``[mean, log_var] -> mean + exp(log_var / 2) * eps`` with ``eps ~ N(0, I)``:
    a draw differentiable in mean and log_var. Args: ``seed`` of its random stream."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed, self.seed_generator = seed, keras.random.SeedGenerator(seed)

    def call(self, inputs):
        mean, log_var = inputs
        return mean + ops.exp(0.5 * log_var) * keras.random.normal(ops.shape(mean), seed=self.seed_generator, dtype=mean.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


# Copied from aelib.builders.variational.Clip
@keras.saving.register_keras_serializable(package="aelib")
class Clip(layers.Layer):
    """Clips to ``[min_value, max_value]``: bounds a log-variance, so that ``exp`` cannot overflow into inf or NaN."""

    def __init__(self, min_value=-10.0, max_value=10.0, **kwargs):
        super().__init__(**kwargs)
        if not min_value < max_value:
            raise ValueError(f"Clip needs min_value < max_value, got {min_value} and {max_value}.")
        self.min_value, self.max_value = float(min_value), float(max_value)

    def call(self, inputs):
        return ops.clip(inputs, self.min_value, self.max_value)

    def get_config(self):
        return {**super().get_config(), "min_value": self.min_value, "max_value": self.max_value}


# Copied from aelib.builders.variational.reconstruction_nll
def reconstruction_nll(x, output, kind="bernoulli", decoder_std=0.1, from_logits=False):
    """``-log p(x | z)`` per example in nats, summed over the non-batch axes: shape (batch,). ``output`` is what the
    decoder gives: probabilities, or logits with ``from_logits=True`` (``"bernoulli"``; exact for any logit, where
    ``log(sigmoid(.))`` saturates in float32), or the mean (``"gaussian"``, with a fixed std ``decoder_std``)."""
    x, output = ops.cast(x, "float32"), ops.cast(output, "float32")
    if check_choice("kind", kind, ("bernoulli", "gaussian")) == "bernoulli":
        nll = ops.binary_crossentropy(x, output, from_logits=from_logits)
    else:
        nll = 0.5 * ops.square((x - output) / decoder_std) + math.log(decoder_std) + 0.5 * math.log(2 * math.pi)
    return ops.sum(ops.reshape(nll, (ops.shape(nll)[0], -1)), axis=1)


# Copied from aelib.builders.variational.kl_divergence
def kl_divergence(mean, log_var):
    """KL(N(mean, exp(log_var)) || N(0, 1)) per code dimension, in nats (closed form)."""
    mean, log_var = ops.cast(mean, "float32"), ops.cast(log_var, "float32")
    return -0.5 * (1.0 + log_var - ops.square(mean) - ops.exp(log_var))


# Copied from aelib.builders.variational.importance_weighted_nll
def importance_weighted_nll(model, x, k=50, batch_size=256, seed=0):
    """The importance-weighted bound (IWAE, Burda et al. 2016) on ``-log p(x)`` (``-log p(x | y)`` for a conditional VAE's
    ``[x, labels]``) of a VAE ``model``, per example in nats: ``-log mean_i p(x, z_i) / q(z_i | x)`` over ``k`` draws
    ``z_i ~ q(z | x)``: the negative ELBO for ``k = 1``, tighter as ``k`` grows. A batch's draws are decoded in one call."""
    check_int("k", k, example=50)
    parts, rng, out = list(x) if isinstance(x, (list, tuple)) else [x], np.random.default_rng(seed), []
    for s in range(0, len(parts[0]), batch_size):
        xb, *cb = (np.asarray(part[s : s + batch_size]) for part in parts)  # images, and labels for a conditional VAE
        mean, log_var = model.encode([xb, *cb] if cb else xb, batch_size)
        eps = rng.standard_normal((k,) + mean.shape).astype("float32")
        z = (mean + np.exp(0.5 * log_var) * eps).reshape(-1, mean.shape[-1])  # k draws per example
        inputs = [z, *(np.concatenate([c] * k) for c in cb)] if cb else z
        logits = model.decoder_logits.predict(inputs, batch_size=batch_size, verbose=0)
        tiled = np.broadcast_to(xb, (k,) + xb.shape).reshape((-1,) + xb.shape[1:])
        nll = ops.convert_to_numpy(reconstruction_nll(tiled, logits, model.reconstruction, model.decoder_std, from_logits=True))
        log_w = (-nll.reshape(k, -1) - 0.5 * np.sum(z.reshape(eps.shape) ** 2 - eps**2 - log_var, axis=-1)).astype(np.float64)
        out.append(-(log_w.max(0) + np.log(np.mean(np.exp(log_w - log_w.max(0)), axis=0))))
    return np.concatenate(out)


# Copied from aelib.builders.variational.VAE
@keras.saving.register_keras_serializable(package="aelib")
class VAE(LossTermsModel):
    """A variational autoencoder: ``encoder`` (x -> [mean, log_var, z]) and ``decoder`` (z -> x), its loss built in.
    ``fit``/``evaluate`` report, per example in nats: ``loss`` (reconstruction + beta x KL: the negative ELBO for
    beta = 1), ``reconstruction_loss`` and ``kl_loss``; ``sample_weight`` weighs every term.
    Args:
        encoder, decoder: the two models; for ``"bernoulli"`` the decoder ends in ``Activation("sigmoid")``.
        beta: weight of the KL term, also settable later (``vae.beta = 0.5``, e.g. by a warm-up callback).
        reconstruction: ``"bernoulli"`` (data in [0, 1]) or ``"gaussian"`` (with a fixed std ``decoder_std``).
    Returns: the reconstruction from the code mean, when called (``predict``).
    Raises: ValueError for an invalid argument, a loss in ``compile``, a ``y`` in ``fit``, Bernoulli data outside [0, 1].
    Example: ``vae = variational_autoencoder((28, 28, 1), 2)`` (a VAE), then ``vae.importance_weighted_nll(x, k=50)``.
    """

    term_names = ("loss", "reconstruction_loss", "kl_loss")

    def __init__(self, encoder, decoder, beta=1.0, reconstruction="bernoulli", decoder_std=0.1, **kwargs):
        super().__init__(encoder, decoder, **kwargs)
        self.reconstruction = check_choice("reconstruction", reconstruction, ("bernoulli", "gaussian"))
        self.decoder_std = check_number("decoder_std", decoder_std, open_low=True)
        self.beta_variable = keras.Variable(check_number("beta", beta), trainable=False, dtype="float32", name="beta")
        last, bernoulli = decoder.layers[-1], self.reconstruction == "bernoulli"  # Bernoulli: the likelihood reads logits
        if bernoulli and not (isinstance(last, layers.Activation) and keras.activations.serialize(last.activation) == "sigmoid"):
            raise ValueError(f"reconstruction='bernoulli': the decoder must end in Activation('sigmoid'), not {last.name!r}.")
        # The decoder before its sigmoid: it shares the decoder's layers, so it is kept untracked.
        logits = keras.Model(decoder.inputs, last.input, name=f"{decoder.name}_logits") if bernoulli else decoder
        object.__setattr__(self, "decoder_logits", logits)

    beta = property(
        lambda self: float(ops.convert_to_numpy(self.beta_variable)),
        lambda self, value: self.beta_variable.assign(check_number("beta", value)),
        doc="Weight of the KL term; assign to it (``vae.beta = 0.5``) at any time, even during ``fit``.",
    )

    def _parts(self, x, training):
        mean, log_var, z = self.encoder(x, training=training)
        return mean, log_var, self.decoder_logits(z, training=training)

    def call(self, inputs, training=False):
        return self._parts(inputs, True) if training else self.decoder(self.encoder(inputs)[0])

    def loss_terms(self, x, y_pred=None, sample_weight=None, training=False):
        """The negative ELBO and its two terms, in nats per example, averaged over the batch (``vae.loss_terms(x)``)."""
        mean, log_var, output = y_pred if training else self._parts(x, False)
        images = x[0] if isinstance(x, (list, tuple)) else x  # a conditional VAE's x is [images, labels]
        rec = batch_mean(
            reconstruction_nll(images, output, self.reconstruction, self.decoder_std, from_logits=True), sample_weight
        )
        kl = batch_mean(ops.sum(kl_divergence(mean, log_var), axis=1), sample_weight)
        return {"loss": rec + self.beta_variable * kl, "reconstruction_loss": rec, "kl_loss": kl}

    def check_data(self, x, name):
        """Refuse NaN or inf, and data outside [0, 1] for a Bernoulli likelihood, uint8 included (the forgotten ``/ 255``)."""
        super().check_data(x, name)
        x, name = (x[0], f"{name}[0]") if isinstance(x, (list, tuple)) else (x, name)  # a conditional VAE's images
        if hasattr(x, "take") and hasattr(x, "element_spec"):  # a tf.data.Dataset: look at one batch
            x = keras.utils.unpack_x_y_sample_weight(next(iter(x.take(1))))[0]
        array = np.asarray(x) if hasattr(x, "__array__") and self.reconstruction == "bernoulli" else np.zeros(0)
        if array.dtype.kind in "fiub" and array.size and (array.min() < 0 or array.max() > 1):
            kind = f"integers ({array.dtype})" if array.dtype.kind in "iu" else "values"
            raise ValueError(
                f"{name} has {kind} in [{array.min():.3g}, {array.max():.3g}], but reconstruction='bernoulli' (binary "
                "cross-entropy) needs data in [0, 1]: scale it (e.g. x / 255) or use reconstruction='gaussian'."
            )

    def encode(self, x, batch_size=256):
        """(mean, log_var) of q(z|x) (q(z|x, y) for a conditional VAE's ``[x, labels]``), NumPy arrays."""
        return tuple(self.encoder.predict(x, batch_size=batch_size, verbose=0)[:2])

    def kl_per_dimension(self, x, batch_size=256):
        """Mean KL of each code dimension over ``x`` (nats), shape (latent_dim,): near 0 = unused (posterior collapse)."""
        return ops.convert_to_numpy(ops.mean(kl_divergence(*self.encode(x, batch_size)), axis=0))

    def active_units(self, x, threshold=0.01, batch_size=256):
        """How many code dimensions have a posterior mean whose variance over ``x`` exceeds ``threshold``."""
        return int(np.sum(np.var(self.encode(x, batch_size)[0], axis=0) > threshold))

    importance_weighted_nll = importance_weighted_nll  # the function above, as a method: vae.importance_weighted_nll(x)

    def get_config(self):
        return {**super().get_config(), "beta": self.beta, "reconstruction": self.reconstruction, "decoder_std": self.decoder_std}


def integer_labels(labels, num_classes, name="labels"):
    """Labels as a NumPy int32 array (n,), from integers (n,) or (n, 1) or one-hot (n, num_classes); ValueError else."""
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] in (1, num_classes):
        labels = labels[:, 0] if labels.shape[1] == 1 else labels.argmax(axis=1)
    if labels.ndim != 1 or (labels.dtype.kind == "f" and not np.array_equal(labels, np.round(labels))):
        raise ValueError(
            f"{name} must be integer labels (n,) or (n, 1), or one-hot (n, {num_classes}); got shape {labels.shape}."
        )
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"{name} holds labels in [{labels.min()}, {labels.max()}], but num_classes={num_classes} takes 0 to {num_classes - 1}: "
            f"relabel the classes as 0..{num_classes - 1}, or build the model with a larger num_classes."
        )
    return labels.astype("int32")


def with_labels(x, num_classes, name="x"):
    """``[data, labels]`` with the labels as integers (n,), so every label format takes the same traced path."""
    if isinstance(x, (list, tuple)) and len(x) == 2 and isinstance(x[1], (list, tuple, np.ndarray)):
        return [x[0], integer_labels(x[1], num_classes, f"{name}[1]")]
    return x


@keras.saving.register_keras_serializable(package="aelib")
class OneHot(layers.Layer):
    """Integer labels, shape (batch,) or (batch, 1), to one-hot vectors (batch, num_classes)."""

    def __init__(self, num_classes, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = check_int("num_classes", num_classes, example=10, low=2)

    def call(self, labels):
        return ops.one_hot(ops.reshape(ops.cast(labels, "int32"), (-1,)), self.num_classes, dtype=self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_classes)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}


@keras.saving.register_keras_serializable(package="aelib")
class LabelledModel(keras.Model):
    """A functional model whose inputs are ``[data, labels]``; ``predict`` takes integer or one-hot labels."""

    def predict(self, x, *args, **kwargs):
        num_classes = next(layer.num_classes for layer in self.layers if isinstance(layer, OneHot))
        return super().predict(with_labels(x, num_classes), *args, **kwargs)


@keras.saving.register_keras_serializable(package="aelib")
class ConditionalVAE(VAE):
    """A :class:`VAE` whose encoder reads ``[x, labels]`` and decoder ``[z, labels]``; ``fit``, ``evaluate`` and
    ``predict`` take ``[x, labels]``, labels as integers (n,) or (n, 1) or one-hot (n, num_classes).

    Args:
        encoder, decoder: ``[x, labels] -> [mean, log_var, z]`` and ``[z, labels] -> x``.
        num_classes: number of classes (>= 2), labels 0 .. num_classes - 1.
        **kwargs: ``beta``, ``reconstruction``, ``decoder_std`` and ``name``, as for :class:`VAE`.

    Returns: the reconstruction from the code mean, when called (``predict([x, labels])``).
    Raises: ValueError for an invalid argument, data that is not ``[x, labels]``, or labels out of range.
    Example: ``cvae.generate([5] * 10, seed=0)`` draws ten examples of class 5.
    """

    def __init__(self, encoder, decoder, num_classes, **kwargs):
        super().__init__(encoder, decoder, **kwargs)
        self.num_classes = check_int("num_classes", num_classes, example=10, low=2)

    def _split(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError("A ConditionalVAE takes [x, labels], e.g. cvae.predict([x, y]).")
        images, labels = (v if ops.is_tensor(v) or isinstance(v, keras.KerasTensor) else ops.convert_to_tensor(v) for v in inputs)
        if len(labels.shape) == 2:  # (n, 1) integers or (n, num_classes) one-hot
            labels = labels[:, 0] if labels.shape[-1] == 1 else ops.argmax(labels, axis=-1)
        return images, ops.cast(labels, "int32")

    def _parts(self, x, training):
        images, labels = self._split(x)
        mean, log_var, z = self.encoder([images, labels], training=training)
        return mean, log_var, self.decoder_logits([z, labels], training=training)

    def call(self, inputs, training=False):
        if training:
            return self._parts(inputs, True)
        images, labels = self._split(inputs)
        return self.decoder([self.encoder([images, labels])[0], labels])

    def fit(self, x=None, *args, **kwargs):
        return super().fit(with_labels(x, self.num_classes), *args, **kwargs)

    def evaluate(self, x=None, *args, **kwargs):
        return super().evaluate(with_labels(x, self.num_classes), *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        return super().predict(with_labels(x, self.num_classes), *args, **kwargs)

    def check_data(self, x, name):
        if not isinstance(x, (list, tuple)) or len(x) != 2:
            raise ValueError(f"{name} must be [x, labels] for a ConditionalVAE, e.g. cvae.fit([x_train, y_train]).")
        super().check_data(x, name)  # NaN or inf; the images in [0, 1] for a Bernoulli likelihood
        integer_labels(x[1], self.num_classes, f"{name}[1]")

    def importance_weighted_nll(self, x, k=50, batch_size=256, seed=0):
        """The importance-weighted bound on ``-log p(x | y)`` per example, for ``x = [data, labels]`` (any label format)."""
        return importance_weighted_nll(self, with_labels(x, self.num_classes), k, batch_size, seed)

    def generate(self, labels, seed=None, batch_size=256):
        """One example of each class in ``labels``, decoded from a code drawn from the prior N(0, I)."""
        labels = integer_labels(labels, self.num_classes)
        z = np.random.default_rng(seed).standard_normal((len(labels), self.decoder.inputs[0].shape[-1])).astype("float32")
        return self.decoder.predict([z, labels], batch_size=batch_size, verbose=0)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}


@checked_arguments
def conditional_variational_autoencoder(input_shape, latent_dim, num_classes, architecture="conv", filters=(32, 64),
                                        hidden_units=(256,), activation="relu", reconstruction="bernoulli", decoder_std=0.1,
                                        beta=1.0, log_var_limit=10.0, seed=None, name="cvae"):  # fmt: skip
    """A conditional VAE (:class:`ConditionalVAE`), uncompiled: compile it with an optimizer alone.

    Args:
        input_shape, latent_dim, architecture, filters, hidden_units, activation, reconstruction, decoder_std, beta,
            log_var_limit, seed, name: as for ``variational_autoencoder``; the conv encoder reads the label as
            ``num_classes`` constant extra channels, the dense one next to the pixels, the decoder next to the code.
        num_classes: number of classes (>= 2); labels are 0 .. num_classes - 1.

    Returns: an uncompiled :class:`ConditionalVAE`, ``.encoder`` (``[x, labels] -> [mean, log_var, z]``) and
        ``.decoder`` (``[z, labels] -> x``).
    Raises: ValueError for an invalid or unknown argument, naming it and what would work.

    Example::

        cvae = conditional_variational_autoencoder((28, 28, 1), latent_dim=8, num_classes=10)
        cvae.compile(optimizer="adam")
        cvae.fit([x_train, y_train], epochs=10, validation_data=([x_test, y_test],))
        sandals = cvae.decoder.predict([np.random.normal(size=(10, 8)), np.full(10, 5)])
    """
    check_choice("architecture", architecture, ("conv", "dense"))
    conv = architecture == "conv"
    input_shape = check_shape(
        input_shape, (3,) if conv else (1, 2, 3), "an image (height, width, channels)" if conv else "(features,) or an image"
    )
    check_int("latent_dim", latent_dim)
    num_classes = check_int("num_classes", num_classes, example=10, low=2)
    check_choice("reconstruction", reconstruction, ("bernoulli", "gaussian"))
    check_number("log_var_limit", log_var_limit, open_low=True)
    sizes = check_units("filters", filters, allow_empty=False) if conv else check_units("hidden_units", hidden_units)
    images, labels = keras.Input(input_shape, name="encoder_input"), keras.Input((1,), dtype="int32", name="encoder_labels")
    one_hot = OneHot(num_classes, name="encoder_one_hot")(labels)
    if conv:  # the label as num_classes constant channels next to the image's
        maps = layers.Reshape(input_shape[:2] + (num_classes,), name="label_maps")(
            layers.RepeatVector(math.prod(input_shape[:2]), name="label_repeat")(one_hot)
        )
        x = layers.Concatenate(name="image_and_label")([images, maps])
    else:
        x = layers.Concatenate(name="pixels_and_label")(
            [layers.Flatten(name="flatten")(images) if len(input_shape) > 1 else images, one_hot]
        )
    x = encoder_trunk(x, conv, sizes, activation)
    mean = layers.Dense(latent_dim, name="z_mean")(x)
    log_var = Clip(-log_var_limit, log_var_limit, name="clip_log_var")(layers.Dense(latent_dim, name="z_log_var_raw")(x))
    encoder = LabelledModel([images, labels], [mean, log_var, Sampling(seed=seed, name="z")([mean, log_var])], name="encoder")
    codes, labels = keras.Input((latent_dim,), name="decoder_input"), keras.Input((1,), dtype="int32", name="decoder_labels")
    x = layers.Concatenate(name="code_and_label")([codes, OneHot(num_classes, name="decoder_one_hot")(labels)])
    body = decoder_model(latent_dim + num_classes, input_shape, conv, sizes[::-1], activation, None, name="decoder_body")
    out = layers.Activation("sigmoid" if reconstruction == "bernoulli" else None, name="reconstruction")(body(x))
    decoder = LabelledModel([codes, labels], out, name="decoder")
    cvae = ConditionalVAE(
        encoder, decoder, num_classes, beta=beta, reconstruction=reconstruction, decoder_std=decoder_std, name=name
    )
    cvae.build([(None,) + input_shape, (None,)])
    return cvae
