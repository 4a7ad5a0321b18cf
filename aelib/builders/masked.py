"""Masked autoencoder (MAE, He et al. 2021): hide most of an image, predict what is missing.

Use it to learn features without labels (self-supervised pre-training) and to see how much of an
image its context determines. The image is cut into square patches; at each training step a
random ``mask_ratio`` of them (a different set for every image) is hidden. A Transformer encoder
sees only the visible patches (a linear embedding of their pixels plus a learned position
embedding); a light Transformer decoder gets the encoded visible patches and a shared, learned
"mask token" in place of each hidden one, and predicts the pixels of every patch. The loss is
the mean squared error on the hidden patches only,

    loss = mean over hidden patches p of  mean over pixels of (decoder(encoder(x_visible))_p - x_p)^2,

so copying the input earns nothing: the model must infer the hidden patches from their context.
With ``norm_pix_loss=True`` the target is each patch normalised to mean 0 and variance 1 (the
paper's choice for sharper features; the predictions are then in those units).

After training, the sub-model "encoder" is a feature extractor that sees the whole image: the
mean of its output tokens over all patches, shape (n, latent_dim). ``predict`` predicts every
patch from the others, under fixed masks that together hide each patch at least once
(deterministic; the loss never scores a patch the model sees, so a pass with nothing hidden
would return patches it was never trained to produce); :meth:`MaskedAutoencoder.reconstruct`
hides a random fraction you choose and returns what the model fills in, with the mask.

Example::

    mae = aelib.masked_autoencoder((28, 28, 1), latent_dim=64, patch_size=4, mask_ratio=0.75)
    mae.compile(optimizer="adam")
    mae.fit(x_train, epochs=10, batch_size=128)
    features = mae.get_layer("encoder").predict(x_test)          # (n, 64)
    filled, mask = mae.reconstruct(x_test[:8], mask_ratio=0.75, seed=0)
    shown = np.where(mask, filled, x_test[:8])                     # visible pixels pasted back
"""

import keras
import numpy as np
from keras import layers, ops

from ..checks import check_fraction, check_positive_int, check_shape, checked_arguments
from .base import LossTermsModel, batch_mean


def to_patches(images, patch_size):
    """(n, H, W, C) images -> (n, patches, patch_size**2 * C), patches in row-major order."""
    p, (h, w, c) = patch_size, images.shape[1:]
    x = ops.reshape(images, (-1, h // p, p, w // p, p, c))
    x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
    return ops.reshape(x, (-1, (h // p) * (w // p), p * p * c))


def from_patches(patches, patch_size, grid):
    """The inverse of :func:`to_patches`: (n, gh * gw, p * p * C) -> (n, gh * p, gw * p, C)."""
    p, (gh, gw) = patch_size, grid
    c = patches.shape[-1] // (p * p)
    x = ops.reshape(patches, (-1, gh, gw, p, p, c))
    x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
    return ops.reshape(x, (-1, gh * p, gw * p, c))


def masked_mse(images, prediction, mask, patch_size, norm_pix_loss=False):
    """Per example: (mean squared error over the hidden patches, the same over the visible ones).

    ``mask`` is 1/True for hidden patches, per patch (n, patches) or per pixel (n, H, W, 1), as
    :meth:`MaskedAutoencoder.reconstruct` returns it. With ``norm_pix_loss`` each target patch
    is normalised to mean 0, variance 1 first.
    """
    target = to_patches(ops.cast(images, "float32"), patch_size)
    pred = to_patches(ops.cast(prediction, "float32"), patch_size)
    if norm_pix_loss:
        mean, var = ops.mean(target, axis=-1, keepdims=True), ops.var(target, axis=-1, keepdims=True)
        target = (target - mean) / ops.sqrt(var + 1e-6)
    mask = ops.cast(mask, "float32")
    if len(mask.shape) > 2:  # a pixel mask: one value per patch
        mask = ops.max(to_patches(mask, patch_size), axis=-1)
    err = ops.mean(ops.square(pred - target), axis=-1)  # (n, patches)
    hidden = ops.sum(err * mask, axis=1) / ops.maximum(ops.sum(mask, axis=1), 1.0)
    visible = ops.sum(err * (1.0 - mask), axis=1) / ops.maximum(ops.sum(1.0 - mask, axis=1), 1.0)
    return hidden, visible


@keras.saving.register_keras_serializable(package="aelib")
class Patchify(keras.layers.Layer):
    """Images (n, H, W, C) -> a sequence of flattened patches (n, (H/p) * (W/p), p * p * C)."""

    def __init__(self, patch_size, **kwargs):
        super().__init__(**kwargs)
        self.patch_size = check_positive_int("patch_size", patch_size, example=4)

    def call(self, images):
        return to_patches(images, self.patch_size)

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        p = self.patch_size
        return (n, (h // p) * (w // p), p * p * c)

    def get_config(self):
        return {**super().get_config(), "patch_size": self.patch_size}


@keras.saving.register_keras_serializable(package="aelib")
class Unpatchify(keras.layers.Layer):
    """The inverse of :class:`Patchify`, for a grid of ``grid = (rows, columns)`` patches."""

    def __init__(self, patch_size, grid, **kwargs):
        super().__init__(**kwargs)
        self.patch_size = check_positive_int("patch_size", patch_size, example=4)
        self.grid = tuple(int(g) for g in grid)

    def call(self, patches):
        return from_patches(patches, self.patch_size, self.grid)

    def compute_output_shape(self, input_shape):
        p, (gh, gw) = self.patch_size, self.grid
        return (input_shape[0], gh * p, gw * p, input_shape[-1] // (p * p))

    def get_config(self):
        return {**super().get_config(), "patch_size": self.patch_size, "grid": list(self.grid)}


@keras.saving.register_keras_serializable(package="aelib")
class PositionEmbedding(keras.layers.Layer):
    """Adds a learned vector to each position of a (n, positions, dim) sequence."""

    def build(self, input_shape):
        self.embedding = self.add_weight(
            shape=tuple(input_shape[1:]), initializer=keras.initializers.RandomNormal(stddev=0.02), name="embedding"
        )

    def call(self, tokens):
        return tokens + ops.cast(self.embedding, tokens.dtype)[None]

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="aelib")
class MaskToken(keras.layers.Layer):
    """``[tokens (n, positions, dim), mask (n, positions)]`` -> the tokens, with one shared
    learned vector wherever ``mask`` is 1 (a hidden patch)."""

    def build(self, input_shape):
        self.token = self.add_weight(
            shape=(input_shape[0][-1],), initializer=keras.initializers.RandomNormal(stddev=0.02), name="token"
        )

    def call(self, inputs):
        tokens, mask = inputs
        mask = ops.cast(mask, tokens.dtype)[..., None]
        return tokens * (1.0 - mask) + ops.cast(self.token, tokens.dtype) * mask

    def compute_output_shape(self, input_shape):
        return input_shape[0]


def transformer_block(x, num_heads, mlp_dim, name):
    """Pre-norm Transformer block: x + attention(norm(x)), then x + MLP(norm(x))."""
    dim = x.shape[-1]
    h = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_norm_1")(x)
    h = layers.MultiHeadAttention(num_heads, dim // num_heads, name=f"{name}_attention")(h, h)
    x = layers.Add(name=f"{name}_add_1")([x, h])
    h = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_norm_2")(x)
    h = layers.Dense(mlp_dim, activation="gelu", name=f"{name}_mlp_1")(h)
    h = layers.Dense(dim, name=f"{name}_mlp_2")(h)
    return layers.Add(name=f"{name}_add_2")([x, h])


def hidden_count(mask_ratio, n_patches, name="mask_ratio"):
    """round(mask_ratio * n_patches), checked to leave at least one patch hidden and one visible."""
    check_fraction(name, mask_ratio, open_low=True, open_high=True)
    n_hidden = int(round(mask_ratio * n_patches))
    if not 1 <= n_hidden <= n_patches - 1:
        raise ValueError(
            f"{name}={mask_ratio} hides {n_hidden} of {n_patches} patches; at least one must be hidden and one "
            f"visible: use a ratio between {1.5 / n_patches:.3g} and {1 - 1.5 / n_patches:.3g}, e.g. 0.75."
        )
    return n_hidden


@keras.saving.register_keras_serializable(package="aelib")
class MaskedAutoencoder(LossTermsModel):
    """Patch embedding + Transformer encoder on the visible patches, Transformer decoder on all.

    ``fit``/``evaluate`` report ``loss`` (the mean squared error per pixel on the hidden
    patches, with a fresh random mask per image and step) and ``visible_mse`` (the same on the
    visible patches: a diagnostic; it stays high, since nothing trains the decoder's output on a
    patch it sees). ``predict`` (:meth:`call`) is deterministic and predicts every patch from its
    context, under fixed masks; the "encoder" sees every patch (no mask).

    The sub-model "encoder" holds "patch_embedding" (images -> position-embedded tokens) and
    "encoder_transformer" (tokens -> tokens, any number of them); the "decoder" takes
    ``[tokens (n, patches, latent_dim), mask (n, patches)]`` and returns images.
    """

    term_names = ("loss", "visible_mse")

    def __init__(self, encoder, decoder, patch_size, mask_ratio=0.75, norm_pix_loss=False, seed=None, **kwargs):
        super().__init__(encoder, decoder, **kwargs)
        self.patch_size = check_positive_int("patch_size", patch_size, example=4)
        self.n_patches = int(decoder.inputs[0].shape[1])
        self.n_hidden = hidden_count(mask_ratio, self.n_patches)
        self.mask_ratio, self.norm_pix_loss, self.seed = float(mask_ratio), bool(norm_pix_loss), seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    @property
    def patch_embedding(self):
        return self.encoder.get_layer("patch_embedding")

    @property
    def transformer(self):
        return self.encoder.get_layer("encoder_transformer")

    def call(self, inputs, training=False):
        """Every patch predicted from the others: the images go through the masked forward pass
        under fixed masks (the same for every image and call) that hide ``n_hidden`` patches
        each and together hide every patch at least once; each patch's prediction is the mean
        over the passes that hid it. Deterministic, and what the model was trained to do (it is
        never trained to reproduce a patch it sees)."""
        n = ops.shape(inputs)[0]
        total = count = 0.0
        for noise in self._fixed_masks():
            noise = ops.broadcast_to(ops.convert_to_tensor(noise[None]), (n, self.n_patches))
            prediction, mask = self.masked_forward(inputs, noise, self.n_hidden, training=training)
            total = total + to_patches(prediction, self.patch_size) * mask[..., None]
            count = count + mask[..., None]
        grid = (inputs.shape[1] // self.patch_size, inputs.shape[2] // self.patch_size)
        return from_patches(total / count, self.patch_size, grid)

    def _fixed_masks(self):
        """ceil(patches / n_hidden) masks (1 = hidden) that hide consecutive runs of a fixed
        permutation of the patches, wrapping around, so that every patch is hidden at least once."""
        order = np.random.default_rng(0).permutation(self.n_patches)
        masks = []
        for start in range(0, self.n_patches, self.n_hidden):
            mask = np.zeros(self.n_patches, "float32")
            mask[order[(start + np.arange(self.n_hidden)) % self.n_patches]] = 1.0
            masks.append(mask)
        return masks

    def masked_forward(self, images, noise, n_hidden, training=False):
        """Hide, in each image, the ``n_hidden`` patches with the largest ``noise`` (n, patches);
        encode the others, decode all. Returns (prediction, mask), mask 1 on hidden patches."""
        tokens = self.patch_embedding(images, training=training)  # (n, patches, dim)
        order = ops.argsort(noise, axis=1)  # patches by increasing noise: the first n_visible are seen
        select = ops.one_hot(order[:, : self.n_patches - n_hidden], self.n_patches, dtype=tokens.dtype)
        encoded = self.transformer(ops.matmul(select, tokens), training=training)  # (n, visible, dim) only
        # back in patch order (the transposed selection), zeros where hidden: the decoder's mask token goes there
        full = ops.matmul(ops.transpose(select, (0, 2, 1)), encoded)
        mask = 1.0 - ops.cast(ops.sum(select, axis=1), "float32")
        return self.decoder([full, mask], training=training), mask

    def loss_terms(self, x, sample_weight=None, training=False):
        noise = keras.random.uniform((ops.shape(x)[0], self.n_patches), seed=self.seed_generator)
        prediction, mask = self.masked_forward(x, noise, self.n_hidden, training=training)
        hidden, visible = masked_mse(x, prediction, mask, self.patch_size, self.norm_pix_loss)
        return {"loss": batch_mean(hidden, sample_weight), "visible_mse": batch_mean(visible, sample_weight)}

    # ---- for notebooks -------------------------------------------------------------------
    def reconstruct(self, images, mask_ratio=None, seed=0, batch_size=256):
        """Hide a random ``mask_ratio`` of the patches of each image (default: the training
        ratio; ``seed`` fixes which) and predict them. Returns ``(reconstruction, mask)``:
        the decoder's output for every patch, shape of ``images``, and a boolean pixel mask
        (n, H, W, 1), True where hidden; ``np.where(mask, reconstruction, images)`` pastes the
        visible pixels back. (With ``norm_pix_loss`` the predictions are normalised patches.)"""
        n_hidden = self.n_hidden if mask_ratio is None else hidden_count(mask_ratio, self.n_patches)
        images = np.asarray(images, "float32")
        noise = np.random.default_rng(seed).random((len(images), self.n_patches)).astype("float32")
        preds, masks = [], []
        for s in range(0, len(images), batch_size):
            pred, mask = self.masked_forward(images[s : s + batch_size], noise[s : s + batch_size], n_hidden)
            preds.append(ops.convert_to_numpy(pred))
            masks.append(ops.convert_to_numpy(mask))
        mask = np.concatenate(masks).astype(bool)  # (n, patches)
        p, (h, w) = self.patch_size, images.shape[1:3]
        mask = mask.reshape(-1, h // p, w // p).repeat(p, axis=1).repeat(p, axis=2)[..., None]
        return np.concatenate(preds), mask

    def encode_tokens(self, x, batch_size=256):
        """The encoder's output token of every patch, nothing hidden: (n, patches, latent_dim)."""
        tokens = keras.Model(self.encoder.inputs, self.encoder.get_layer("features").input)
        return tokens.predict(x, batch_size=batch_size, verbose=0)

    def get_config(self):
        return {
            **super().get_config(),
            "patch_size": self.patch_size,
            "mask_ratio": self.mask_ratio,
            "norm_pix_loss": self.norm_pix_loss,
            "seed": self.seed,
        }


@checked_arguments
def masked_autoencoder(
    input_shape,
    latent_dim,
    patch_size=4,
    mask_ratio=0.75,
    depth=3,
    num_heads=4,
    mlp_ratio=2,
    decoder_dim=64,
    decoder_depth=1,
    decoder_heads=4,
    norm_pix_loss=False,
    seed=None,
    name="masked_autoencoder",
):
    """A masked autoencoder (uncompiled; compile with just an optimizer), sub-models "encoder"
    (images -> features (n, latent_dim), every patch seen) and "decoder" (``[tokens, mask]`` ->
    images).

    Args:
        input_shape: ``(height, width, channels)``, both sides multiples of ``patch_size``.
        latent_dim: width of the encoder's tokens, and so of the features (a multiple of
            ``num_heads``), e.g. 64.
        patch_size: side of the square patches (4 cuts 28x28 into 7x7 = 49 patches).
        mask_ratio: fraction of the patches hidden per image in training, in (0, 1); the
            paper's 0.75 works on small images too.
        depth, num_heads, mlp_ratio: the encoder's Transformer blocks, attention heads, and
            MLP width as a multiple of ``latent_dim``.
        decoder_dim, decoder_depth, decoder_heads: the (lighter) decoder's width, blocks and
            heads.
        norm_pix_loss: compute the loss on per-patch normalised pixels.
        seed: seed of the random masks.
    """
    input_shape = check_shape(input_shape, (3,), "an image (height, width, channels)")
    check_positive_int("latent_dim", latent_dim, example=64)
    patch_size = check_positive_int("patch_size", patch_size, example=4)
    height, width, channels = input_shape
    if height % patch_size or width % patch_size:
        divisors = [p for p in range(1, min(height, width) + 1) if height % p == 0 and width % p == 0]
        raise ValueError(
            f"patch_size={patch_size} does not divide the image sides {height}x{width}; use one of {divisors}, "
            "or pad or crop the images to a multiple of it."
        )
    grid = (height // patch_size, width // patch_size)
    hidden_count(mask_ratio, grid[0] * grid[1])
    for key, value in (
        ("depth", depth),
        ("mlp_ratio", mlp_ratio),
        ("decoder_dim", decoder_dim),
        ("decoder_depth", decoder_depth),
    ):
        check_positive_int(key, value, example=2)
    for key, heads, dim, dim_name in (
        ("num_heads", num_heads, latent_dim, "latent_dim"),
        ("decoder_heads", decoder_heads, decoder_dim, "decoder_dim"),
    ):
        check_positive_int(key, heads, example=4)
        if dim % heads:
            raise ValueError(
                f"{key}={heads} must divide {dim_name}={dim} (each head gets {dim_name} / {key} dimensions), e.g. {key}=4 with {dim_name}=64."
            )

    images = keras.Input(input_shape, name="encoder_input")
    tokens = layers.Dense(latent_dim, name="patch_projection")(Patchify(patch_size, name="patches")(images))
    embed = keras.Model(images, PositionEmbedding(name="position_embedding")(tokens), name="patch_embedding")

    sequence = keras.Input((None, latent_dim), name="tokens")  # any number of (visible) tokens
    x = sequence
    for i in range(depth):
        x = transformer_block(x, num_heads, mlp_ratio * latent_dim, name=f"encoder_block_{i}")
    transformer = keras.Model(
        sequence, layers.LayerNormalization(epsilon=1e-6, name="encoder_norm")(x), name="encoder_transformer"
    )
    features = layers.GlobalAveragePooling1D(name="features")(transformer(embed(images)))
    encoder = keras.Model(images, features, name="encoder")

    n_patches = grid[0] * grid[1]
    tokens = keras.Input((n_patches, latent_dim), name="decoder_tokens")
    mask = keras.Input((n_patches,), name="decoder_mask")
    x = layers.Dense(decoder_dim, name="decoder_projection")(tokens)
    x = PositionEmbedding(name="decoder_position_embedding")(MaskToken(name="mask_token")([x, mask]))
    for i in range(decoder_depth):
        x = transformer_block(x, decoder_heads, mlp_ratio * decoder_dim, name=f"decoder_block_{i}")
    x = layers.LayerNormalization(epsilon=1e-6, name="decoder_norm")(x)
    x = layers.Dense(patch_size * patch_size * channels, name="patch_pixels")(x)
    decoder = keras.Model([tokens, mask], Unpatchify(patch_size, grid, name="reconstruction")(x), name="decoder")

    model = MaskedAutoencoder(
        encoder, decoder, patch_size, mask_ratio=mask_ratio, norm_pix_loss=norm_pix_loss, seed=seed, name=name
    )
    model.build((None,) + input_shape)
    return model
