"""Hand-checkable properties of aelib.metrics."""

import numpy as np
import pytest

from aelib import metrics


# ---------------------------------------------------------------- reconstruction
def test_per_sample_mse_and_mse_by_hand():
    x = np.zeros((2, 2, 2))
    x_hat = np.zeros((2, 2, 2))
    x_hat[0] = 1.0  # every value off by 1 -> 1.0
    x_hat[1, 0, 0] = 1.0  # one of four values off by 1 -> 0.25
    np.testing.assert_allclose(metrics.per_sample_mse(x, x_hat), [1.0, 0.25])
    assert metrics.mse(x, x_hat) == pytest.approx(0.625)


def test_mse_rejects_shape_mismatch():
    with pytest.raises(ValueError, match="same shape"):
        metrics.per_sample_mse(np.zeros((2, 3)), np.zeros((2, 4)))


def test_psnr_of_known_error():
    x = np.zeros((3, 4, 4, 1))
    assert metrics.psnr(x, x + 0.1) == pytest.approx(20.0)  # 10 log10(1 / 0.01)
    assert metrics.psnr(x * 255, x * 255 + 25.5, data_range=255) == pytest.approx(20.0)
    assert metrics.psnr(x, x) == metrics.PSNR_CAP_DB
    with pytest.raises(ValueError, match="data_range"):
        metrics.psnr(x, x, data_range=0)


def test_pca_reconstruct_is_exact_on_low_rank_data_and_keeps_shape():
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(2, 16))
    x_train = (rng.normal(size=(50, 2)) @ basis).reshape(50, 4, 4, 1).astype(np.float32)
    x_test = (rng.normal(size=(7, 2)) @ basis).reshape(7, 4, 4, 1).astype(np.float32)
    x_hat, pca = metrics.pca_reconstruct(x_train, x_test, n_components=2)
    assert x_hat.shape == x_test.shape and x_hat.dtype == np.float32
    assert pca.n_components_ == 2
    np.testing.assert_allclose(x_hat, x_test, atol=1e-4)
    one, _ = metrics.pca_reconstruct(x_train, x_test, n_components=1)
    assert metrics.mse(x_test, one) > 1e-3  # one component cannot hold a 2-D subspace
    with pytest.raises(ValueError, match="n_components"):
        metrics.pca_reconstruct(x_train, x_test, n_components=17)


def test_principal_angles_identical_orthogonal_and_45_degrees():
    e = np.eye(4)
    a = e[:, :2]
    np.testing.assert_allclose(metrics.principal_angles(a, a @ [[2.0, 1.0], [0.0, 3.0]]), [0, 0], atol=1e-6)
    np.testing.assert_allclose(metrics.principal_angles(a, e[:, 2:]), [90, 90])
    np.testing.assert_allclose(metrics.principal_angles(e[:, :1], (e[:, 0] + e[:, 1])[:, None]), [45])
    with pytest.raises(ValueError, match="same number of rows"):
        metrics.principal_angles(a, np.eye(3))


# ---------------------------------------------------------------- anomaly detection
def test_roc_auc_perfect_reversed_and_one_class():
    labels = np.array([0, 0, 0, 1, 1])
    scores = np.array([0.1, 0.2, 0.3, 0.8, 0.9])
    assert metrics.roc_auc(labels, scores) == 1.0
    assert metrics.roc_auc(labels, -scores) == 0.0
    with pytest.raises(ValueError, match="both normal"):
        metrics.roc_auc([0, 0], [0.1, 0.2])
    with pytest.raises(ValueError, match="0 \\(normal\\) or 1"):
        metrics.roc_auc([0, 2], [0.1, 0.2])


def test_anomalies_are_the_positive_class():
    labels = np.array([0, 0, 1, 1])
    scores = np.array([0.1, 0.9, 0.2, 0.8])  # flagged above 0.5: one normal, one anomaly
    report = metrics.detection_report(labels, scores, threshold=0.5)
    assert report["precision"] == 0.5  # of the 2 flagged, 1 is an anomaly
    assert report["recall"] == 0.5  # of the 2 anomalies, 1 is flagged
    assert report["roc_auc"] == pytest.approx(0.5)
    # One anomaly (label 1) with the highest score: perfectly found ...
    labels, scores = np.array([0, 0, 0, 1]), np.array([0.1, 0.2, 0.3, 0.9])
    good = metrics.detection_report(labels, scores, threshold=0.5)
    assert (good["precision"], good["recall"], good["roc_auc"]) == (1.0, 1.0, 1.0)
    # ... while marking the normal samples 1 instead turns the same scores into a failure.
    flipped = metrics.detection_report(1 - labels, scores, threshold=0.5)
    assert (flipped["precision"], flipped["recall"], flipped["roc_auc"]) == (0.0, 0.0, 0.0)


def test_choose_threshold_f1_separates_two_clusters():
    rng = np.random.default_rng(0)
    normal, anomalous = rng.uniform(0, 1, 200), rng.uniform(5, 6, 20)
    scores = np.concatenate([normal, anomalous])
    labels = np.r_[np.zeros(200), np.ones(20)].astype(int)
    threshold = metrics.choose_threshold(scores, labels, method="f1")
    assert normal.max() < threshold < anomalous.min()
    report = metrics.detection_report(labels, scores, threshold)
    assert report == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "roc_auc": 1.0, "threshold": threshold}


def test_choose_threshold_quantile_uses_only_normal_scores():
    normal = np.arange(101) / 100.0  # 0.00 ... 1.00
    scores = np.r_[normal, [50.0, 60.0]]
    labels = np.r_[np.zeros(101), [1, 1]].astype(int)
    assert metrics.choose_threshold(scores, labels, method="quantile", quantile=0.9) == pytest.approx(0.9)
    assert metrics.choose_threshold(normal, method="quantile", quantile=0.9) == pytest.approx(0.9)
    with pytest.raises(ValueError, match="method='f1' needs labels_val"):
        metrics.choose_threshold(normal)
    with pytest.raises(ValueError, match="unknown"):
        metrics.choose_threshold(normal, method="otsu")
    with pytest.raises(ValueError, match="quantile"):
        metrics.choose_threshold(normal, method="quantile", quantile=1.5)


# ---------------------------------------------------------------- retrieval
DB = np.array([[0.0, 0.0], [0.0, 1.0], [10.0, 10.0], [10.0, 11.0]])
DB_LABELS = np.array([0, 0, 1, 1])


def test_precision_at_k_by_hand():
    queries = np.array([[0.0, 0.4], [10.0, 10.4]])
    # Query 0 (label 0): nearest two are items 0 and 1, both label 0 -> 1.
    # Query 1 (label 0): nearest two are items 2 and 3, both label 1 -> 0.
    assert metrics.precision_at_k(queries, [0, 0], DB, DB_LABELS, k=2) == 0.5
    # k=3 for query 0 alone: items 0, 1 and one of 2/3 -> 2/3.
    assert metrics.precision_at_k(queries[:1], [0], DB, DB_LABELS, k=3) == pytest.approx(2 / 3)


def test_precision_at_k_exclude_self():
    assert metrics.precision_at_k(DB, DB_LABELS, DB, DB_LABELS, k=2) == 1.0  # self + partner
    assert metrics.precision_at_k(DB, DB_LABELS, DB, DB_LABELS, k=2, exclude_self=True) == 0.5
    with pytest.raises(ValueError, match="k must be"):
        metrics.precision_at_k(DB, DB_LABELS, DB, DB_LABELS, k=4, exclude_self=True)


def test_precision_at_k_cosine_and_hamming():
    db = np.array([[1.0, 0.0], [5.0, 0.5], [0.0, 1.0], [0.2, 3.0]])
    labels = np.array([0, 0, 1, 1])
    # By angle [3, 0] is closest to the first two; by euclidean distance [0.2, 3.0] is close too.
    assert metrics.precision_at_k([[3.0, 0.0]], [0], db, labels, k=2, metric="cosine") == 1.0
    bits = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 0, 1, 1], [0, 1, 1, 1]], dtype=np.uint8)
    assert metrics.precision_at_k([[1, 1, 0, 1]], [0], bits, labels, k=1, metric="hamming") == 1.0
    with pytest.raises(ValueError, match="metric"):
        metrics.precision_at_k(db, labels, db, labels, metric="manhattan")


@pytest.mark.parametrize("metric", ["euclidean", "cosine", "hamming"])
def test_precision_at_k_chunked_equals_brute_force(monkeypatch, metric):
    rng = np.random.default_rng(1)
    q, db = rng.normal(size=(37, 6)), rng.normal(size=(53, 6))
    if metric == "hamming":
        q, db = (q > 0).astype(np.uint8), (db > 0).astype(np.uint8)
    q_lab, db_lab = rng.integers(0, 3, 37), rng.integers(0, 3, 53)
    if metric == "euclidean":
        d = ((q[:, None] - db[None]) ** 2).sum(-1)
    elif metric == "cosine":
        d = -(q @ db.T) / np.linalg.norm(q, axis=1)[:, None] / np.linalg.norm(db, axis=1)
    else:
        d = (q[:, None] != db[None]).sum(-1) + rng.uniform(0, 1e-3, (37, 53))  # break ties
        db_lab = rng.integers(0, 1, 53)  # one class: ties cannot change the answer
        q_lab = np.zeros(37, int)
    expected = (db_lab[np.argsort(d, axis=1)[:, :5]] == q_lab[:, None]).mean()
    monkeypatch.setattr(metrics, "_CHUNK_ELEMENTS", 100)  # force many small chunks
    assert metrics.precision_at_k(q, q_lab, db, db_lab, k=5, metric=metric) == pytest.approx(expected)


def test_binarize_pack_and_hamming():
    codes = np.array([[0.0, 10.0], [1.0, 20.0], [2.0, 30.0], [3.0, 40.0]])
    bits, thresholds = metrics.binarize(codes)
    np.testing.assert_allclose(thresholds, [1.5, 25.0])  # per-dimension medians
    np.testing.assert_array_equal(bits, [[0, 0], [0, 0], [1, 1], [1, 1]])
    assert bits.dtype == np.uint8
    again, _ = metrics.binarize(codes[:1] + 2, thresholds)  # queries reuse the db thresholds
    np.testing.assert_array_equal(again, [[1, 0]])

    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 2, (5, 19)), rng.integers(0, 2, (7, 19))
    pa, pb = metrics.pack_bits(a), metrics.pack_bits(b)
    assert pa.shape == (5, 3) and pa.dtype == np.uint8  # 19 bits -> 3 bytes
    expected = (a[:, None] != b[None]).sum(-1)
    np.testing.assert_array_equal(metrics.hamming_distances(pa, pb), expected)
    with pytest.raises(ValueError, match="only 0 and 1"):
        metrics.pack_bits([[0, 2]])


# ---------------------------------------------------------------- recommender
def test_masked_rmse_only_counts_observed():
    r_true = np.array([[5.0, 0.0], [3.0, 1.0]])
    r_pred = np.array([[4.0, 100.0], [3.0, 3.0]])
    mask = r_true > 0
    assert metrics.masked_rmse(r_true, r_pred, mask) == pytest.approx(np.sqrt(5 / 3))  # (1 + 0 + 4) / 3
    with pytest.raises(ValueError, match="no entries"):
        metrics.masked_rmse(r_true, r_pred, np.zeros_like(mask))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32, np.uint64])
def test_popcount_with_and_without_numpy_bitwise_count(dtype, monkeypatch):
    x = np.random.default_rng(0).integers(0, np.iinfo(dtype).max, size=(5, 7), dtype=dtype, endpoint=True)
    want = np.vectorize(lambda v: bin(int(v)).count("1"))(x)
    np.testing.assert_array_equal(metrics.popcount(x), want)
    monkeypatch.delattr(np, "bitwise_count", raising=False)  # NumPy 1.26 has none
    np.testing.assert_array_equal(metrics.popcount(x), want)
    with pytest.raises(ValueError, match="unsigned"):
        metrics.popcount(np.array([1, 2]))


def test_hamming_map_is_the_expected_average_precision_over_tie_orders():
    """By brute force: the mean over every order of the tied items of the usual AP."""
    import itertools

    rng = np.random.default_rng(0)
    db_bits = rng.integers(0, 2, size=(7, 3))
    db_labels = rng.integers(0, 2, size=7)
    q_bits, q_labels = rng.integers(0, 2, size=(4, 3)), np.array([0, 1, 0, 1])

    def ap(order, rel):
        hits = np.cumsum(rel[order])
        return np.sum(hits / np.arange(1, len(order) + 1) * rel[order]) / rel.sum()

    want = []
    for qb, ql in zip(q_bits, q_labels):
        d = np.abs(db_bits - qb).sum(axis=1)
        rel = (db_labels == ql).astype(float)
        groups = [np.flatnonzero(d == v) for v in np.unique(d)]
        orders = [np.concatenate(p) for p in itertools.product(*[list(itertools.permutations(g)) for g in groups])]
        want.append(np.mean([ap(o, rel) for o in orders]))
    np.testing.assert_allclose(metrics.hamming_map(q_bits, q_labels, db_bits, db_labels), np.mean(want), rtol=1e-12)
    # exclude_self: the database queried against itself, each item not its own match
    self_map = metrics.hamming_map(db_bits, db_labels, db_bits, db_labels, exclude_self=True)
    assert 0 < self_map <= 1
    perfect = np.repeat(np.eye(4, dtype=int), 3, axis=0)
    assert metrics.hamming_map(perfect, np.repeat(np.arange(4), 3), perfect, np.repeat(np.arange(4), 3), exclude_self=True) == 1.0
