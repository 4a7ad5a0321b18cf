"""aelib.timeseries: windows cut from a signal, and window scores spread back onto its steps."""

import numpy as np
import pytest

from aelib import timeseries


def test_sliding_windows_by_hand():
    signal = np.arange(10)
    w = timeseries.sliding_windows(signal, window=4, stride=3)
    assert w.shape == (3, 4, 1)
    np.testing.assert_array_equal(w[:, :, 0], [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]])
    two = timeseries.sliding_windows(np.arange(12).reshape(6, 2), window=2)
    assert two.shape == (5, 2, 2)
    np.testing.assert_array_equal(two[1], [[2, 3], [4, 5]])
    assert not np.shares_memory(w, signal)  # a copy, not a view
    with pytest.raises(ValueError, match="window"):
        timeseries.sliding_windows(np.arange(10), window=11)


def test_windows_to_timesteps_by_hand():
    # Windows of 4 steps, stride 3: [0..3], [3..6], [6..9].
    scores = [1.0, 5.0, 2.0]
    np.testing.assert_allclose(timeseries.windows_to_timesteps(scores, 4, 3, 10), [1, 1, 1, 5, 5, 5, 5, 2, 2, 2])
    np.testing.assert_allclose(timeseries.windows_to_timesteps(scores, 4, 3, 10, reduce="mean"), [1, 1, 1, 3, 5, 5, 3.5, 2, 2, 2])
    tail = timeseries.windows_to_timesteps(scores, 4, 3, 12)  # steps 10, 11 are in no window
    np.testing.assert_allclose(tail[10:], [0, 0])
    with pytest.raises(ValueError, match="cover 10 time"):
        timeseries.windows_to_timesteps(scores, 4, 3, 9)
    with pytest.raises(ValueError, match="reduce"):
        timeseries.windows_to_timesteps(scores, 4, 3, 10, reduce="median")
