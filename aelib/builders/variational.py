"""Variational autoencoder (VAE): a generative model with a smooth, sampleable code space.

Use it to generate new data, to interpolate between examples, or whenever the code space itself
should be continuous. The encoder outputs a Gaussian q(z|x) = N(mean, exp(log_var)) per input;
the decoder maps a sample z to p(x|z). Training maximises the evidence lower bound (ELBO), i.e.
minimises, per image and in nats,

    loss = reconstruction + beta * KL(q(z|x) || N(0, I))

where the reconstruction term is -log p(x|z) summed over pixels: Bernoulli (binary
cross-entropy, for images in [0, 1]) or Gaussian with a fixed std ``decoder_std`` (squared
error). ``beta = 1`` is the true negative ELBO; other values trade reconstruction for a more
regular code space (beta-VAE). ``beta`` is a variable, so a callback such as :class:`KLWarmup`
can change it during training.

Example::

    vae = aelib.variational_autoencoder((28, 28, 1), latent_dim=2)
    vae.compile(optimizer="adam")           # the loss lives in train_step
    vae.fit(x_train, epochs=30, batch_size=128, validation_data=(x_test, None))
    images = vae.get_layer("decoder").predict(np.random.normal(size=(16, 2)))
"""

import math

import keras
import numpy as np
from keras import ops

from ..layers import Clip, Sampling
from ._checks import check_activation, check_choice, check_positive_int, check_range, check_shape, check_units, checked_arguments
from .conv import conv_decoder, conv_trunk
from .dense import dense_decoder, dense_stack

RECONSTRUCTIONS = ("bernoulli", "gaussian")


def kl_divergence(mean, log_var):
    """KL(N(mean, exp(log_var)) || N(0, 1)) per code dimension, in nats (closed form)."""
    return -0.5 * (1.0 + log_var - ops.square(mean) - ops.exp(log_var))


def reconstruction_nll(x, x_hat, kind="bernoulli", decoder_std=0.1, eps=1e-7):
    """-log p(x | z) per example, summed over all non-batch axes, in nats."""
    if kind == "bernoulli":
        p = ops.clip(x_hat, eps, 1.0 - eps)
        nll = -(x * ops.log(p) + (1.0 - x) * ops.log(1.0 - p))
    else:
        nll = 0.5 * ops.square((x - x_hat) / decoder_std) + math.log(decoder_std) + 0.5 * math.log(2 * math.pi)
    return ops.sum(ops.reshape(nll, (ops.shape(nll)[0], -1)), axis=1)


def _first(data):
    """x from what fit/evaluate pass to train_step: x, (x,), (x, y) or (x, y, sample_weight)."""
    return data[0] if isinstance(data, (tuple, list)) else data


@keras.saving.register_keras_serializable(package="aelib")
class VAE(keras.Model):
    """A complete Keras model: ``call`` returns the reconstruction from the code mean, so
    ``predict``, ``evaluate``, ``fit(validation_data=...)`` and save/load all work.

    Metrics (per image, averaged over the batch, in nats): ``loss`` (reconstruction +
    beta * KL), ``reconstruction_loss`` and ``kl_loss``. Under ``tf.distribute`` the per-replica
    loss is divided by the number of replicas before the gradients are summed, so a step on N
    replicas equals one on the global batch; the metrics report the mean over all replicas.
    """

    def __init__(self, encoder, decoder, beta=1.0, reconstruction="bernoulli", decoder_std=0.1, **kwargs):
        super().__init__(**kwargs)
        check_choice("reconstruction", reconstruction, RECONSTRUCTIONS)
        check_range("beta", beta, 0.0, float("inf"))
        check_range("decoder_std", decoder_std, 0.0, float("inf"), low_inclusive=False)
        self.encoder, self.decoder = encoder, decoder
        self.reconstruction, self.decoder_std = reconstruction, float(decoder_std)
        self.beta_variable = keras.Variable(float(beta), trainable=False, dtype="float32", name="beta")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def beta(self):
        """Weight of the KL term; assign to it (``vae.beta = 0.5``) at any time, even mid-fit."""
        return float(ops.convert_to_numpy(self.beta_variable))

    @beta.setter
    def beta(self, value):
        check_range("beta", value, 0.0, float("inf"))
        self.beta_variable.assign(float(value))

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker]

    def call(self, inputs, training=False):
        mean, log_var, z = self.encoder(inputs, training=training)
        return self.decoder(z if training else mean, training=training)

    def loss_terms(self, x, training=False):
        """(mean reconstruction NLL, mean KL) over the batch, each in nats per example."""
        mean, log_var, z = self.encoder(x, training=training)
        x_hat = self.decoder(z, training=training)
        rec = ops.mean(reconstruction_nll(x, x_hat, self.reconstruction, self.decoder_std))
        kl = ops.mean(ops.sum(kl_divergence(mean, log_var), axis=1))
        return rec, kl

    def _record(self, x, total, rec, kl):
        batch = ops.cast(ops.shape(x)[0], "float32")
        for tracker, value in ((self.loss_tracker, total), (self.reconstruction_tracker, rec), (self.kl_tracker, kl)):
            tracker.update_state(value, sample_weight=batch)
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, data):
        # The only TensorFlow-specific code in aelib: gradients with a tape.
        import tensorflow as tf

        x = _first(data)
        with tf.GradientTape() as tape:
            rec, kl = self.loss_terms(x, training=True)
            total = rec + self.beta_variable * kl
            penalties = ops.sum(self.losses) if self.losses else 0.0  # weight regularisers, if any
            replicas = tf.distribute.get_strategy().num_replicas_in_sync
            scaled = (total + penalties) / replicas
        grads = tape.gradient(scaled, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        return self._record(x, total, rec, kl)

    def test_step(self, data):
        x = _first(data)
        rec, kl = self.loss_terms(x, training=False)
        return self._record(x, rec + self.beta_variable * kl, rec, kl)

    # ---- checks and diagnostics ------------------------------------------------------------
    def _check_data(self, x, name):
        if self.reconstruction != "bernoulli" or x is None:
            return
        if isinstance(x, (tuple, list)):
            x = x[0]
        if hasattr(x, "take") and hasattr(x, "element_spec"):  # a tf.data.Dataset: peek at one batch
            x = _first(next(iter(x.take(1))))
        try:
            arr = np.asarray(x)
        except Exception:  # generators, PyDataset ...: nothing cheap to look at
            return
        if arr.dtype.kind == "f" and arr.size and (arr.min() < 0.0 or arr.max() > 1.0):
            raise ValueError(
                f"{name} has values in [{arr.min():.3g}, {arr.max():.3g}], but "
                "reconstruction='bernoulli' (binary cross-entropy) needs data in [0, 1]: "
                "scale it (e.g. x / 255) or use reconstruction='gaussian'."
            )

    def fit(self, x=None, y=None, *args, validation_data=None, **kwargs):
        self._check_data(x, "x")
        self._check_data(validation_data, "validation_data")
        return super().fit(x, y, *args, validation_data=validation_data, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        self._check_data(x, "x")
        return super().evaluate(x, y, *args, **kwargs)

    def encode(self, x, batch_size=256):
        """(mean, log_var) of q(z|x) as NumPy arrays."""
        mean, log_var, _ = self.encoder.predict(x, batch_size=batch_size, verbose=0)
        return mean, log_var

    def kl_per_dimension(self, x, batch_size=256):
        """Mean KL of each code dimension over ``x``, shape (latent_dim,), in nats. Dimensions
        near 0 carry no information about the input (posterior collapse)."""
        mean, log_var = self.encode(x, batch_size)
        return ops.convert_to_numpy(ops.mean(kl_divergence(mean, log_var), axis=0))

    def active_units(self, x, threshold=0.01, batch_size=256):
        """Number of code dimensions whose posterior mean varies across ``x`` with variance
        above ``threshold`` (Burda et al. 2016): the dimensions the model actually uses."""
        mean, _ = self.encode(x, batch_size)
        return int(np.sum(np.var(mean, axis=0) > threshold))

    def get_config(self):
        return {
            **super().get_config(),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "beta": self.beta,
            "reconstruction": self.reconstruction,
            "decoder_std": self.decoder_std,
        }

    @classmethod
    def from_config(cls, config):
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        config["decoder"] = keras.saving.deserialize_keras_object(config["decoder"])
        return cls(**config)


class KLWarmup(keras.callbacks.Callback):
    """Raise ``model.beta`` linearly from 0 to ``target`` over the first ``epochs`` epochs.

    Starting with a small KL weight lets the decoder learn to use the code before the KL term
    pulls the posterior towards the prior, which helps against posterior collapse.

    The loss rises while ``beta`` does, so pair it with early stopping only after the warm-up:
    ``keras.callbacks.EarlyStopping(restore_best_weights=True, start_from_epoch=epochs)``;
    otherwise the "best" epoch is one with ``beta`` near 0, a model that ignores the KL term.
    """

    def __init__(self, epochs=10, target=1.0):
        super().__init__()
        check_positive_int("epochs", epochs)
        self.epochs, self.target = epochs, float(target)

    def on_epoch_begin(self, epoch, logs=None):
        self.model.beta = self.target * min(1.0, epoch / self.epochs)


@checked_arguments
def variational_autoencoder(
    input_shape,
    latent_dim,
    architecture="conv",
    filters=(32, 64),
    hidden_units=(256,),
    activation="relu",
    reconstruction="bernoulli",
    decoder_std=0.1,
    beta=1.0,
    log_var_limit=10.0,
    seed=None,
    name="vae",
):
    """A VAE (uncompiled; compile with just an optimizer), sub-models "encoder" and "decoder".

    Args:
        input_shape: an image ``(height, width, channels)`` for ``architecture="conv"``;
            ``(features,)`` or an image for ``"dense"``.
        latent_dim: size of the code (2 to draw it; 16-64 for good samples).
        architecture: ``"conv"`` (stride-2 convolutions, ``filters``) or ``"dense"``
            (``hidden_units``); the decoder mirrors the encoder.
        filters, hidden_units: layer sizes of the conv or dense encoder.
        activation: hidden activation.
        reconstruction: ``"bernoulli"`` (binary cross-entropy; data in [0, 1]) or
            ``"gaussian"`` (squared error scaled by a fixed ``decoder_std``).
        beta: weight of the KL term (1 = the ELBO).
        log_var_limit: the encoder's log-variance is clipped to +-this, so extreme inputs
            cannot overflow exp(log_var) into inf/NaN.
        seed: seed of the sampling layer.

    The encoder outputs ``[mean, log_var, z]``; the decoder maps codes to images.
    """
    check_choice("architecture", architecture, ("conv", "dense"))
    ranks = (3,) if architecture == "conv" else (1, 2, 3)
    input_shape = check_shape(input_shape, ranks, "an image (height, width, channels)" if architecture == "conv" else "(features,) or an image")
    check_positive_int("latent_dim", latent_dim)
    check_activation("activation", activation)
    check_range("log_var_limit", log_var_limit, 0.0, float("inf"), low_inclusive=False)
    inputs = keras.Input(input_shape, name="encoder_input")
    if architecture == "conv":
        filters = check_units("filters", filters, allow_empty=False)
        x = conv_trunk(inputs, filters, activation=activation)
    else:
        hidden_units = check_units("hidden_units", hidden_units)
        x = keras.layers.Flatten(name="flatten")(inputs) if len(input_shape) > 1 else inputs
        x = dense_stack(x, hidden_units, activation, name="encoder_hidden")
    mean = keras.layers.Dense(latent_dim, name="z_mean")(x)
    log_var = Clip(-log_var_limit, log_var_limit, name="clip_log_var")(keras.layers.Dense(latent_dim, name="z_log_var_raw")(x))
    z = Sampling(seed=seed, name="z")([mean, log_var])
    encoder = keras.Model(inputs, [mean, log_var, z], name="encoder")
    if architecture == "conv":
        decoder = conv_decoder(latent_dim, input_shape, filters[::-1], activation=activation, output_activation="sigmoid" if reconstruction == "bernoulli" else None)
    else:
        decoder = dense_decoder(latent_dim, input_shape, hidden_units[::-1], activation, "sigmoid" if reconstruction == "bernoulli" else None)
    vae = VAE(encoder, decoder, beta=beta, reconstruction=reconstruction, decoder_std=decoder_std, name=name)
    vae.build((None,) + input_shape)
    return vae
