"""Convolutional autoencoder for images of any size and channel count.

Use it for images: convolutions share weights across positions, so it reconstructs better than
a dense autoencoder with far fewer parameters. Each encoder block halves the image with a
stride-2 convolution; the decoder doubles it back with transposed convolutions (or nearest
upsampling followed by a convolution, which avoids checkerboard artefacts). Images whose sides
are not a multiple of ``2 ** len(filters)`` are zero-padded on the way in and cropped on the way
out, so 28x28, 8x8, 32x32x3 or 30x17 all work.

Example::

    ae = aelib.conv_autoencoder((28, 28, 1), latent_dim=32)
    ae.compile(optimizer="adam", loss="mse")
    ae.fit(x_train, x_train, epochs=10, batch_size=128, validation_data=(x_test, x_test))
"""

import keras
from keras import layers

from ..checks import check_activation, check_choice, check_positive_int, check_shape, check_units, checked_arguments
from .base import join


def same_padding(size, stride):
    """(before, after) zero padding that makes ``size`` a multiple of ``stride``."""
    extra = -size % stride
    return extra // 2, extra - extra // 2


def conv_stack(x, filters, kernel_size=3, activation="relu", batch_norm=False, name="conv"):
    """Stride-2 Conv2D blocks: each halves height and width."""
    for i, f in enumerate(filters):
        x = layers.Conv2D(f, kernel_size, strides=2, padding="same", use_bias=not batch_norm, name=f"{name}_{i}")(x)
        if batch_norm:
            x = layers.BatchNormalization(name=f"{name}_bn_{i}")(x)
        x = layers.Activation(activation, name=f"{name}_act_{i}")(x)
    return x


def conv_trunk(inputs, filters, kernel_size=3, activation="relu", batch_norm=False, name="encoder"):
    """[zero padding to a multiple of 2 ** len(filters)] -> Conv2D blocks -> Flatten."""
    stride = 2 ** len(filters)
    pad_h, pad_w = same_padding(inputs.shape[1], stride), same_padding(inputs.shape[2], stride)
    x = inputs
    if any(pad_h + pad_w):
        x = layers.ZeroPadding2D((pad_h, pad_w), name="pad")(x)
    x = conv_stack(x, filters, kernel_size=kernel_size, activation=activation, batch_norm=batch_norm, name=f"{name}_conv")
    return layers.Flatten(name="flatten")(x)


@checked_arguments
def conv_encoder(
    input_shape,
    latent_dim,
    filters=(32, 64),
    kernel_size=3,
    activation="relu",
    code_activation=None,
    batch_norm=False,
    name="encoder",
):
    """Image -> [pad] -> stride-2 Conv2D blocks -> Flatten -> Dense(latent_dim)."""
    input_shape = check_shape(input_shape, (3,), "an image (height, width, channels)")
    check_positive_int("latent_dim", latent_dim)
    filters = check_units("filters", filters, allow_empty=False)
    check_activation("activation", activation)
    check_activation("code_activation", code_activation)
    inputs = keras.Input(input_shape, name=f"{name}_input")
    x = conv_trunk(inputs, filters, kernel_size=kernel_size, activation=activation, batch_norm=batch_norm, name=name)
    code = layers.Dense(latent_dim, activation=code_activation, name="code")(x)
    return keras.Model(inputs, code, name=name)


@checked_arguments
def conv_decoder(
    latent_dim,
    output_shape,
    filters=(64, 32),
    kernel_size=3,
    activation="relu",
    output_activation="sigmoid",
    upsampling="transpose",
    batch_norm=False,
    name="decoder",
):
    """Code -> Dense -> Reshape(h, w, filters[0]) -> x2 upsampling blocks -> [crop].

    ``filters`` are listed in decoder order (widest first), the mirror of the encoder's: the
    code is reshaped to ``filters[0]`` channels, each block doubles height and width, and the
    last block outputs the image's channels.
    """
    output_shape = check_shape(output_shape, (3,), "an image (height, width, channels)")
    check_positive_int("latent_dim", latent_dim)
    filters = check_units("filters", filters, allow_empty=False)
    check_choice("upsampling", upsampling, ("transpose", "nearest", "bilinear"))
    check_activation("output_activation", output_activation)
    stride = 2 ** len(filters)
    pad_h, pad_w = same_padding(output_shape[0], stride), same_padding(output_shape[1], stride)
    h, w = (output_shape[0] + sum(pad_h)) // stride, (output_shape[1] + sum(pad_w)) // stride
    codes = keras.Input((latent_dim,), name=f"{name}_input")
    x = layers.Dense(h * w * filters[0], activation=activation, name="expand")(codes)
    x = layers.Reshape((h, w, filters[0]), name="reshape")(x)
    # Every block doubles the image; the last one outputs the image channels directly, so no
    # convolution runs at full resolution with many channels (the costliest layer by far).
    out_filters = tuple(filters[1:]) + (output_shape[-1],)
    for i, f in enumerate(out_filters):
        last = i == len(out_filters) - 1
        if upsampling == "transpose":
            x = layers.Conv2DTranspose(f, kernel_size, strides=2, padding="same", name=f"{name}_deconv_{i}")(x)
        else:
            x = layers.UpSampling2D(2, interpolation=upsampling, name=f"{name}_upsample_{i}")(x)
            x = layers.Conv2D(f, kernel_size, padding="same", name=f"{name}_conv_{i}")(x)
        if not last:
            if batch_norm:
                x = layers.BatchNormalization(name=f"{name}_bn_{i}")(x)
            x = layers.Activation(activation, name=f"{name}_act_{i}")(x)
    if any(pad_h + pad_w):
        x = layers.Cropping2D((pad_h, pad_w), name="crop")(x)
    # The output activation is the last layer, so a VAE can read the logits just before it.
    x = layers.Activation(output_activation, name="reconstruction")(x)
    return keras.Model(codes, x, name=name)


@checked_arguments
def conv_autoencoder(
    input_shape,
    latent_dim,
    filters=(32, 64),
    kernel_size=3,
    activation="relu",
    code_activation=None,
    output_activation="sigmoid",
    upsampling="transpose",
    batch_norm=False,
    name="conv_autoencoder",
):
    """A convolutional autoencoder (uncompiled), with sub-models "encoder" and "decoder".

    Args:
        input_shape: ``(height, width, channels)``, any positive sizes.
        latent_dim: size of the code (a flat vector).
        filters: filters of the encoder's stride-2 blocks; the decoder mirrors them. Each block
            halves the image, so ``(32, 64)`` takes 28x28 to 7x7 before the code.
        kernel_size: convolution kernel size.
        activation: activation of the hidden convolutions.
        code_activation: activation of the code layer (None = linear).
        output_activation: ``"sigmoid"`` for images in [0, 1], None for unbounded data.
        upsampling: ``"transpose"`` (Conv2DTranspose), ``"nearest"`` or ``"bilinear"``
            (UpSampling2D then Conv2D).
        batch_norm: batch normalisation after each hidden convolution (faster, steadier
            training with large learning rates).
    """
    input_shape = check_shape(input_shape, (3,), "an image (height, width, channels)")
    filters = check_units("filters", filters, allow_empty=False)
    shared = dict(kernel_size=kernel_size, activation=activation, batch_norm=batch_norm)
    encoder = conv_encoder(input_shape, latent_dim, filters=filters, code_activation=code_activation, **shared)
    decoder = conv_decoder(
        latent_dim, input_shape, filters=filters[::-1], output_activation=output_activation, upsampling=upsampling, **shared
    )
    return join(encoder, decoder, input_shape, name)
