"""Every loss in aelib, written with ``keras.ops`` only, so it runs on every Keras backend.

The first three are defined in the family file that uses them (``aelib/builders/variational.py`` and
``sparse.py``, so that each file can be copied alone) and gathered here.

- :func:`reconstruction_nll`: ``-log p(x | z)`` per example, Bernoulli (from logits or
  probabilities) or Gaussian, in nats: the reconstruction term of every VAE;
- :func:`kl_divergence`: the closed-form KL between a diagonal Gaussian and ``N(0, I)``, per code
  dimension: the VAE's regulariser;
- :func:`kl_bernoulli`: the KL between two Bernoulli distributions: the sparse autoencoder's
  penalty on mean activations;
- :class:`MaskedMeanSquaredError`: squared error over the observed entries only, the loss of a
  recommender autoencoder (AutoRec) on a rating matrix that is mostly missing::

    model.compile(optimizer="adam", loss=aelib.losses.MaskedMeanSquaredError())
    model.fit(train_ratings, train_ratings, ...)   # 0 = not rated

The loss class is registered, so a model compiled with it saves to ``.keras`` and loads with
``keras.saving.load_model(path, safe_mode=True)``.
"""

import math

import keras
from keras import ops

from .builders.sparse import kl_bernoulli
from .builders.variational import kl_divergence, reconstruction_nll
from .checks import check_range

__all__ = ["reconstruction_nll", "kl_divergence", "kl_bernoulli", "MaskedMeanSquaredError", "RECONSTRUCTIONS"]

RECONSTRUCTIONS = ("bernoulli", "gaussian")


def _sum_per_example(values):
    """Sum over every non-batch axis: shape (batch,)."""
    return ops.sum(ops.reshape(values, (ops.shape(values)[0], -1)), axis=1)


@keras.saving.register_keras_serializable(package="aelib")
class MaskedMeanSquaredError(keras.losses.Loss):
    """Squared error over the observed entries of each sample only.

    Entries of ``y_true`` equal to ``missing_value`` are missing and contribute nothing. Per
    sample the loss is ``sum((y_true - y_pred)^2 over observed) / max(1, number observed)``
    (``average=True``, the default: every sample counts the same however many ratings it has),
    or the plain sum over the observed entries (``average=False``: AutoRec's objective as
    Sedhain et al. 2015 write it, where a sample with many ratings weighs more; add their
    ``lambda/2 * ||W||^2`` as ``l2`` weight decay). A sample with no observed entries has loss
    0; the batch loss is the mean over samples.

    Args:
        missing_value: the value that marks a missing entry in ``y_true`` (0 for ratings 1..5).
        average: divide each sample's sum by its number of observed entries.
        name, reduction, dtype: as for any ``keras.losses.Loss``.
    """

    def __init__(
        self, missing_value=0.0, average=True, name="masked_mean_squared_error", reduction="sum_over_batch_size", dtype=None
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        check_range("missing_value", missing_value, -math.inf)
        self.missing_value, self.average = float(missing_value), bool(average)

    def call(self, y_true, y_pred):
        observed = ops.cast(ops.not_equal(y_true, self.missing_value), y_pred.dtype)
        squared = _sum_per_example(observed * ops.square(y_true - y_pred))
        return squared / ops.maximum(_sum_per_example(observed), 1.0) if self.average else squared

    def get_config(self):
        return {**super().get_config(), "missing_value": self.missing_value, "average": self.average}
