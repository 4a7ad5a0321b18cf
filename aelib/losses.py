"""Registered Keras losses that the built-in ones do not cover.

:class:`MaskedMeanSquaredError` is the loss of AutoRec (Sedhain et al. 2015): a user's rating
vector is mostly missing, and the model must be scored only on the ratings it was given::

    model.compile(optimizer="adam", loss=aelib.losses.MaskedMeanSquaredError())
    model.fit(train_ratings, train_ratings, ...)   # 0 = not rated

Written with ``keras.ops`` only, so it runs on every backend, and registered so a model compiled
with it saves to ``.keras`` and loads with ``keras.saving.load_model(path, safe_mode=True)``.
"""

import keras
from keras import ops

__all__ = ["MaskedMeanSquaredError"]


@keras.saving.register_keras_serializable(package="aelib")
class MaskedMeanSquaredError(keras.losses.Loss):
    """Mean squared error over the observed entries of each sample only.

    Entries of ``y_true`` equal to ``missing_value`` are missing and contribute nothing. Per
    sample the loss is ``sum((y_true - y_pred)^2 over observed) / max(1, number observed)``, so a
    sample with no observed entries has loss 0; the batch loss is the mean over samples.

    Args:
        missing_value: the value that marks a missing entry in ``y_true`` (0 for ratings 1..5).
        name, reduction, dtype: as for any ``keras.losses.Loss``.
    """

    def __init__(self, missing_value=0.0, name="masked_mean_squared_error", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        try:
            self.missing_value = float(missing_value)
        except (TypeError, ValueError):
            raise ValueError(f"missing_value must be a number (0.0 for unrated items), got {missing_value!r}.") from None

    def call(self, y_true, y_pred):
        observed = ops.cast(ops.not_equal(y_true, self.missing_value), y_pred.dtype)
        axes = tuple(range(1, len(y_true.shape)))  # every non-batch axis
        squared = ops.sum(observed * ops.square(y_true - y_pred), axis=axes)
        count = ops.sum(observed, axis=axes)
        return squared / ops.maximum(count, 1.0)

    def get_config(self):
        return {**super().get_config(), "missing_value": self.missing_value}
