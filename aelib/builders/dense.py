"""Fully connected (dense) autoencoder: the vanilla and deep "hourglass".

Use it for flat vectors (tabular data, ratings, codes) and as the first model on small images.
Images are flattened on the way in and reshaped on the way out, so it takes ``(784,)`` and
``(28, 28, 1)`` alike. Any number of hidden layers; under-complete (``latent_dim`` smaller than
the input) or over-complete (larger), with optional dropout and L1/L2 weight penalties to keep an
over-complete code from simply copying its input.

With ``tie_weights=True`` each decoder layer uses the transpose of its mirror encoder layer's
kernel (:class:`DenseTransposed`; only its bias is its own): half the weights, and the classic
constraint under which a linear autoencoder's optimum is exactly the PCA subspace.

Example::

    ae = aelib.dense_autoencoder((28, 28, 1), latent_dim=32, hidden_units=(256,))
    ae.compile(optimizer="adam", loss="mse")
    ae.fit(x_train, x_train, epochs=10, batch_size=256, validation_data=(x_test, x_test))
    codes = ae.get_layer("encoder").predict(x_test)
"""

import math

import keras
from keras import layers, ops

from ..checks import check_activation, check_positive_int, check_range, check_shape, check_units, checked_arguments
from .base import EncoderDecoderModel, join


def _weight_penalty(l1, l2):
    check_range("l1", l1, 0.0, math.inf)
    check_range("l2", l2, 0.0, math.inf)
    return keras.regularizers.L1L2(l1=l1, l2=l2) if (l1 or l2) else None


def _check_dropout(dropout, hidden_units):
    check_range("dropout", dropout, 0.0, 1.0)
    if dropout and not hidden_units:
        raise ValueError(
            f"dropout={dropout} has no effect with hidden_units=(): dropout is applied after hidden layers only. "
            "Add a hidden layer (e.g. hidden_units=(256,)), or regularise the code another way (l1/l2)."
        )


def dense_stack(x, units, activation="relu", dropout=0.0, kernel_regularizer=None, name="dense"):
    """Dense layers of the given sizes (each followed by dropout when ``dropout > 0``)."""
    for i, u in enumerate(units):
        x = layers.Dense(u, activation=activation, kernel_regularizer=kernel_regularizer, name=f"{name}_{i}")(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"{name}_dropout_{i}")(x)
    return x


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
    """Input -> Flatten -> Dense(hidden_units...) -> Dense(latent_dim). See dense_autoencoder."""
    input_shape = check_shape(input_shape, (1, 2, 3), "(features,) or an image (height, width[, channels])")
    check_positive_int("latent_dim", latent_dim)
    hidden_units = check_units("hidden_units", hidden_units)
    check_activation("activation", activation)
    check_activation("code_activation", code_activation)
    _check_dropout(dropout, hidden_units)
    penalty = _weight_penalty(l1, l2)
    inputs = keras.Input(input_shape, name=f"{name}_input")
    x = layers.Flatten(name="flatten")(inputs) if len(input_shape) > 1 else inputs
    x = dense_stack(x, hidden_units, activation, dropout, penalty, name=f"{name}_hidden")
    code = layers.Dense(
        latent_dim,
        activation=code_activation,
        kernel_regularizer=penalty,
        name="code",
    )(x)
    return keras.Model(inputs, code, name=name)


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
    """Code -> Dense(hidden_units...) -> Dense(prod(output_shape)) -> Reshape(output_shape)."""
    output_shape = check_shape(output_shape, (1, 2, 3), "(features,) or an image (height, width[, channels])")
    check_positive_int("latent_dim", latent_dim)
    hidden_units = check_units("hidden_units", hidden_units)
    check_activation("output_activation", output_activation)
    _check_dropout(dropout, hidden_units)
    penalty = _weight_penalty(l1, l2)
    codes = keras.Input((latent_dim,), name=f"{name}_input")
    x = dense_stack(codes, hidden_units, activation, dropout, penalty, name=f"{name}_hidden")
    x = layers.Dense(math.prod(output_shape), kernel_regularizer=penalty, name="reconstruction")(x)
    return keras.Model(codes, _to_output(x, output_shape, output_activation), name=name)


def _to_output(x, output_shape, output_activation):
    """Reshape flat outputs to ``output_shape``, then the output activation: a layer of its own,
    last, so that a VAE can read the logits just before it."""
    if len(output_shape) > 1:
        x = layers.Reshape(output_shape, name="reshape")(x)
    if output_activation is not None:
        x = layers.Activation(output_activation, name="output_activation")(x)
    return x


class _Ref:
    """Holds a layer out of Keras' sight, so its weights are not tracked (and saved) twice."""

    __slots__ = ("layer",)

    def __init__(self, layer):
        self.layer = layer


@keras.saving.register_keras_serializable(package="aelib")
class DenseTransposed(layers.Layer):
    """A Dense layer whose kernel is the transpose of another Dense layer's (tied weights).

    ``outputs = activation(inputs @ source.kernel.T + bias)``; only the bias belongs to this
    layer. ``tied_to`` names the source layer, which :meth:`tie` attaches (a
    :class:`TiedAutoencoder` does it for every such layer of its decoder, also after loading).
    """

    def __init__(self, tied_to, units, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.tied_to, self.units = tied_to, check_positive_int("units", units)
        self.activation = keras.activations.get(check_activation("activation", activation))
        self._source = None

    def tie(self, layer):
        shape = tuple(layer.kernel.shape) if isinstance(layer, layers.Dense) and layer.built else None
        if shape is None or shape[0] != self.units:
            raise ValueError(
                f"{self.name} ties to a Dense layer with {self.units} inputs; {layer.name!r} is a "
                f"{'built ' if layer.built else 'not yet built '}{type(layer).__name__} with kernel shape {shape}."
            )
        self._source = _Ref(layer)

    def build(self, input_shape):
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")

    def call(self, inputs):
        if self._source is None:
            raise ValueError(f"{self.name} is not tied to a layer yet; build it with dense_autoencoder(..., tie_weights=True).")
        return self.activation(ops.matmul(inputs, ops.transpose(self._source.layer.kernel)) + self.bias)

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
    """A dense autoencoder whose decoder layers are the encoder's, transposed (tie_weights=True)."""

    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(encoder, decoder, **kwargs)
        for layer in decoder.layers:
            if isinstance(layer, DenseTransposed):
                layer.tie(encoder.get_layer(layer.tied_to))


def _tied_decoder(encoder, output_shape, activation, output_activation, dropout, name="decoder"):
    """Code -> DenseTransposed of every encoder Dense layer, last first -> Reshape(output_shape)."""
    dense = [layer for layer in encoder.layers if isinstance(layer, layers.Dense)]
    codes = keras.Input((dense[-1].units,), name=f"{name}_input")
    x = codes
    for i, source in enumerate(reversed(dense)):
        last = i == len(dense) - 1
        units = tuple(source.kernel.shape)[0]
        x = DenseTransposed(
            source.name, units, None if last else activation, name="reconstruction" if last else f"{name}_hidden_{i}"
        )(x)
        if dropout and not last:
            x = layers.Dropout(dropout, name=f"{name}_hidden_dropout_{i}")(x)
    return keras.Model(codes, _to_output(x, output_shape, output_activation), name=name)


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
    """A fully connected autoencoder (uncompiled), with sub-models "encoder" and "decoder".

    Args:
        input_shape: ``(features,)`` or an image shape ``(height, width[, channels])``.
        latent_dim: size of the code. Smaller than the input: under-complete (compression);
            larger: over-complete (needs regularisation to learn anything but the identity).
        hidden_units: sizes of the encoder's hidden layers; the decoder mirrors them. ``()``
            gives a single-layer encoder and decoder (with ``code_activation=None`` and
            ``output_activation=None`` that is a linear autoencoder, the one PCA explains).
        activation: hidden-layer activation.
        code_activation: activation of the code layer (None = linear).
        output_activation: ``"sigmoid"`` for data in [0, 1] (pair with MSE or BCE), None
            (linear) for unbounded data, ``"tanh"`` for data in [-1, 1].
        dropout: dropout rate after each hidden layer (0 = off; needs at least one hidden layer).
        l1, l2: L1 / L2 penalties on every weight matrix (0 = off).
        tie_weights: the decoder reuses the encoder's kernels, transposed (a
            :class:`TiedAutoencoder`; about half the weights).
    """
    input_shape = check_shape(input_shape, (1, 2, 3), "(features,) or an image (height, width[, channels])")
    hidden_units = check_units("hidden_units", hidden_units)
    shared = dict(activation=activation, dropout=dropout, l1=l1, l2=l2)
    encoder = dense_encoder(input_shape, latent_dim, hidden_units=hidden_units, code_activation=code_activation, **shared)
    if tie_weights:
        decoder = _tied_decoder(encoder, input_shape, activation, output_activation, dropout)
        model = TiedAutoencoder(encoder, decoder, name=name)
        model.build((None,) + input_shape)
        return model
    decoder = dense_decoder(
        latent_dim, input_shape, hidden_units=hidden_units[::-1], output_activation=output_activation, **shared
    )
    return join(encoder, decoder, input_shape, name)
