"""Corrupting images: one list of kinds, as a Keras layer (for training) and on NumPy arrays.

The four kinds, with what ``amount`` means for each:

- ``"gaussian"``: add N(0, amount^2) noise;
- ``"salt_and_pepper"``: set a fraction ``amount`` of values to 0 or 1 (half each on average);
- ``"masking"``: set a fraction ``amount`` of values to 0 (the masking noise of Vincent et al.
  2010);
- ``"block"``: blank a square of side ``amount`` pixels per image (inpainting).

:class:`Corruption` is the layer a denoising autoencoder trains behind: active in training only,
written with ``keras.ops`` and ``keras.random`` so it runs on every backend. It is defined, with
:data:`CORRUPTIONS`, :func:`block_mask` and the check of ``amount``, in the stand-alone
``aelib/builders/denoising.py`` and imported here. :func:`corrupt` and the four functions it
dispatches to do the same to NumPy arrays, seeded, never modifying their input: for test sets and
figures. Both draw blocks with :func:`block_mask`.
"""

import numpy as np
from keras import ops

from .builders.denoising import CORRUPTIONS, Corruption, block_mask
from .builders.denoising import check_amount as _check_amount
from .checks import check_positive_int

__all__ = [
    "CORRUPTIONS",
    "Corruption",
    "block_mask",
    "corrupt",
    "add_gaussian_noise",
    "add_salt_and_pepper",
    "mask_pixels",
    "mask_blocks",
]


# ---- the same on NumPy arrays ------------------------------------------------------------------
def _rng(seed):
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def add_gaussian_noise(x, std=0.3, seed=0, clip=True):
    """``x`` plus N(0, std^2) noise, clipped to [0, 1] by default. ``x`` is left untouched."""
    _check_amount("gaussian", std)
    x = np.asarray(x, dtype=np.float32)
    noisy = x + _rng(seed).normal(0.0, std, size=x.shape).astype(np.float32)
    return np.clip(noisy, 0.0, 1.0) if clip else noisy


def add_salt_and_pepper(x, amount=0.2, seed=0, low=0.0, high=1.0):
    """Set a fraction ``amount`` of values to ``low`` or ``high`` (half each, on average)."""
    _check_amount("salt_and_pepper", amount)
    x = np.asarray(x, dtype=np.float32)
    u = _rng(seed).random(x.shape)
    return np.where(u < amount / 2, np.float32(low), np.where(u < amount, np.float32(high), x))


def mask_pixels(x, fraction=0.25, seed=0, fill=0.0):
    """Set a random ``fraction`` of the values to ``fill`` (masking noise, Vincent et al. 2010)."""
    _check_amount("masking", fraction)
    x = np.asarray(x, dtype=np.float32)
    return np.where(_rng(seed).random(x.shape) < fraction, np.float32(fill), x)


def mask_blocks(x, block_size=8, n_blocks=1, seed=0, fill=0.0, return_mask=False):
    """Blank ``n_blocks`` random square blocks of side ``block_size`` in each image.

    ``x`` has shape ``(n, height, width[, channels])``. With ``return_mask=True`` also returns a
    boolean array, True where pixels were blanked (for inpainting metrics).
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim < 3:
        raise ValueError(f"mask_blocks needs images (n, height, width[, channels]), got {x.shape}.")
    h, w = x.shape[1:3]
    if not 0 < block_size <= min(h, w):
        raise ValueError(f"block_size must be in 1..{min(h, w)} for {h}x{w} images, got {block_size}.")
    check_positive_int("n_blocks", n_blocks, example=1)
    rng = _rng(seed)
    rows = rng.integers(0, h - block_size + 1, size=(len(x), n_blocks))
    cols = rng.integers(0, w - block_size + 1, size=(len(x), n_blocks))
    mask = ops.convert_to_numpy(block_mask(rows, cols, h, w, block_size)).astype(bool)
    mask = np.broadcast_to(mask.reshape(mask.shape + (1,) * (x.ndim - 3)), x.shape)
    out = np.where(mask, np.float32(fill), x)
    return (out, mask.copy()) if return_mask else out


def corrupt(x, kind="gaussian", amount=0.3, seed=0):
    """One of the :data:`CORRUPTIONS` applied to a NumPy array, as :class:`Corruption` does in
    training (``"block"``: one square per image). The input is never modified."""
    _check_amount(kind, amount)
    if kind == "gaussian":
        return add_gaussian_noise(x, std=amount, seed=seed)
    if kind == "salt_and_pepper":
        return add_salt_and_pepper(x, amount=amount, seed=seed)
    if kind == "masking":
        return mask_pixels(x, fraction=amount, seed=seed)
    return mask_blocks(x, block_size=int(amount), seed=seed)
