"""Small registered layers the builders share: sampling, clipping, sparsity penalties (and the
corruption layer, defined with its NumPy twins in :mod:`aelib.corruption`).

Each is written with ``keras.ops`` and ``keras.random`` (no backend-specific code), validates
its arguments in ``__init__`` and round-trips through ``get_config()``, so a model using it
saves to ``.keras`` and loads with ``safe_mode=True``.
"""

import keras
from keras import ops

from .checks import check_fraction, check_range
from .corruption import CORRUPTIONS, Corruption
from .losses import kl_bernoulli

__all__ = ["Sampling", "Clip", "KLSparsity", "L1Sparsity", "Corruption", "CORRUPTIONS"]


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


@keras.saving.register_keras_serializable(package="aelib")
class KLSparsity(keras.layers.Layer):
    """Identity layer that adds ``weight * sum_j KL(target || mean activation of unit j)``.

    The mean activation of each unit is taken over the batch, so units in ``[0, 1]`` (sigmoid)
    are pushed to fire on a fraction ``target`` of the inputs (Ng's sparse autoencoder).
    """

    def __init__(self, target=0.05, weight=1e-3, **kwargs):
        super().__init__(**kwargs)
        check_fraction("target (the target mean activation, e.g. 0.05)", target, open_low=True, open_high=True)
        check_range("weight", weight, 0.0)
        self.target, self.weight = float(target), float(weight)

    def call(self, inputs):
        rho_hat = ops.mean(inputs, axis=0)
        self.add_loss(self.weight * ops.sum(kl_bernoulli(self.target, rho_hat)))
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "target": self.target, "weight": self.weight}


@keras.saving.register_keras_serializable(package="aelib")
class L1Sparsity(keras.layers.Layer):
    """Identity layer that adds ``weight * mean over the batch of sum_j |a_j|``.

    The L1 penalty on code activations, written out rather than left to Keras'
    ``activity_regularizer``, whose scale changed with the Keras version (divided by the batch
    size only in releases since early 2026): here it is per example on every version.
    """

    def __init__(self, weight=3e-4, **kwargs):
        super().__init__(**kwargs)
        self.weight = float(check_range("weight", weight, 0.0))

    def call(self, inputs):
        per_example = ops.sum(ops.abs(ops.reshape(inputs, (ops.shape(inputs)[0], -1))), axis=1)
        self.add_loss(self.weight * ops.mean(ops.cast(per_example, "float32")))
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "weight": self.weight}
