"""Vector-quantised autoencoder (VQ-VAE, van den Oord et al. 2017): a code made of symbols.

Use it when the code should be discrete: a small grid of integers, each an index into a learned
codebook of ``num_embeddings`` vectors, which can be counted, stored in a few bytes, or modelled
by a second model (an autoregressive prior over the grid generates new images). A conv encoder
maps an image to a grid of vectors z_e (size ``latent_dim`` each); every vector is replaced by
its nearest codebook entry e_k, and a conv decoder rebuilds the image from the grid of e_k. The
loss per image is

    loss = ||x - decoder(e)||^2 + ||sg[z_e] - e||^2 + commitment_cost * ||z_e - sg[e]||^2

(means over pixels and over the grid; sg = stop gradient). The nearest-neighbour step has no
gradient, so the decoder's gradient is copied straight through to the encoder. The second term
(the codebook loss) moves the entries towards the encoder outputs; with ``ema=True`` it is
replaced by exponential moving averages of the vectors assigned to each entry (the paper's
appendix), which learns faster and needs no gradient. Entries that no vector picks are "dead";
:meth:`VQVAE.reset_dead_codes` moves them onto encoder outputs.

Example::

    vq = aelib.vq_autoencoder((28, 28, 1), latent_dim=16, num_embeddings=128)
    vq.compile(optimizer="adam")
    vq.fit(x_train, epochs=10, batch_size=128)        # loss, reconstruction_loss, vq_loss, perplexity, usage
    codes = vq.encode_indices(x_test)                 # (n, 7, 7) integers in 0..127
    images = vq.decode_indices(codes)
"""

import keras
import numpy as np
from keras import layers, ops

from ..checks import (
    check_activation,
    check_fraction,
    check_positive_int,
    check_range,
    check_shape,
    check_units,
    checked_arguments,
)
from .base import LossTermsModel, batch_mean
from .conv import conv_stack, same_padding


def check_ema(ema):
    if not isinstance(ema, (bool, np.bool_)):
        raise ValueError(f"ema={ema!r} must be True (codebook by moving averages) or False (by the codebook loss).")
    return bool(ema)


@keras.saving.register_keras_serializable(package="aelib")
class VectorQuantizer(keras.layers.Layer):
    """Replaces each vector (the last axis, of size ``embedding_dim``) by its nearest entry of a
    codebook of ``num_embeddings`` vectors, with a straight-through gradient.

    ``call(z)`` returns ``z + stop_gradient(e - z)``: the codebook vectors e in the forward
    pass, the identity in the backward pass. With ``ema=True``, ``call(z, training=True)`` (and
    :meth:`update_ema`) also moves each used entry towards the mean of the vectors assigned to
    it: N_k <- decay N_k + (1 - decay) n_k, S_k <- decay S_k + (1 - decay) sum_k, e_k = S_k / N_k;
    an entry that nobody picks keeps its vector. Without EMA the codebook is a trainable weight,
    learned through the codebook term of :meth:`losses_for`.

    Args:
        num_embeddings: size K of the codebook.
        embedding_dim: size D of each vector (the encoder's output channels).
        commitment_cost: weight beta of the commitment term (0.25 in the paper).
        ema: update the codebook by moving averages (True) or by the codebook loss (False).
        decay: the moving averages' decay (with ``ema=True``).
    """

    def __init__(self, num_embeddings, embedding_dim, commitment_cost=0.25, ema=True, decay=0.99, **kwargs):
        super().__init__(**kwargs)
        self.num_embeddings = check_positive_int("num_embeddings", num_embeddings, example=128)
        self.embedding_dim = check_positive_int("embedding_dim (latent_dim)", embedding_dim, example=16)
        self.commitment_cost = float(check_range("commitment_cost", commitment_cost, 0.0))
        self.ema = check_ema(ema)
        self.decay = float(check_fraction("decay", decay, open_low=True, open_high=True))

    def build(self, input_shape):
        if input_shape[-1] != self.embedding_dim:
            raise ValueError(f"VectorQuantizer(embedding_dim={self.embedding_dim}) got vectors of size {input_shape[-1]}.")
        k, d = self.num_embeddings, self.embedding_dim
        init = keras.initializers.RandomUniform(-1.0 / k, 1.0 / k)  # as in the paper's code; entries start near 0
        # Under tf.distribute each replica updates the averages from its own batch; "mean" averages them.
        aggregation = "mean" if self.ema else "none"
        self.codebook = self.add_weight(
            shape=(k, d), initializer=init, trainable=not self.ema, aggregation=aggregation, name="codebook"
        )
        if self.ema:  # moving averages of the counts N_k (1 to start) and sums S_k (= the codebook)
            self.ema_count = self.add_weight(
                shape=(k,), initializer="ones", trainable=False, aggregation="mean", name="ema_count"
            )
            self.ema_sum = self.add_weight(shape=(k, d), initializer="zeros", trainable=False, aggregation="mean", name="ema_sum")
            self.ema_sum.assign(ops.copy(self.codebook))  # a copy: JAX must not see one buffer twice

    # ---- the quantisation ------------------------------------------------------------------
    def nearest(self, z):
        """Index of the nearest codebook entry of every vector: int32, shape ``z.shape[:-1]``."""
        flat = ops.stop_gradient(ops.reshape(ops.cast(z, "float32"), (-1, self.embedding_dim)))
        codebook = ops.cast(ops.convert_to_tensor(self.codebook), "float32")
        distances = (  # ||z||^2 - 2 z.e + ||e||^2, without forming every difference
            ops.sum(ops.square(flat), axis=1, keepdims=True)
            - 2.0 * ops.matmul(flat, ops.transpose(codebook))
            + ops.sum(ops.square(codebook), axis=1)[None, :]
        )
        indices = ops.cast(ops.argmin(distances, axis=1), "int32")
        return ops.reshape(indices, ops.shape(z)[:-1])

    def lookup(self, indices):
        """The codebook vectors of integer ``indices`` (any shape): shape ``indices.shape + (D,)``."""
        return ops.take(ops.convert_to_tensor(self.codebook), ops.cast(indices, "int32"), axis=0)

    def call(self, inputs, training=False):
        indices = self.nearest(inputs)
        if training and self.ema:
            self.update_ema(inputs, indices)
        return straight_through(inputs, self.lookup(indices))

    def compute_output_shape(self, input_shape):
        return input_shape

    def losses_for(self, z, e):
        """Per example: (codebook loss ||sg[z] - e||^2, commitment loss ||z - sg[e]||^2), means over
        the grid and the vector. The codebook loss is 0 with ``ema=True`` (the averages do its job)."""
        z, e = ops.cast(z, "float32"), ops.cast(e, "float32")
        axes = tuple(range(1, len(z.shape)))
        commitment = ops.mean(ops.square(z - ops.stop_gradient(e)), axis=axes)
        if self.ema:
            return ops.zeros_like(commitment), commitment
        return ops.mean(ops.square(ops.stop_gradient(z) - e), axis=axes), commitment

    def update_ema(self, z, indices, weights=None):
        """One moving-average step of the codebook towards the vectors ``z`` assigned to each entry
        (``weights``: one per vector, e.g. the sample weights, or None)."""
        flat = ops.stop_gradient(ops.reshape(ops.cast(z, "float32"), (-1, self.embedding_dim)))
        one_hot = ops.one_hot(ops.reshape(indices, (-1,)), self.num_embeddings, dtype="float32")  # (M, K)
        if weights is not None:
            one_hot = one_hot * ops.reshape(ops.cast(weights, "float32"), (-1, 1))
        old_count, old_sum, old_codebook = (ops.convert_to_tensor(v) for v in (self.ema_count, self.ema_sum, self.codebook))
        count = self.decay * old_count + (1.0 - self.decay) * ops.sum(one_hot, axis=0)
        total = self.decay * old_sum + (1.0 - self.decay) * ops.matmul(ops.transpose(one_hot), flat)
        # e_k = S_k / N_k; an entry never picked decays in N_k and S_k alike and keeps its vector,
        # until N_k underflows, after which it is left as it is.
        alive = count[:, None] > 1e-20
        codebook = ops.where(alive, total / ops.maximum(count, 1e-20)[:, None], old_codebook)
        self.ema_count.assign(count)
        self.ema_sum.assign(total)
        self.codebook.assign(codebook)

    def set_entries(self, indices, vectors):
        """Overwrite codebook entries ``indices`` with ``vectors`` (NumPy), and their moving averages."""
        indices = np.asarray(indices, "int64")
        codebook = ops.convert_to_numpy(self.codebook).copy()
        codebook[indices] = vectors
        self.codebook.assign(codebook)
        if self.ema:
            count = ops.convert_to_numpy(self.ema_count).copy()
            count[indices] = 1.0
            self.ema_count.assign(count)
            self.ema_sum.assign(codebook * count[:, None])

    def get_config(self):
        return {
            **super().get_config(),
            "num_embeddings": self.num_embeddings,
            "embedding_dim": self.embedding_dim,
            "commitment_cost": self.commitment_cost,
            "ema": self.ema,
            "decay": self.decay,
        }


def straight_through(z, e):
    """``e`` in the forward pass, the identity ``dz`` in the backward pass: ``z + sg[e - z]``."""
    return z + ops.stop_gradient(ops.cast(e, z.dtype) - z)


def code_statistics(indices, num_embeddings, weights=None):
    """(perplexity, usage) of the codes ``indices``: ``exp(entropy)`` of how often each entry is
    used (K if all are used equally, 1 if one entry takes everything) and the fraction of
    entries used at least once; ``weights`` counts each index that many times."""
    counts = ops.one_hot(ops.reshape(indices, (-1,)), num_embeddings, dtype="float32")
    if weights is not None:
        counts = counts * ops.reshape(ops.cast(weights, "float32"), (-1, 1))
    counts = ops.sum(counts, axis=0)
    p = counts / ops.maximum(ops.sum(counts), 1e-12)
    entropy = -ops.sum(p * ops.log(ops.maximum(p, 1e-12)))
    return ops.exp(entropy), ops.mean(ops.cast(counts > 0, "float32"))


@keras.saving.register_keras_serializable(package="aelib")
class VQVAE(LossTermsModel):
    """Encoder -> :class:`VectorQuantizer` -> decoder, with the VQ-VAE loss built in.

    ``fit``/``evaluate`` report ``loss`` (= reconstruction_loss + vq_loss), ``reconstruction_loss``
    (mean squared error per pixel), ``vq_loss`` (codebook term, if not EMA, plus
    commitment_cost x commitment term), ``perplexity`` (exp of the entropy of the codes used in
    the batch) and ``usage`` (fraction of the codebook used in the batch), the last two averaged
    over batches. ``predict`` is deterministic: nearest entries, no update. ``sample_weight``
    weighs every term, the code statistics and the EMA updates.
    """

    submodels = ("encoder", "quantizer", "decoder")
    term_names = ("loss", "reconstruction_loss", "vq_loss", "perplexity", "usage")

    def __init__(self, encoder, quantizer, decoder, **kwargs):
        super().__init__(encoder, decoder, **kwargs)
        if not isinstance(quantizer, VectorQuantizer):
            raise ValueError(f"quantizer must be an aelib.VectorQuantizer, not {type(quantizer).__name__}.")
        self.quantizer = quantizer

    def call(self, inputs, training=False):
        return self.decoder(self.quantizer(self.encoder(inputs, training=training)), training=training)

    def loss_terms(self, x, sample_weight=None, training=False):
        z = self.encoder(x, training=training)
        indices = self.quantizer.nearest(z)
        e = self.quantizer.lookup(indices)
        weights = None
        if sample_weight is not None:  # one weight per grid position, for the code statistics and EMA
            weights = ops.reshape(ops.cast(sample_weight, "float32"), (-1,) + (1,) * (len(indices.shape) - 1))
            weights = ops.broadcast_to(weights, ops.shape(indices))
        codebook_loss, commitment = self.quantizer.losses_for(z, e)
        if training and self.quantizer.ema:
            self.quantizer.update_ema(z, indices, weights)
        output = self.decoder(straight_through(z, e), training=training)
        axes = tuple(range(1, len(output.shape)))
        rec = ops.mean(ops.square(ops.cast(x, "float32") - ops.cast(output, "float32")), axis=axes)
        rec = batch_mean(rec, sample_weight)
        vq = batch_mean(codebook_loss + self.quantizer.commitment_cost * commitment, sample_weight)
        perplexity, usage = code_statistics(indices, self.quantizer.num_embeddings, weights)
        return {"loss": rec + vq, "reconstruction_loss": rec, "vq_loss": vq, "perplexity": perplexity, "usage": usage}

    # ---- codes -----------------------------------------------------------------------------
    def _nearest(self, z, chunk=4096):
        """Nearest entries of encoder outputs ``z`` (NumPy), a chunk of vectors at a time (the
        last one padded, so that every call has the same shape and JAX compiles it once)."""
        flat = z.reshape(-1, self.quantizer.embedding_dim)
        flat = np.concatenate([flat, np.zeros((-len(flat) % chunk, flat.shape[1]), flat.dtype)])
        parts = [ops.convert_to_numpy(self.quantizer.nearest(flat[s : s + chunk])) for s in range(0, len(flat), chunk)]
        return np.concatenate(parts)[: np.prod(z.shape[:-1], dtype=int)].reshape(z.shape[:-1]).astype("int32")

    def encode_indices(self, x, batch_size=256):
        """The grid of codebook indices of each image: NumPy int32, shape (n, h, w)."""
        return self._nearest(self.encoder.predict(x, batch_size=batch_size, verbose=0))

    def decode_indices(self, indices, batch_size=256):
        """Images from grids of codebook indices (n, h, w), e.g. from :meth:`encode_indices`."""
        indices = np.asarray(indices)
        if indices.size and (indices.min() < 0 or indices.max() >= self.quantizer.num_embeddings):
            raise ValueError(f"indices must be in 0..{self.quantizer.num_embeddings - 1}; got {indices.min()}..{indices.max()}.")
        vectors = ops.convert_to_numpy(self.quantizer.lookup(indices))
        return self.decoder.predict(vectors, batch_size=batch_size, verbose=0)

    def code_usage(self, x, batch_size=256):
        """How many times each codebook entry is picked over the images ``x``: shape (K,)."""
        return np.bincount(self.encode_indices(x, batch_size).ravel(), minlength=self.quantizer.num_embeddings)

    def reset_dead_codes(self, x, min_count=1, batch_size=256, seed=0):
        """Move every codebook entry picked fewer than ``min_count`` times over ``x`` onto a
        randomly chosen encoder output of ``x`` (different ones where there are enough), so that
        it is used again. Call it between epochs (a callback's ``on_epoch_end``) or between
        ``fit`` calls. Returns the indices of the entries moved."""
        check_positive_int("min_count", min_count, example=1)
        z = self.encoder.predict(x, batch_size=batch_size, verbose=0)
        counts = np.bincount(self._nearest(z).ravel(), minlength=self.quantizer.num_embeddings)
        z = z.reshape(-1, self.quantizer.embedding_dim)
        dead = np.flatnonzero(counts < min_count)
        if len(dead):
            rng = np.random.default_rng(seed)
            rows = rng.choice(len(z), size=len(dead), replace=len(dead) > len(z))
            self.quantizer.set_entries(dead, z[rows])
        return dead


def vq_encoder(input_shape, latent_dim, filters=(32, 64), activation="relu", name="encoder"):
    """Image -> [pad] -> stride-2 Conv2D blocks -> 1x1 Conv2D(latent_dim): a grid of vectors."""
    stride = 2 ** len(filters)
    pad_h, pad_w = same_padding(input_shape[0], stride), same_padding(input_shape[1], stride)
    inputs = keras.Input(input_shape, name=f"{name}_input")
    x = layers.ZeroPadding2D((pad_h, pad_w), name="pad")(inputs) if any(pad_h + pad_w) else inputs
    x = conv_stack(x, filters, activation=activation, name=f"{name}_conv")
    x = layers.Conv2D(filters[-1], 3, padding="same", activation=activation, name=f"{name}_conv_last")(x)
    return keras.Model(inputs, layers.Conv2D(latent_dim, 1, name="pre_quantization")(x), name=name)


def vq_decoder(grid_shape, output_shape, filters=(64, 32), activation="relu", output_activation="sigmoid", name="decoder"):
    """Grid of vectors -> Conv2D -> x2 transposed-conv blocks -> [crop] -> the image."""
    stride = 2 ** len(filters)
    pad_h, pad_w = same_padding(output_shape[0], stride), same_padding(output_shape[1], stride)
    codes = keras.Input(grid_shape, name=f"{name}_input")
    x = layers.Conv2D(filters[0], 3, padding="same", activation=activation, name=f"{name}_conv_first")(codes)
    out_filters = tuple(filters[1:]) + (output_shape[-1],)
    for i, f in enumerate(out_filters):
        last = i == len(out_filters) - 1
        x = layers.Conv2DTranspose(
            f, 3, strides=2, padding="same", activation=None if last else activation, name=f"{name}_deconv_{i}"
        )(x)
    if any(pad_h + pad_w):
        x = layers.Cropping2D((pad_h, pad_w), name="crop")(x)
    return keras.Model(codes, layers.Activation(output_activation, name="reconstruction")(x), name=name)


@checked_arguments
def vq_autoencoder(
    input_shape,
    latent_dim,
    num_embeddings=128,
    filters=(32, 64),
    activation="relu",
    commitment_cost=0.25,
    ema=True,
    decay=0.99,
    output_activation="sigmoid",
    name="vq_autoencoder",
):
    """A VQ-VAE (uncompiled; compile with just an optimizer), with sub-models "encoder" (image ->
    grid of ``latent_dim``-vectors), "quantizer" (:class:`VectorQuantizer`) and "decoder"
    (grid of codebook vectors -> image).

    Args:
        input_shape: ``(height, width, channels)``; sides that are not a multiple of
            ``2 ** len(filters)`` are padded and cropped. 28x28 with two blocks gives a 7x7 grid.
        latent_dim: size of each codebook vector (and of the encoder's output channels).
        num_embeddings: number of codebook entries K (each grid cell holds log2(K) bits).
        filters: filters of the encoder's stride-2 blocks; the decoder mirrors them.
        activation: hidden activation.
        commitment_cost: beta, the weight of the commitment term (0.25 in the paper).
        ema: codebook by exponential moving averages (True) or by the codebook loss (False).
        decay: decay of the moving averages, in (0, 1) (0.99 in the paper).
        output_activation: ``"sigmoid"`` for images in [0, 1], None for unbounded data.
    """
    input_shape = check_shape(input_shape, (3,), "an image (height, width, channels)")
    check_positive_int("latent_dim", latent_dim, example=16)
    check_positive_int("num_embeddings", num_embeddings, example=128)
    filters = check_units("filters", filters, allow_empty=False)
    check_activation("activation", activation)
    check_activation("output_activation", output_activation)
    check_range("commitment_cost", commitment_cost, 0.0)
    check_fraction("decay", decay, open_low=True, open_high=True)
    check_ema(ema)
    encoder = vq_encoder(input_shape, latent_dim, filters=filters, activation=activation)
    quantizer = VectorQuantizer(
        num_embeddings, latent_dim, commitment_cost=commitment_cost, ema=ema, decay=decay, name="quantizer"
    )
    quantizer.build(encoder.output.shape)
    decoder = vq_decoder(
        encoder.output.shape[1:], input_shape, filters=filters[::-1], activation=activation, output_activation=output_activation
    )
    model = VQVAE(encoder, quantizer, decoder, name=name)
    model.build((None,) + input_shape)
    return model
