"""Conditional variational autoencoder (CVAE): a VAE told which class each image belongs to.

Use it to generate an image of a class you choose ("a sandal, please"), or to separate what the
label says (the class) from what it does not (style: thickness, slant, pattern), which then lives
in the code. Encoder and decoder both read the label y (Sohn et al. 2015; Kingma et al. 2014's
M2 without the classifier): q(z | x, y) = N(mean, exp(log_var)) and p(x | z, y), trained like the
VAE by minimising, per image and in nats,

    loss = -log p(x | z, y) + beta * KL(q(z | x, y) || N(0, I)),    z ~ q(z | x, y).

Everything else is :class:`~aelib.VAE`'s (this model subclasses it): the one training step per
backend, the metrics ``loss``/``reconstruction_loss``/``kl_loss``, ``beta`` as a variable (so
:class:`~aelib.KLWarmup` works), the Bernoulli likelihood from logits, the IWAE bound.

Labels come as integers of shape ``(n,)`` or ``(n, 1)`` (e.g. Fashion-MNIST's uint8 ``y``), or
one-hot ``(n, num_classes)``; all three give the same result. Inside, the label is one-hot
encoded: the conv encoder reads it as ``num_classes`` constant extra image channels (so every
convolution sees it), the dense encoder next to the pixels, and the decoder next to the code.

Example::

    cvae = aelib.conditional_variational_autoencoder((28, 28, 1), latent_dim=8, num_classes=10)
    cvae.compile(optimizer="adam")
    cvae.fit([x_train, y_train], epochs=10, batch_size=128, validation_data=([x_test, y_test], None))
    z = np.random.normal(size=(10, 8))
    sandals = cvae.get_layer("decoder").predict([z, np.full(10, 5)])   # ten class-5 images
"""

import keras
import numpy as np
from keras import ops

from ..checks import (
    check_activation,
    check_choice,
    check_finite,
    check_positive_int,
    check_range,
    check_shape,
    check_units,
    checked_arguments,
)
from ..layers import Clip, Sampling
from ..losses import kl_divergence, reconstruction_nll
from .base import batch_mean
from .conv import conv_decoder, conv_trunk
from .dense import dense_decoder, dense_stack
from .variational import VAE, check_unit_interval


def check_num_classes(num_classes):
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
        raise ValueError(f"num_classes={num_classes!r} must be an integer >= 2 (the number of labels), e.g. 10.")
    return int(num_classes)


def integer_labels(labels, num_classes, name="labels"):
    """Labels as a NumPy int array of shape (n,): from integers (n,) or (n, 1), or one-hot
    (n, num_classes) (read by argmax). Raises ValueError for anything else or out of range."""
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == num_classes:
        labels = labels.argmax(axis=1)
    elif labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    elif labels.ndim != 1:
        raise ValueError(
            f"{name} has shape {labels.shape}; give integer labels of shape (n,) or (n, 1), or one-hot labels of "
            f"shape (n, {num_classes})."
        )
    if labels.size and labels.dtype.kind == "f" and not np.array_equal(labels, np.round(labels)):
        raise ValueError(f"{name} holds non-integer values such as {labels[labels != np.round(labels)][0]}.")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"{name} holds labels in [{labels.min()}, {labels.max()}], but num_classes={num_classes} takes 0 to "
            f"{num_classes - 1}: relabel the classes as 0..{num_classes - 1}, or build the model with a larger num_classes."
        )
    return labels.astype("int32")


@keras.saving.register_keras_serializable(package="aelib")
class OneHot(keras.layers.Layer):
    """Integer labels, shape (batch,) or (batch, 1), to one-hot vectors (batch, num_classes)."""

    def __init__(self, num_classes, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = check_num_classes(num_classes)

    def call(self, labels):
        return ops.one_hot(ops.reshape(ops.cast(labels, "int32"), (-1,)), self.num_classes, dtype=self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_classes)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}


def with_integer_labels(x, num_classes, name="x"):
    """``[data, labels]`` with the labels as NumPy integers (n,); anything else unchanged.

    The models convert their labels before Keras traces a step, so that every label format
    takes the same path (TensorFlow would retrace a step with an unknown rank when formats
    alternate, which a functional model's inputs cannot take)."""
    if not isinstance(x, (list, tuple)) or len(x) != 2 or not isinstance(x[1], (list, tuple, np.ndarray)):
        return x
    return [x[0], integer_labels(x[1], num_classes, f"{name}[1]")]


@keras.saving.register_keras_serializable(package="aelib")
class LabelledModel(keras.Model):
    """A functional model whose inputs are ``[data, labels]`` (the CVAE's encoder and decoder);
    ``predict`` takes integer labels (n,) or (n, 1), or one-hot labels (n, num_classes)."""

    def predict(self, x, *args, **kwargs):
        num_classes = next(layer.num_classes for layer in self.layers if isinstance(layer, OneHot))
        return super().predict(with_integer_labels(x, num_classes), *args, **kwargs)


@keras.saving.register_keras_serializable(package="aelib")
class ConditionalVAE(VAE):
    """A :class:`~aelib.VAE` whose encoder takes ``[x, labels]`` and decoder ``[z, labels]``.

    ``fit``/``evaluate``/``predict`` take ``[images, labels]``; ``predict`` reconstructs from the
    posterior mean, as the VAE's does. Labels may be integers (n,) or (n, 1) or one-hot
    (n, num_classes) (read by argmax); labels outside 0..num_classes-1 are refused. The
    sub-models' ``predict`` takes the same formats (``decoder.predict([z, labels])``); called
    directly on tensors, they take integer labels.
    """

    def __init__(self, encoder, decoder, num_classes, **kwargs):
        super().__init__(encoder, decoder, **kwargs)
        self.num_classes = check_num_classes(num_classes)

    def _split(self, inputs):
        """``[images, labels]`` with the labels as integers (one-hot is read by argmax)."""
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError("A ConditionalVAE takes [images, labels], e.g. cvae.predict([x, y]).")
        images, labels = inputs
        tensor = lambda v: ops.is_tensor(v) or isinstance(v, keras.KerasTensor)  # noqa: E731
        images = images if tensor(images) else ops.convert_to_tensor(images)  # NumPy in an eager step
        if not tensor(labels):
            return images, ops.convert_to_tensor(integer_labels(labels, self.num_classes))
        # (n,), (n, 1) or (n, num_classes), whose width a traced function may not know statically
        labels = ops.cast(ops.reshape(labels, (ops.shape(images)[0], -1)), "float32")
        integer, hot = labels[:, 0], ops.argmax(labels, axis=-1)
        width = labels.shape[-1]
        if width is None:
            return images, ops.cast(ops.where(ops.shape(labels)[-1] == 1, integer, ops.cast(hot, "float32")), "int32")
        return images, ops.cast(integer if width == 1 else hot, "int32")

    def fit(self, x=None, y=None, *args, **kwargs):
        return super().fit(with_integer_labels(x, self.num_classes), y, *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        return super().evaluate(with_integer_labels(x, self.num_classes), y, *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        return super().predict(with_integer_labels(x, self.num_classes), *args, **kwargs)

    def call(self, inputs, training=False):
        images, labels = self._split(inputs)
        mean, log_var, z = self.encoder([images, labels], training=training)
        return self.decoder([z if training else mean, labels], training=training)

    def loss_terms(self, x, sample_weight=None, training=False):
        """The negative conditional ELBO and its two terms, in nats per example, batch-averaged."""
        images, labels = self._split(x)
        mean, log_var, z = self.encoder([images, labels], training=training)
        output = self.decoder_logits([z, labels], training=training)  # logits (Bernoulli) or mean (Gaussian)
        rec = reconstruction_nll(images, output, self.reconstruction, self.decoder_std, from_logits=True)
        kl = ops.sum(kl_divergence(mean, log_var), axis=1)
        rec, kl = batch_mean(rec, sample_weight), batch_mean(kl, sample_weight)
        return {"loss": rec + self.beta_variable * kl, "reconstruction_loss": rec, "kl_loss": kl}

    # ---- checks, generation and diagnostics ------------------------------------------------
    def check_data(self, x, name):
        if x is None or not isinstance(x, (list, tuple, np.ndarray)):
            return  # a tf.data.Dataset or generator: nothing cheap to look at
        if not isinstance(x, (list, tuple)) or len(x) != 2:
            raise ValueError(
                f"{name} must be [images, labels] for a ConditionalVAE, e.g. cvae.fit([x_train, y_train]); "
                f"got {type(x).__name__}."
            )
        check_finite(x, name)
        if self.reconstruction == "bernoulli":
            check_unit_interval(x[0], f"{name}[0]")
        integer_labels(x[1], self.num_classes, f"{name}[1]")

    def _numpy_inputs(self, x):
        images, labels = x
        return np.asarray(images), integer_labels(labels, self.num_classes)

    def encode(self, x, batch_size=256):
        """(mean, log_var) of q(z | x, y) for ``x = [images, labels]``, as NumPy arrays."""
        mean, log_var, _ = self.encoder.predict(list(self._numpy_inputs(x)), batch_size=batch_size, verbose=0)
        return mean, log_var

    def generate(self, labels, seed=None, batch_size=256):
        """Images of the given classes, one per label, from codes drawn from the prior N(0, I)."""
        labels = integer_labels(labels, self.num_classes)
        latent_dim = self.decoder.inputs[0].shape[-1]
        z = np.random.default_rng(seed).standard_normal((len(labels), latent_dim)).astype("float32")
        return self.decoder.predict([z, labels], batch_size=batch_size, verbose=0)

    def _images_and_condition(self, x):  # for VAE.importance_weighted_nll: the bound on -log p(x | y)
        return self._numpy_inputs(x)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}


@checked_arguments
def conditional_variational_autoencoder(
    input_shape,
    latent_dim,
    num_classes,
    architecture="conv",
    filters=(32, 64),
    hidden_units=(256,),
    activation="relu",
    reconstruction="bernoulli",
    decoder_std=0.1,
    beta=1.0,
    log_var_limit=10.0,
    seed=None,
    name="cvae",
):
    """A conditional VAE (uncompiled; compile with just an optimizer), sub-models "encoder"
    (``[images, labels] -> [mean, log_var, z]``) and "decoder" (``[z, labels] -> images``).

    Args:
        input_shape: an image ``(height, width, channels)`` for ``architecture="conv"``;
            ``(features,)`` or an image for ``"dense"``.
        latent_dim: size of the code: what the label does not say (2 to draw it, 8-32 to
            generate well).
        num_classes: number of classes (>= 2); labels are 0 .. num_classes - 1.
        architecture: ``"conv"`` (stride-2 convolutions, ``filters``; the label enters as
            extra input channels) or ``"dense"`` (``hidden_units``; the label enters next to
            the pixels). The decoder mirrors the encoder and reads ``[z, one-hot label]``.
        filters, hidden_units: layer sizes of the conv or dense encoder.
        activation: hidden activation.
        reconstruction: ``"bernoulli"`` (binary cross-entropy; data in [0, 1]) or
            ``"gaussian"`` (squared error scaled by a fixed ``decoder_std``).
        beta: weight of the KL term (1 = the conditional ELBO).
        log_var_limit: the encoder's log-variance is clipped to +-this.
        seed: seed of the sampling layer.
    """
    check_choice("architecture", architecture, ("conv", "dense"))
    ranks = (3,) if architecture == "conv" else (1, 2, 3)
    input_shape = check_shape(
        input_shape, ranks, "an image (height, width, channels)" if architecture == "conv" else "(features,) or an image"
    )
    check_positive_int("latent_dim", latent_dim)
    num_classes = check_num_classes(num_classes)
    check_activation("activation", activation)
    check_choice("reconstruction", reconstruction, ("bernoulli", "gaussian"))
    check_range("log_var_limit", log_var_limit, 0.0, float("inf"), low_inclusive=False)
    if architecture == "conv":
        filters = check_units("filters", filters, allow_empty=False)
    else:
        hidden_units = check_units("hidden_units", hidden_units)

    # encoder: [images, labels] -> [mean, log_var, z]
    images = keras.Input(input_shape, name="encoder_input")
    labels = keras.Input((1,), dtype="int32", name="encoder_labels")
    one_hot = OneHot(num_classes, name="encoder_one_hot")(labels)
    if architecture == "conv":  # the label as num_classes constant channels next to the image's
        height, width = input_shape[:2]
        maps = keras.layers.Reshape((height, width, num_classes), name="label_maps")(
            keras.layers.RepeatVector(height * width, name="label_repeat")(one_hot)
        )
        x = conv_trunk(keras.layers.Concatenate(name="image_and_label")([images, maps]), filters, activation=activation)
    else:
        x = keras.layers.Flatten(name="flatten")(images) if len(input_shape) > 1 else images
        x = keras.layers.Concatenate(name="pixels_and_label")([x, one_hot])
        x = dense_stack(x, hidden_units, activation=activation, name="encoder_hidden")
    mean = keras.layers.Dense(latent_dim, name="z_mean")(x)
    log_var = Clip(-log_var_limit, log_var_limit, name="clip_log_var")(keras.layers.Dense(latent_dim, name="z_log_var_raw")(x))
    z = Sampling(seed=seed, name="z")([mean, log_var])
    encoder = LabelledModel([images, labels], [mean, log_var, z], name="encoder")

    # decoder: [z, labels] -> images; the VAE's decoder on [z, one-hot label], logits before a last sigmoid
    codes = keras.Input((latent_dim,), name="decoder_input")
    labels = keras.Input((1,), dtype="int32", name="decoder_labels")
    x = keras.layers.Concatenate(name="code_and_label")([codes, OneHot(num_classes, name="decoder_one_hot")(labels)])
    if architecture == "conv":
        body = conv_decoder(
            latent_dim + num_classes,
            input_shape,
            filters=filters[::-1],
            activation=activation,
            output_activation=None,
            name="decoder_body",
        )
    else:
        body = dense_decoder(
            latent_dim + num_classes,
            input_shape,
            hidden_units=hidden_units[::-1],
            activation=activation,
            output_activation=None,
            name="decoder_body",
        )
    output_activation = "sigmoid" if reconstruction == "bernoulli" else None
    out = keras.layers.Activation(output_activation, name="reconstruction")(body(x))
    decoder = LabelledModel([codes, labels], out, name="decoder")

    cvae = ConditionalVAE(
        encoder, decoder, num_classes, beta=beta, reconstruction=reconstruction, decoder_std=decoder_std, name=name
    )
    cvae.build([(None,) + input_shape, (None,)])
    return cvae
