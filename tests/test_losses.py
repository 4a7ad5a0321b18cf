"""aelib.losses.MaskedMeanSquaredError: value by hand, config round trip, save and load."""

import keras
import numpy as np
import pytest

import aelib
from aelib.losses import MaskedMeanSquaredError

Y_TRUE = np.array([[1.0, 0.0, 3.0], [0.0, 0.0, 0.0]], dtype=np.float32)
Y_PRED = np.array([[2.0, 5.0, 1.0], [1.0, 1.0, 1.0]], dtype=np.float32)


def test_loss_by_hand():
    # Sample 0: observed entries 1 and 3, errors 1 and 2 -> (1 + 4) / 2 = 2.5; the 0 is ignored.
    # Sample 1: nothing observed -> 0 / max(1, 0) = 0.   Batch mean: 1.25.
    loss = MaskedMeanSquaredError()
    assert float(loss(Y_TRUE, Y_PRED)) == pytest.approx(1.25)
    per_sample = MaskedMeanSquaredError(reduction=None)(Y_TRUE, Y_PRED)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(per_sample), [2.5, 0.0])


def test_missing_value_is_configurable():
    y_true = np.where(Y_TRUE == 0, -1.0, Y_TRUE).astype(np.float32)
    assert float(MaskedMeanSquaredError(missing_value=-1)(y_true, Y_PRED)) == pytest.approx(1.25)
    # With -1 as the marker, 0 is an observed value: sample 1 now has 3 errors of 1 -> 1.
    assert float(MaskedMeanSquaredError(missing_value=-1)(Y_TRUE, Y_PRED)) == pytest.approx(((1 + 25 + 4) / 3 + 1) / 2)
    with pytest.raises(ValueError, match="missing_value"):
        MaskedMeanSquaredError(missing_value="none")


def test_get_config_round_trips():
    loss = MaskedMeanSquaredError(missing_value=-1.0, name="masked")
    config = loss.get_config()
    clone = MaskedMeanSquaredError.from_config(config)
    assert clone.get_config() == config
    assert (clone.missing_value, clone.name) == (-1.0, "masked")
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(restored, MaskedMeanSquaredError) and restored.missing_value == -1.0


def test_model_with_masked_loss_saves_and_loads_safely(tmp_path):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    ratings = rng.integers(1, 6, size=(32, 6)).astype(np.float32)
    ratings[rng.random(ratings.shape) < 0.5] = 0.0  # half unrated
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(3, activation="relu"), keras.layers.Dense(6)])
    model.compile(optimizer="adam", loss=MaskedMeanSquaredError(missing_value=0.0))
    model.fit(ratings, ratings, epochs=1, batch_size=8, verbose=0)
    path = tmp_path / "autorec.keras"
    model.save(path)

    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict(ratings, verbose=0), model.predict(ratings, verbose=0), rtol=1e-6)
    assert isinstance(loaded.loss, MaskedMeanSquaredError)
    assert loaded.evaluate(ratings, ratings, verbose=0) == pytest.approx(model.evaluate(ratings, ratings, verbose=0), rel=1e-6)


def test_training_loss_matches_numpy_formula():
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    ratings = rng.integers(1, 6, size=(20, 5)).astype(np.float32)
    ratings[rng.random(ratings.shape) < 0.6] = 0.0
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(5)])
    model.compile(optimizer="adam", loss=MaskedMeanSquaredError())
    pred = model.predict(ratings, verbose=0)
    observed = ratings != 0
    per_user = ((ratings - pred) ** 2 * observed).sum(1) / np.maximum(observed.sum(1), 1)
    assert model.evaluate(ratings, ratings, batch_size=20, verbose=0) == pytest.approx(per_user.mean(), rel=1e-5)


@pytest.mark.parametrize("batch", [1, 8, 64])
def test_l1_penalty_is_per_example_whatever_the_batch_size(batch):
    """L1Sparsity adds weight * mean_i sum_j |a_ij| on every Keras version (Keras' own
    activity_regularizer changed scale in 2026, keras-team/keras#22021)."""
    model = keras.Sequential([keras.Input((3,)), aelib.layers.L1Sparsity(penalty_weight=0.5)])
    x = np.full((batch, 3), -2.0, dtype="float32")
    model(x)
    assert len(model.losses) == 1
    assert float(keras.ops.convert_to_numpy(model.losses[0])) == pytest.approx(0.5 * 6.0)
