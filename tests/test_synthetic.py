"""Generated ratings and signals (aelib.synthetic), and the ratings splitter and MovieLens u.data
reader that go with them (aelib.datasets)."""

import numpy as np
import pytest

from aelib import datasets, synthetic


# ---------------------------------------------------------------- ratings
def test_make_ratings_shapes_ranges_and_mask():
    ratings, mask = synthetic.make_ratings(n_users=300, n_items=200, density=0.1, seed=0)
    assert ratings.shape == mask.shape == (300, 200)
    assert ratings.dtype == np.float32 and mask.dtype == bool
    assert set(np.unique(ratings[mask])) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    assert (ratings[~mask] == 0).all()
    assert 0.08 < mask.mean() < 0.12  # about `density`
    assert mask.any(axis=1).all()  # every user rated something
    per_user = mask.sum(axis=1)
    assert per_user.max() > 3 * per_user.min()  # user activity varies
    assert 3.0 < ratings[mask].mean() < 4.0  # global mean 3.5, clipped to 1..5
    assert len(np.unique(ratings[mask])) == 5


def test_make_ratings_is_low_rank_plus_noise():
    # Without noise and with every entry observed, the un-rounded matrix has rank + 2 (biases);
    # rounding adds only small errors, so almost all the energy is in the top rank + 2 values.
    ratings, mask = synthetic.make_ratings(n_users=200, n_items=150, rank=3, density=1.0, noise_std=0.0)
    assert mask.all()
    s = np.linalg.svd(ratings - ratings.mean(), compute_uv=False)
    assert (s[:5] ** 2).sum() / (s**2).sum() > 0.85


def test_make_ratings_is_deterministic_by_seed():
    a, b, c = (synthetic.make_ratings(50, 40, seed=s) for s in (1, 1, 2))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])
    with pytest.raises(ValueError, match="density"):
        synthetic.make_ratings(density=0)


def test_split_ratings_disjoint_masks_with_union_mask():
    ratings, mask = synthetic.make_ratings(100, 80, seed=0)
    tr, tr_mask, te, te_mask = datasets.split_ratings(ratings, mask, test_fraction=0.2, seed=0)
    assert not (tr_mask & te_mask).any()
    np.testing.assert_array_equal(tr_mask | te_mask, mask)
    assert te_mask.sum() == round(0.2 * mask.sum())
    np.testing.assert_array_equal(tr, np.where(tr_mask, ratings, 0))
    np.testing.assert_array_equal(te, np.where(te_mask, ratings, 0))
    again = datasets.split_ratings(ratings, mask, test_fraction=0.2, seed=0)
    np.testing.assert_array_equal(again[3], te_mask)
    with pytest.raises(ValueError, match="test_fraction"):
        datasets.split_ratings(ratings, mask, test_fraction=1.0)
    with pytest.raises(ValueError, match="one shape"):
        datasets.split_ratings(ratings, mask[:, :5])


def test_load_movielens_100k_parses_u_data(tmp_path):
    folder = tmp_path / "ml-100k"
    folder.mkdir()
    (folder / "u.data").write_text("1\t2\t5\t881250949\n3\t1\t3\t891717742\n\n2\t4\t1\t878887116\n")
    ratings, mask = datasets.load_movielens_100k(folder / "u.data")
    assert ratings.shape == (3, 4) and ratings.dtype == np.float32
    assert (ratings[0, 1], ratings[2, 0], ratings[1, 3]) == (5.0, 3.0, 1.0)  # 1-based ids
    assert mask.sum() == 3 and (ratings[~mask] == 0).all()
    same, _ = datasets.load_movielens_100k(folder)  # the folder works too
    np.testing.assert_array_equal(same, ratings)


def test_load_movielens_100k_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="ml-100k.zip"):
        datasets.load_movielens_100k(tmp_path / "missing" / "u.data")
    bad = tmp_path / "u.data"
    bad.write_text("1\t2\t5\t881250949\n1\tx\t5\t881250949\n")
    with pytest.raises(ValueError, match="line 2"):
        datasets.load_movielens_100k(bad)
    bad.write_text("1\t2\t7\t881250949\n")
    with pytest.raises(ValueError, match="rating in 1..5"):
        datasets.load_movielens_100k(bad)


# ---------------------------------------------------------------- signals
def _segments(labels):
    """(start, stop) of each run of 1s."""
    edges = np.diff(np.r_[0, labels.astype(int), 0])
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))


def test_clean_signal_has_no_anomalies():
    signal, labels = synthetic.make_signals(n_timesteps=1000, n_features=3, anomalies=())
    assert signal.shape == (1000, 3) and signal.dtype == np.float32
    assert labels.shape == (1000,) and labels.dtype == np.uint8 and labels.sum() == 0
    assert np.abs(signal).max() < 2.0  # amplitudes 1 + 0.5, small noise


def test_signals_are_deterministic_by_seed():
    a, b, c = (synthetic.make_signals(1200, seed=s, n_anomalies=3) for s in (0, 0, 1))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_level_shifts_are_labelled_segments():
    clean, _ = synthetic.make_signals(3000, seed=4, anomalies=())
    signal, labels = synthetic.make_signals(3000, seed=4, anomalies=("level_shift",), n_anomalies=4, anomaly_length=40)
    assert [stop - start for start, stop in _segments(labels)] == [40] * 4
    # The same seed draws the same base signal; the difference is +-1.5 exactly on the segments.
    shift = signal[:, 0] - clean[:, 0]
    np.testing.assert_allclose(np.abs(shift[labels == 1]), 1.5, atol=1e-5)
    np.testing.assert_allclose(shift[labels == 0], 0, atol=1e-5)


def test_spikes_are_labelled_single_steps():
    clean, _ = synthetic.make_signals(3000, seed=2, anomalies=())
    signal, labels = synthetic.make_signals(3000, seed=2, anomalies=("spike",), n_anomalies=5, anomaly_length=45)
    assert labels.sum() == 5 * 3  # 45 // 15 spikes in each of 5 segments
    np.testing.assert_allclose(np.abs(signal - clean)[labels == 1], 4.0, atol=1e-5)


def test_frequency_change_changes_only_its_segment():
    clean, _ = synthetic.make_signals(3000, seed=3, anomalies=())
    signal, labels = synthetic.make_signals(3000, seed=3, anomalies=("frequency",), n_anomalies=3, anomaly_length=60)
    assert [stop - start for start, stop in _segments(labels)] == [60] * 3
    diff = np.abs(signal - clean)[:, 0]
    assert diff[labels == 0].max() < 1e-5
    assert diff[labels == 1].mean() > 0.3


def test_all_kinds_together_and_validation():
    signal, labels = synthetic.make_signals(5000, n_features=2, n_anomalies=6, anomaly_length=50)
    assert signal.shape == (5000, 2)
    lengths = sorted(stop - start for start, stop in _segments(labels))
    assert lengths.count(50) == 4  # 2 level shifts + 2 frequency changes; spikes are short runs
    assert 0.04 < labels.mean() < 0.05  # (4 * 50 + 2 * 3) / 5000
    with pytest.raises(ValueError, match="unknown kind"):
        synthetic.make_signals(anomalies=("drift",))
    with pytest.raises(ValueError, match="too short"):
        synthetic.make_signals(n_timesteps=500, n_anomalies=6, anomaly_length=50)


def test_events_and_a_separate_noise_seed():
    signal, labels, events = synthetic.make_signals(3000, seed=5, n_anomalies=6, anomaly_length=40, return_events=True)
    plain, plain_labels = synthetic.make_signals(3000, seed=5, n_anomalies=6, anomaly_length=40)
    np.testing.assert_array_equal(signal, plain)  # return_events changes nothing else
    assert len(events) == 6 and sorted({e["kind"] for e in events}) == sorted(synthetic.ANOMALY_KINDS)
    for e in events:
        assert e["stop"] - e["start"] == 40 and labels[e["start"] : e["stop"]].any()
        assert labels[e["start"] : e["stop"]].all() == (e["kind"] != "spike")
    covered = np.zeros(3000, bool)
    for e in events:
        covered[e["start"] : e["stop"]] = True
    assert not labels[~covered].any()

    other, other_labels = synthetic.make_signals(3000, seed=5, n_anomalies=6, anomaly_length=40, noise_seed=99)
    np.testing.assert_array_equal(other_labels, plain_labels)  # same anomalies, same places
    diff = (other - plain)[plain_labels == 0, 0]
    assert 0.1 < diff.std() < 0.2  # independent N(0, 0.1^2) noise: difference std 0.1 * sqrt(2)
