"""Small registered layers the builders share: corruption, sampling, clipping, KL sparsity.

Each is written with ``keras.ops`` and ``keras.random`` (no backend-specific code), validates
its arguments in ``__init__`` and round-trips through ``get_config()``, so a model using it
saves to ``.keras`` and loads with ``safe_mode=True``.
"""

import keras
from keras import ops

CORRUPTIONS = ("gaussian", "salt_and_pepper", "masking", "block")


@keras.saving.register_keras_serializable(package="aelib")
class Corruption(keras.layers.Layer):
    """Corrupts its input during training only; at inference it is the identity.

    Args:
        kind: ``"gaussian"`` (add N(0, amount^2) noise), ``"salt_and_pepper"`` (set a fraction
            ``amount`` of values to 0 or 1), ``"masking"`` (set a fraction ``amount`` of values
            to 0, the masking noise of Vincent et al. 2010) or ``"block"`` (blank one square of
            side ``amount`` pixels per image, for inpainting; images only).
        amount: noise std, fraction of values, or block side in pixels.
        clip: clip the result to ``[0, 1]`` (for images scaled to that range).
        seed: seed of the layer's random stream.
    """

    def __init__(self, kind="gaussian", amount=0.3, clip=True, seed=None, **kwargs):
        super().__init__(**kwargs)
        if kind not in CORRUPTIONS:
            raise ValueError(f"Corruption kind={kind!r} is unknown; use one of {CORRUPTIONS}.")
        if kind == "block":
            if int(amount) != amount or amount < 1:
                raise ValueError(f"amount={amount!r}: for kind='block' it is the block side in pixels, an integer >= 1.")
        elif kind == "gaussian":
            if amount < 0:
                raise ValueError(f"amount={amount!r}: the noise std must be >= 0.")
        elif not 0.0 <= amount <= 1.0:
            raise ValueError(f"amount={amount!r}: for kind={kind!r} it is a fraction in [0, 1].")
        self.kind, self.amount, self.clip, self.seed = kind, amount, clip, seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def build(self, input_shape):
        if self.kind == "block":
            if len(input_shape) < 3:
                raise ValueError(f"kind='block' needs images (batch, height, width[, channels]), got {input_shape}.")
            if self.amount > min(input_shape[1], input_shape[2]):
                raise ValueError(f"amount={self.amount}: the block is larger than the {input_shape[1]}x{input_shape[2]} image.")

    def call(self, inputs, training=None):
        if not training:
            return inputs
        x = inputs
        if self.kind == "gaussian":
            x = x + self.amount * keras.random.normal(ops.shape(x), seed=self.seed_generator, dtype=x.dtype)
        elif self.kind == "salt_and_pepper":
            u = keras.random.uniform(ops.shape(x), seed=self.seed_generator, dtype=x.dtype)
            x = ops.where(u < self.amount / 2, ops.zeros_like(x), ops.where(u < self.amount, ops.ones_like(x), x))
        elif self.kind == "masking":
            u = keras.random.uniform(ops.shape(x), seed=self.seed_generator, dtype=x.dtype)
            x = ops.where(u < self.amount, ops.zeros_like(x), x)
        else:  # block
            x = x * (1.0 - self._block_mask(x))
        return ops.clip(x, 0.0, 1.0) if self.clip else x

    def _block_mask(self, x):
        shape = ops.shape(x)
        batch, height, width = shape[0], shape[1], shape[2]
        size = int(self.amount)
        top = keras.random.randint((batch, 1), 0, height - size + 1, seed=self.seed_generator)
        left = keras.random.randint((batch, 1), 0, width - size + 1, seed=self.seed_generator)
        rows = ops.arange(height)[None, :]
        cols = ops.arange(width)[None, :]
        in_rows = ops.logical_and(rows >= top, rows < top + size)  # (batch, height)
        in_cols = ops.logical_and(cols >= left, cols < left + size)  # (batch, width)
        mask = ops.logical_and(in_rows[:, :, None], in_cols[:, None, :])
        mask = ops.cast(mask, x.dtype)
        return ops.reshape(mask, (batch, height, width) + (1,) * (len(x.shape) - 3))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "kind": self.kind, "amount": self.amount, "clip": self.clip, "seed": self.seed}


@keras.saving.register_keras_serializable(package="aelib")
class Sampling(keras.layers.Layer):
    """The reparameterisation trick: ``z = mean + exp(log_var / 2) * eps``, ``eps ~ N(0, I)``.

    Takes ``[mean, log_var]``. Sampling stays differentiable with respect to mean and log_var,
    which is what lets a VAE's encoder learn through the random draw.
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        mean, log_var = inputs
        eps = keras.random.normal(ops.shape(mean), seed=self.seed_generator, dtype=mean.dtype)
        return mean + ops.exp(0.5 * log_var) * eps

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


@keras.saving.register_keras_serializable(package="aelib")
class Clip(keras.layers.Layer):
    """Clips values to ``[min_value, max_value]``; used to bound a VAE's log-variance so that
    ``exp(log_var)`` can never overflow into inf/NaN, whatever the input."""

    def __init__(self, min_value=-10.0, max_value=10.0, **kwargs):
        super().__init__(**kwargs)
        if not min_value < max_value:
            raise ValueError(f"Clip needs min_value < max_value, got {min_value} and {max_value}.")
        self.min_value, self.max_value = float(min_value), float(max_value)

    def call(self, inputs):
        return ops.clip(inputs, self.min_value, self.max_value)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "min_value": self.min_value, "max_value": self.max_value}


def kl_bernoulli(target, rho_hat, eps=1e-7):
    """KL(target || rho_hat) between Bernoulli distributions, elementwise (in nats)."""
    rho_hat = ops.clip(rho_hat, eps, 1.0 - eps)
    return target * ops.log(target / rho_hat) + (1.0 - target) * ops.log((1.0 - target) / (1.0 - rho_hat))


@keras.saving.register_keras_serializable(package="aelib")
class KLSparsity(keras.layers.Layer):
    """Identity layer that adds ``weight * sum_j KL(target || mean activation of unit j)``.

    The mean activation of each unit is taken over the batch, so units in ``[0, 1]`` (sigmoid)
    are pushed to fire on a fraction ``target`` of the inputs (Ng's sparse autoencoder).
    """

    def __init__(self, target=0.05, weight=1e-3, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 < target < 1.0:
            raise ValueError(f"target={target!r}: the target mean activation must be in (0, 1), e.g. 0.05.")
        if weight < 0:
            raise ValueError(f"weight={weight!r} must be >= 0.")
        self.target, self.weight = float(target), float(weight)

    def call(self, inputs):
        rho_hat = ops.mean(inputs, axis=0)
        self.add_loss(self.weight * ops.sum(kl_bernoulli(self.target, rho_hat)))
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "target": self.target, "weight": self.weight}
