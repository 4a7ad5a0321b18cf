"""Denoising autoencoder: corrupt the input in training, reconstruct the clean original.

Use it to remove noise or fill in missing pixels, and as a way to make an over-complete
autoencoder learn useful features (it can no longer just copy its input). The corruption is a
layer active only in training, so ``fit(x, x)`` is all it takes: the model sees a fresh noisy
copy of every image at every step and is scored against the clean one; at ``predict`` time the
input goes through untouched.

Example::

    dae = aelib.denoising_autoencoder((28, 28, 1), latent_dim=64, noise="gaussian", noise_level=0.3)
    dae.compile(optimizer="adam", loss="mse")
    dae.fit(x_train, x_train, epochs=10)
    clean = dae.predict(aelib.add_gaussian_noise(x_test, 0.3))
"""

import inspect

from ..checks import check_choice, check_keywords, check_shape, checked_arguments
from ..layers import CORRUPTIONS, Corruption
from .base import join
from .conv import conv_decoder, conv_encoder
from .dense import dense_decoder, dense_encoder

PARTS = {"conv": (conv_encoder, conv_decoder), "dense": (dense_encoder, dense_decoder)}


def _options(builder):
    """Keyword options of an encoder or decoder builder (everything after its two shapes)."""
    return [n for n in inspect.signature(builder).parameters if n not in ("input_shape", "output_shape", "latent_dim", "name")]


@checked_arguments
def denoising_autoencoder(
    input_shape,
    latent_dim,
    noise="gaussian",
    noise_level=0.3,
    architecture="conv",
    clip=True,
    seed=None,
    name="denoising_autoencoder",
    **kwargs,
):
    """A dense or convolutional autoencoder behind a training-only corruption layer.

    Args:
        input_shape: ``(height, width, channels)`` for ``architecture="conv"``; ``(features,)``
            or an image shape for ``"dense"``.
        latent_dim: size of the code.
        noise: ``"gaussian"``, ``"salt_and_pepper"``, ``"masking"`` (a random fraction of
            values set to 0) or ``"block"`` (a square block blanked: inpainting).
        noise_level: std for gaussian, fraction for salt-and-pepper and masking, block side in
            pixels for block.
        architecture: ``"conv"`` or ``"dense"``.
        clip: clip corrupted inputs to [0, 1].
        seed: seed of the corruption's random stream.
        **kwargs: options of :func:`conv_encoder`/:func:`conv_decoder` or
            :func:`dense_encoder`/:func:`dense_decoder` (``filters``, ``hidden_units``,
            ``activation``, ...), given in encoder order; the decoder mirrors the layer sizes.
    """
    check_choice("noise", noise, CORRUPTIONS)
    check_choice("architecture", architecture, tuple(PARTS))
    ranks = (3,) if architecture == "conv" else (1, 2, 3)
    input_shape = check_shape(
        input_shape, ranks, "an image (height, width, channels)" if architecture == "conv" else "(features,) or an image"
    )
    make_encoder, make_decoder = PARTS[architecture]
    enc_keys, dec_keys = _options(make_encoder), _options(make_decoder)
    check_keywords(f"denoising_autoencoder(architecture={architecture!r})", kwargs, list(dict.fromkeys(enc_keys + dec_keys)))
    enc_kwargs = {k: v for k, v in kwargs.items() if k in enc_keys}
    dec_kwargs = {k: v for k, v in kwargs.items() if k in dec_keys}
    for key in ("filters", "hidden_units"):  # the decoder mirrors the encoder's layer sizes
        if key in dec_kwargs:
            dec_kwargs[key] = tuple(dec_kwargs[key])[::-1]
    encoder = make_encoder(input_shape, latent_dim, **enc_kwargs)
    decoder = make_decoder(latent_dim, input_shape, **dec_kwargs)
    corruption = Corruption(noise, noise_level, clip=clip, seed=seed, name="corruption")
    return join(encoder, decoder, input_shape, name, corruption=corruption)
