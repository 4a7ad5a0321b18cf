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

import keras
import numpy as np
from keras import ops

from ..callbacks import KLWarmup  # noqa: F401  (re-exported: the VAE's warm-up callback)
from ..checks import check_activation, check_choice, check_positive_int, check_range, check_shape, check_units, checked_arguments
from ..layers import Clip, Sampling
from ..losses import RECONSTRUCTIONS, kl_divergence, reconstruction_nll
from .base import LossTermsModel, batch_mean
from .conv import conv_decoder, conv_trunk
from .dense import dense_decoder, dense_stack


def logits_model(decoder):
    """The decoder up to (not including) its final sigmoid: what a Bernoulli likelihood reads.

    It shares the decoder's layers and weights; the decoder itself still returns probabilities.
    """
    last = decoder.layers[-1]
    if not (isinstance(last, keras.layers.Activation) and keras.activations.serialize(last.activation) == "sigmoid"):
        raise ValueError(
            f"reconstruction='bernoulli' needs a decoder whose last layer is Activation('sigmoid'), so that the "
            f"likelihood can be computed from its logits; decoder {decoder.name!r} ends in {type(last).__name__} "
            f"{last.name!r}. Build it with output_activation='sigmoid' (aelib's decoders end in that layer), or use "
            "reconstruction='gaussian'."
        )
    return keras.Model(decoder.inputs, last.input, name=f"{decoder.name}_logits")


def check_unit_interval(x, name):
    """Refuse data outside [0, 1] for a Bernoulli likelihood: floats out of range, and integer
    images such as uint8 0..255 (the forgotten ``/ 255``)."""
    if hasattr(x, "take") and hasattr(x, "element_spec"):  # a tf.data.Dataset: peek at one batch
        x = keras.utils.unpack_x_y_sample_weight(next(iter(x.take(1))))[0]
    try:
        arr = np.asarray(x)
    except Exception:  # generators, PyDataset ...: nothing cheap to look at
        return
    if arr.dtype.kind not in "fiub" or not arr.size:
        return
    low, high = arr.min(), arr.max()
    if low < 0 or high > 1:
        kind = f"integers ({arr.dtype})" if arr.dtype.kind in "iu" else "values"
        raise ValueError(
            f"{name} has {kind} in [{low:.3g}, {high:.3g}], but reconstruction='bernoulli' (binary "
            "cross-entropy) needs data in [0, 1]: scale it (e.g. x / 255) or use reconstruction='gaussian'."
        )


@keras.saving.register_keras_serializable(package="aelib")
class VAE(LossTermsModel):
    """A complete Keras model: ``call`` returns the reconstruction from the code mean, so
    ``predict``, ``evaluate``, ``fit(validation_data=...)`` and save/load all work.

    The loss lives in :meth:`loss_terms`, written once with ``keras.ops``; the training step
    that differentiates it, one short branch per backend (TensorFlow, JAX, PyTorch), is
    inherited from :class:`~aelib.builders.base.LossTermsModel`. Metrics (per image, averaged
    over the batch, in nats): ``loss`` (reconstruction + beta * KL), ``reconstruction_loss`` and
    ``kl_loss``; ``sample_weight`` in ``fit``/``evaluate`` weighs every term. Under
    ``tf.distribute`` the per-replica loss is divided by the number of replicas before the
    gradients are summed, so a step on N replicas equals one on the global batch.
    """

    term_names = ("loss", "reconstruction_loss", "kl_loss")

    def __init__(self, encoder, decoder, beta=1.0, reconstruction="bernoulli", decoder_std=0.1, **kwargs):
        super().__init__(encoder, decoder, **kwargs)
        check_choice("reconstruction", reconstruction, RECONSTRUCTIONS)
        check_range("beta", beta, 0.0)
        check_range("decoder_std", decoder_std, 0.0, low_inclusive=False)
        self.reconstruction, self.decoder_std = reconstruction, float(decoder_std)
        self.beta_variable = keras.Variable(float(beta), trainable=False, dtype="float32", name="beta")
        # Bernoulli: the likelihood reads the logits (exact, with gradients for saturated pixels).
        self.decoder_logits = logits_model(decoder) if reconstruction == "bernoulli" else decoder

    @property
    def beta(self):
        """Weight of the KL term; assign to it (``vae.beta = 0.5``) at any time, even mid-fit."""
        return float(ops.convert_to_numpy(self.beta_variable))

    @beta.setter
    def beta(self, value):
        check_range("beta", value, 0.0)
        self.beta_variable.assign(float(value))

    def call(self, inputs, training=False):
        mean, log_var, z = self.encoder(inputs, training=training)
        return self.decoder(z if training else mean, training=training)

    def loss_terms(self, x, sample_weight=None, training=False):
        """The negative ELBO and its two terms, each in nats per example, averaged over the batch."""
        mean, log_var, z = self.encoder(x, training=training)
        output = self.decoder_logits(z, training=training)  # logits (Bernoulli) or mean (Gaussian)
        rec = reconstruction_nll(x, output, self.reconstruction, self.decoder_std, from_logits=True)
        kl = ops.sum(kl_divergence(mean, log_var), axis=1)
        rec, kl = batch_mean(rec, sample_weight), batch_mean(kl, sample_weight)
        return {"loss": rec + self.beta_variable * kl, "reconstruction_loss": rec, "kl_loss": kl}

    # ---- checks and diagnostics ------------------------------------------------------------
    def check_data(self, x, name):
        super().check_data(x, name)
        if self.reconstruction == "bernoulli" and x is not None:
            check_unit_interval(x, name)

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

    def importance_weighted_nll(self, x, k=50, batch_size=256, seed=0):
        """The importance-weighted bound (IWAE, Burda et al. 2016) on ``-log p(x)``, per example,
        in nats: ``-log mean_i p(x, z_i) / q(z_i | x)`` over ``k`` draws ``z_i ~ q(z | x)``.

        With ``k = 1`` it is the negative ELBO of one draw; it decreases towards ``-log p(x)``
        as ``k`` grows, so it is a tighter bound than the ELBO for any ``k > 1`` (on average).
        The ``k`` draws of a batch are decoded in one ``predict`` call.
        """
        check_positive_int("k", k, example=50)
        images, condition = self._images_and_condition(x)
        rng = np.random.default_rng(seed)
        out = []
        for start in range(0, len(images), batch_size):
            cb = None if condition is None else condition[start : start + batch_size]
            out.append(self._iwae_batch(np.asarray(images[start : start + batch_size], "float32"), cb, k, rng, batch_size))
        return np.concatenate(out)

    def _images_and_condition(self, x):
        """The images, and what else the encoder and decoder read with them (None here; a
        conditional VAE's labels)."""
        return np.asarray(x), None

    @staticmethod
    def _inputs(first, condition):
        return first if condition is None else [first, condition]

    def _iwae_batch(self, xb, cb, k, rng, batch_size):
        mean, log_var = self.encode(self._inputs(xb, cb), batch_size)
        eps = rng.standard_normal((k,) + mean.shape).astype("float32")
        z = mean + np.exp(0.5 * log_var) * eps  # (k, batch, latent): k draws per image
        cond = None if cb is None else np.tile(cb, (k,) + (1,) * (np.ndim(cb) - 1))
        output = self.decoder_logits.predict(self._inputs(z.reshape(-1, z.shape[-1]), cond), batch_size=batch_size, verbose=0)
        tiled = np.broadcast_to(xb, (k,) + xb.shape).reshape((-1,) + xb.shape[1:])
        nll = reconstruction_nll(tiled, output, self.reconstruction, self.decoder_std, from_logits=True)
        log_px_z = -ops.convert_to_numpy(nll).reshape(k, -1)
        log_pz = -0.5 * np.sum(z**2 + np.log(2 * np.pi), axis=-1)
        log_qz = -0.5 * np.sum(eps**2 + log_var + np.log(2 * np.pi), axis=-1)
        log_w = (log_px_z + log_pz - log_qz).astype(np.float64)  # (k, batch)
        top = log_w.max(axis=0)
        return -(top + np.log(np.mean(np.exp(log_w - top), axis=0)))

    def get_config(self):
        return {**super().get_config(), "beta": self.beta, "reconstruction": self.reconstruction, "decoder_std": self.decoder_std}


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
    input_shape = check_shape(
        input_shape, ranks, "an image (height, width, channels)" if architecture == "conv" else "(features,) or an image"
    )
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
        x = dense_stack(x, hidden_units, activation=activation, name="encoder_hidden")
    mean = keras.layers.Dense(latent_dim, name="z_mean")(x)
    log_var = Clip(-log_var_limit, log_var_limit, name="clip_log_var")(keras.layers.Dense(latent_dim, name="z_log_var_raw")(x))
    z = Sampling(seed=seed, name="z")([mean, log_var])
    encoder = keras.Model(inputs, [mean, log_var, z], name="encoder")
    output_activation = "sigmoid" if reconstruction == "bernoulli" else None
    if architecture == "conv":
        decoder = conv_decoder(
            latent_dim, input_shape, filters=filters[::-1], activation=activation, output_activation=output_activation
        )
    else:
        decoder = dense_decoder(
            latent_dim, input_shape, hidden_units=hidden_units[::-1], activation=activation, output_activation=output_activation
        )
    vae = VAE(encoder, decoder, beta=beta, reconstruction=reconstruction, decoder_std=decoder_std, name=name)
    vae.build((None,) + input_shape)
    return vae
