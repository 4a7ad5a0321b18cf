"""Contractive autoencoder: a code that barely moves when the input moves a little.

Use it when the code should be robust to small perturbations (noise, tiny shifts) while still
following the directions in which the data really varies. The penalty is

    weight * || d code / d input ||_F^2,

the squared Frobenius norm of the encoder's Jacobian, averaged over the batch (Rifai et al.
2011). The encoder is a stack of Dense layers with elementwise activations, for which the
Jacobian has a closed form: J = D_L W_L^T ... D_1 W_1^T, with D_k the diagonal of activation
derivatives. :func:`jacobian_frobenius_norm` computes it with ``keras.ops`` only (the true
Jacobian, checked against finite differences in the tests), from the code side backwards, so
that the widest matrix is (batch, latent_dim, hidden) rather than (batch, pixels, hidden).

Example::

    cae = aelib.contractive_autoencoder((28, 28, 1), latent_dim=64, weight=1e-3)
    cae.compile(optimizer="adam", loss="mse")
    cae.fit(x_train, x_train, epochs=10)
"""

import keras
from keras import ops

from ..checks import check_choice, check_range, check_shape, check_units, checked_arguments
from .base import EncoderDecoderModel
from .dense import dense_decoder, dense_encoder

# Derivative of each supported activation, from its input z and output a = f(z).
DERIVATIVES = {
    "linear": lambda z, a: ops.ones_like(z),
    "sigmoid": lambda z, a: a * (1.0 - a),
    "tanh": lambda z, a: 1.0 - ops.square(a),
    "relu": lambda z, a: ops.cast(z > 0, z.dtype),
    "softplus": lambda z, a: ops.sigmoid(z),
    "elu": lambda z, a: ops.where(z > 0, ops.ones_like(z), a + 1.0),
}


def _dense_layers(encoder):
    dense = [layer for layer in encoder.layers if isinstance(layer, keras.layers.Dense)]
    for layer in encoder.layers:
        if not isinstance(layer, (keras.layers.Dense, keras.layers.InputLayer, keras.layers.Flatten)):
            raise ValueError(f"jacobian_frobenius_norm takes Dense encoders only; found {type(layer).__name__}.")
    return dense


def jacobian_frobenius_norm(encoder, x):
    """Per-example ``||d encoder(x) / dx||_F^2`` for a Dense-only encoder, shape (batch,)."""
    h = ops.reshape(x, (ops.shape(x)[0], -1))
    dense = _dense_layers(encoder)
    derivs = []
    for layer in dense:
        z = ops.matmul(h, layer.kernel) + layer.bias if layer.use_bias else ops.matmul(h, layer.kernel)
        h = layer.activation(z)
        derivs.append(DERIVATIVES[keras.activations.serialize(layer.activation)](z, h))
    # Walk back from the code: A = D_L W_L^T D_{L-1} ... restricted to the first layer's outputs.
    a = None  # None stands for diag(derivs[-1]); avoids materialising it.
    for k in range(len(dense) - 1, 0, -1):
        w_t = ops.transpose(dense[k].kernel)  # (out_k, in_k)
        a = derivs[k][:, :, None] * w_t[None] if a is None else ops.matmul(a, w_t)
        a = a * derivs[k - 1][:, None, :]
    w1 = dense[0].kernel  # (pixels, units_1)
    if a is None:  # single layer: ||J||^2 = sum_j d_j^2 ||W[:, j]||^2
        return ops.sum(ops.square(derivs[0]) * ops.sum(ops.square(w1), axis=0)[None], axis=1)
    gram = ops.matmul(ops.transpose(w1), w1)  # (units_1, units_1): ||A W1^T||^2 = sum(A G * A)
    return ops.sum(ops.matmul(a, gram) * a, axis=(1, 2))


def autodiff_jacobian(model, x):
    """``d model(x) / dx`` per example by automatic differentiation, shape (batch, outputs,
    *input shape): a check on :func:`jacobian_frobenius_norm`, for any model. The one
    backend-specific function of aelib outside a training step, one short branch each."""
    backend = keras.backend.backend()
    x = ops.convert_to_tensor(x, "float32")
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(x)
            y = model(x)
        return ops.convert_to_numpy(tape.batch_jacobian(y, x))
    if backend == "jax":
        import jax

        return ops.convert_to_numpy(jax.vmap(jax.jacrev(lambda v: model(v[None])[0]))(x))
    if backend == "torch":
        import torch

        rows = [torch.autograd.functional.jacobian(lambda v: model(v[None])[0], xi) for xi in x]
        return ops.convert_to_numpy(torch.stack(rows))
    raise ValueError(f"autodiff_jacobian needs the tensorflow, jax or torch backend, not {backend!r}.")


@keras.saving.register_keras_serializable(package="aelib")
class ContractiveAutoencoder(EncoderDecoderModel):
    """An encoder/decoder pair whose training loss adds ``weight * mean ||J||_F^2``.

    The penalty is added with ``add_loss`` in ``call`` during training, so Keras' own
    ``train_step``, callbacks and distribution strategies apply unchanged, on every backend.
    """

    def __init__(self, encoder, decoder, weight=1e-3, **kwargs):
        super().__init__(encoder, decoder, **kwargs)
        check_range("weight", weight, 0.0)
        _dense_layers(encoder)
        self.weight = float(weight)

    def call(self, inputs, training=False):
        if training and self.weight:
            self.add_loss(self.weight * ops.mean(jacobian_frobenius_norm(self.encoder, inputs)))
        return self.decoder(self.encoder(inputs, training=training), training=training)

    def get_config(self):
        return {**super().get_config(), "weight": self.weight}


@checked_arguments
def contractive_autoencoder(
    input_shape,
    latent_dim,
    weight=1e-3,
    hidden_units=(),
    activation="sigmoid",
    code_activation="sigmoid",
    output_activation="sigmoid",
    name="contractive_autoencoder",
):
    """A dense autoencoder with the contractive (Jacobian) penalty (uncompiled).

    Args:
        input_shape: ``(features,)`` or an image shape.
        latent_dim: size of the code.
        weight: strength of the penalty (0 gives a plain autoencoder with the same code path).
        hidden_units: hidden layers of the encoder (``()``: the classic one-layer CAE).
        activation, code_activation: one of ``linear, sigmoid, tanh, relu, softplus, elu``
            (the Jacobian needs their derivatives).
        output_activation: activation of the reconstruction.
    """
    input_shape = check_shape(input_shape, (1, 2, 3), "(features,) or an image (height, width[, channels])")
    hidden_units = check_units("hidden_units", hidden_units)
    check_choice("activation", activation, tuple(DERIVATIVES))
    check_choice("code_activation", code_activation, tuple(DERIVATIVES))
    encoder = dense_encoder(
        input_shape, latent_dim, hidden_units=hidden_units, activation=activation, code_activation=code_activation
    )
    decoder = dense_decoder(
        latent_dim, input_shape, hidden_units=hidden_units[::-1], activation=activation, output_activation=output_activation
    )
    model = ContractiveAutoencoder(encoder, decoder, weight, name=name)
    model.build((None,) + input_shape)
    return model
