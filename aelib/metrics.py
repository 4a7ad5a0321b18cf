"""Numbers to judge an autoencoder by: reconstruction error, PSNR, a PCA baseline, anomaly
detection scores, retrieval precision and a masked RMSE for ratings.

Everything here is plain NumPy (plus scikit-learn and SciPy), so it works on the output of any
model's ``predict``. Conventions:

- the first axis is always the sample axis;
- in anomaly detection the anomalies are the **positive class** (label 1), a higher score means
  "more anomalous", and a score strictly above the threshold is flagged;
- retrieval codes are ``(n, code_size)`` arrays, one row per item.
"""

import numpy as np

__all__ = [
    "per_sample_mse",
    "mse",
    "psnr",
    "pca_reconstruct",
    "principal_angles",
    "roc_auc",
    "choose_threshold",
    "detection_report",
    "precision_at_k",
    "binarize",
    "pack_bits",
    "hamming_distances",
    "popcount",
    "hamming_map",
    "masked_rmse",
]

PSNR_CAP_DB = 100.0  # the PSNR of a perfect reconstruction (error 0), instead of infinity
_CHUNK_ELEMENTS = 2**24  # distance-matrix entries computed at once (64 MB of float32)


def _same_shape(x, x_hat, names=("x", "x_hat")):
    x, x_hat = np.asarray(x), np.asarray(x_hat)
    if x.shape != x_hat.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same shape, got {x.shape} and "
            f"{x_hat.shape}; pass the inputs and the model's reconstructions of them."
        )
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"{names[0]} must hold at least one sample, got shape {x.shape}.")
    return x, x_hat


# --------------------------------------------------------------------------------------------
# Reconstruction
# --------------------------------------------------------------------------------------------
def per_sample_mse(x, x_hat):
    """Mean squared error of each sample over all its non-batch axes: shape ``(n,)``.

    This is the usual anomaly score of an autoencoder: a sample it reconstructs badly is one
    unlike its training data.
    """
    x, x_hat = _same_shape(x, x_hat)
    err = (x.astype(np.float64) - x_hat.astype(np.float64)) ** 2
    return err.reshape(len(err), -1).mean(axis=1)


def mse(x, x_hat):
    """Mean squared error over every value, a float (the mean of :func:`per_sample_mse`)."""
    return float(per_sample_mse(x, x_hat).mean())


def psnr(x, x_hat, data_range=1.0):
    """Mean over images of the peak signal-to-noise ratio, in dB.

    ``PSNR = 10 log10(data_range^2 / MSE)`` per image (``data_range=1`` for images in [0, 1],
    255 for uint8), capped at ``PSNR_CAP_DB`` (100 dB) where an image is reconstructed exactly.
    Higher is better; every halving of the error adds about 3 dB.
    """
    if data_range <= 0:
        raise ValueError(f"data_range must be > 0 (1.0 for images in [0, 1], 255 for uint8), got {data_range}.")
    err = per_sample_mse(x, x_hat)
    with np.errstate(divide="ignore"):
        db = 10.0 * np.log10(data_range**2 / err)
    return float(np.minimum(db, PSNR_CAP_DB).mean())


def pca_reconstruct(x_train, x_test, n_components, seed=0):
    """The linear baseline every autoencoder should beat: PCA with ``n_components``.

    Fits scikit-learn's PCA on the flattened ``x_train`` and reconstructs ``x_test`` through it.
    A linear autoencoder trained with MSE learns the same subspace.

    Returns:
        ``(x_test_hat, pca)``: the reconstruction in the shape (and float dtype) of ``x_test``,
        and the fitted ``sklearn.decomposition.PCA``.
    """
    from sklearn.decomposition import PCA

    x_train, x_test = np.asarray(x_train), np.asarray(x_test)
    flat_train = x_train.reshape(len(x_train), -1)
    flat_test = x_test.reshape(len(x_test), -1)
    if flat_train.shape[1] != flat_test.shape[1]:
        raise ValueError(
            f"x_train samples have {flat_train.shape[1]} values and x_test samples "
            f"{flat_test.shape[1]}; both must have the same sample shape."
        )
    max_components = min(flat_train.shape)
    if not isinstance(n_components, (int, np.integer)) or not 1 <= n_components <= max_components:
        raise ValueError(
            f"n_components must be an integer in 1..{max_components} (min of train samples and features), got {n_components!r}."
        )
    pca = PCA(n_components=int(n_components), random_state=seed).fit(flat_train)
    x_hat = pca.inverse_transform(pca.transform(flat_test)).reshape(x_test.shape)
    dtype = x_test.dtype if np.issubdtype(x_test.dtype, np.floating) else np.float32
    return x_hat.astype(dtype), pca


def principal_angles(a, b):
    """Principal angles, in degrees and ascending, between the column spaces of ``a`` and ``b``.

    ``a`` is ``(features, k1)`` and ``b`` ``(features, k2)``; the result has ``min(k1, k2)``
    angles. All zeros: one subspace contains the other; all 90: they are orthogonal. Use it to
    compare a linear autoencoder's decoder weights with the PCA components (``pca.components_.T``),
    which span the same subspace though the vectors themselves differ.
    """
    from scipy.linalg import subspace_angles

    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[0]:
        raise ValueError(
            f"a and b must be 2-D (features, k) with the same number of rows, got {a.shape} and "
            f"{b.shape}; pass e.g. pca.components_.T and the decoder's weight matrix transposed."
        )
    return np.sort(np.degrees(subspace_angles(a, b)))


# --------------------------------------------------------------------------------------------
# Anomaly detection (anomaly = label 1 = positive class)
# --------------------------------------------------------------------------------------------
def _labels_scores(labels, scores):
    labels, scores = np.asarray(labels).ravel(), np.asarray(scores, dtype=np.float64).ravel()
    if labels.shape != scores.shape:
        raise ValueError(f"labels and scores must have the same length, got {labels.size} and {scores.size}.")
    if not np.isin(labels, (0, 1)).all():
        raise ValueError(f"labels must be 0 (normal) or 1 (anomaly), got values {np.unique(labels)[:10]}.")
    return labels.astype(np.uint8), scores


def roc_auc(labels, scores):
    """Area under the ROC curve: the chance a random anomaly scores above a random normal sample.

    1.0 is a perfect ranking, 0.5 is chance, 0.0 a perfectly reversed one. ``labels`` are 1 for
    anomalies; ``scores`` are higher for more anomalous samples (e.g. :func:`per_sample_mse`).
    """
    from sklearn.metrics import roc_auc_score

    labels, scores = _labels_scores(labels, scores)
    if labels.min() == labels.max():
        raise ValueError(f"roc_auc needs both normal (0) and anomalous (1) samples; all labels are {labels[0]}.")
    return float(roc_auc_score(labels, scores))


def choose_threshold(scores_val, labels_val=None, method="f1", quantile=0.95):
    """A score threshold chosen on validation data; a score **above** it is flagged anomalous.

    Args:
        scores_val: validation scores, higher = more anomalous.
        labels_val: validation labels (1 = anomaly); required for ``method="f1"``. For
            ``"quantile"`` only the normal ones (label 0) are used; without labels all scores
            are taken to be normal.
        method: ``"f1"``, the threshold maximising F1 on the validation data (placed midway
            between the lowest flagged score and the next lower one, so it generalises better
            than an exact score), or ``"quantile"``, the ``quantile`` of the normal scores
            (flags about ``1 - quantile`` of normal data: a false-alarm budget).
        quantile: in (0, 1), for ``method="quantile"``.
    """
    methods = ("f1", "quantile")
    if method not in methods:
        raise ValueError(f"method={method!r} is unknown; use one of {methods}.")
    scores = np.asarray(scores_val, dtype=np.float64).ravel()
    if scores.size == 0:
        raise ValueError("scores_val is empty; pass the scores of a validation set.")
    if method == "quantile":
        if not 0.0 < quantile < 1.0:
            raise ValueError(f"quantile must be in (0, 1), e.g. 0.95, got {quantile}.")
        if labels_val is not None:
            labels, scores = _labels_scores(labels_val, scores)
            scores = scores[labels == 0]
            if scores.size == 0:
                raise ValueError("labels_val has no normal samples (label 0) to take a quantile of.")
        return float(np.quantile(scores, quantile))
    if labels_val is None:
        raise ValueError("method='f1' needs labels_val (1 = anomaly); use method='quantile' without labels.")
    labels, scores = _labels_scores(labels_val, scores)
    if labels.min() == labels.max():
        raise ValueError("method='f1' needs both normal (0) and anomalous (1) validation samples.")
    candidates = np.unique(scores)  # ascending; candidate c flags every score >= c
    order = np.sort(scores)
    n_flagged = len(scores) - np.searchsorted(order, candidates, side="left")
    pos_order = np.sort(scores[labels == 1])
    tp = len(pos_order) - np.searchsorted(pos_order, candidates, side="left")
    f1 = 2 * tp / (n_flagged + labels.sum())  # F1 = 2TP / (2TP + FP + FN)
    best = int(np.argmax(f1))
    if best == 0:  # flag everything: any value below the lowest score
        return float(np.nextafter(candidates[0], -np.inf))
    return float((candidates[best] + candidates[best - 1]) / 2)


def detection_report(labels, scores, threshold):
    """Precision, recall and F1 of flagging ``scores > threshold``, plus ROC AUC, as a dict.

    Precision: the fraction of flagged samples that are anomalies. Recall: the fraction of
    anomalies flagged. ``roc_auc`` is NaN when only one class is present.
    """
    from sklearn.metrics import f1_score, precision_score, recall_score

    labels, scores = _labels_scores(labels, scores)
    pred = (scores > threshold).astype(np.uint8)
    both = labels.min() != labels.max()
    return {
        "precision": float(precision_score(labels, pred, zero_division=0)),
        "recall": float(recall_score(labels, pred, zero_division=0)),
        "f1": float(f1_score(labels, pred, zero_division=0)),
        "roc_auc": roc_auc(labels, scores) if both else float("nan"),
        "threshold": float(threshold),
    }


# --------------------------------------------------------------------------------------------
# Retrieval
# --------------------------------------------------------------------------------------------
def binarize(codes, thresholds=None):
    """Codes to bits for semantic hashing: 1 where a code value is above its threshold.

    ``thresholds=None`` uses the per-dimension median of ``codes`` (so each bit is 1 for about
    half the items, the most informative split). Pass the thresholds returned for the database
    codes when binarising queries, so both use the same cut.

    Returns:
        ``(bits, thresholds)``: uint8 0/1 array ``(n, code_size)`` and float array ``(code_size,)``.
    """
    codes = np.asarray(codes, dtype=np.float64)
    if codes.ndim != 2:
        raise ValueError(f"codes must be 2-D (n, code_size), got shape {codes.shape}.")
    if thresholds is None:
        thresholds = np.median(codes, axis=0)
    thresholds = np.asarray(thresholds, dtype=np.float64)
    if thresholds.shape != (codes.shape[1],):
        raise ValueError(f"thresholds must have shape ({codes.shape[1]},), one per code dimension, got {thresholds.shape}.")
    return (codes > thresholds).astype(np.uint8), thresholds


def pack_bits(bits):
    """Pack 0/1 bits into bytes along the last axis (8 bits per uint8; zero-padded at the end)."""
    bits = np.asarray(bits)
    if not np.isin(bits, (0, 1)).all():
        raise ValueError("bits must hold only 0 and 1; use binarize(codes) first.")
    return np.packbits(bits.astype(np.uint8), axis=-1)


_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def popcount(x):
    """The number of set bits of every element of an unsigned-integer array (uint8 ... uint64).

    ``np.bitwise_count`` where NumPy has it (2.0 and later); before, a 256-entry table looked
    up on each byte. Same shape as ``x``, dtype uint8.
    """
    x = np.asarray(x)
    if x.dtype.kind != "u":
        raise ValueError(f"popcount takes unsigned integers (uint8 ... uint64), got {x.dtype}.")
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x)
    as_bytes = np.ascontiguousarray(x)[..., None].view(np.uint8)  # (..., itemsize)
    return _POPCOUNT[as_bytes].sum(axis=-1, dtype=np.uint8)


def hamming_distances(query_packed, db_packed):
    """Hamming distances ``(n_query, n_db)`` between packed bit codes (see :func:`pack_bits`).

    The number of differing bits: popcount of the XOR, 64 bits at a time. Computed in chunks
    of queries so the intermediate arrays stay small.
    """
    q, db = np.asarray(query_packed), np.asarray(db_packed)
    if q.dtype != np.uint8 or db.dtype != np.uint8 or q.ndim != 2 or db.ndim != 2 or q.shape[1] != db.shape[1]:
        raise ValueError(
            f"query_packed and db_packed must be 2-D uint8 arrays with the same number of bytes, "
            f"got {q.dtype}{q.shape} and {db.dtype}{db.shape}; make them with pack_bits(bits)."
        )
    # XOR and count 64 bits at a time: zero bytes pad each code to whole words (they never differ).
    pad = ((0, 0), (0, -q.shape[1] % 8))
    q, db = (np.ascontiguousarray(np.pad(a, pad)).view(np.uint64) for a in (q, db))
    out = np.empty((len(q), len(db)), dtype=np.int32)
    step = max(1, _CHUNK_ELEMENTS // max(1, len(db) * q.shape[1]))
    for i in range(0, len(q), step):
        xor = q[i : i + step, None, :] ^ db[None, :, :]
        out[i : i + step] = popcount(xor).sum(axis=-1, dtype=np.int32)
    return out


def precision_at_k(query_codes, query_labels, db_codes, db_labels, k=10, metric="euclidean", exclude_self=False):
    """Mean fraction of each query's ``k`` nearest database items that share its label.

    Args:
        query_codes, db_codes: ``(n, code_size)`` codes; for ``metric="hamming"`` 0/1 bits as
            :func:`binarize` returns.
        query_labels, db_labels: class labels of the rows.
        k: neighbours per query (ties at the k-th distance are broken arbitrarily).
        metric: ``"euclidean"``, ``"cosine"`` (1 - cosine similarity) or ``"hamming"``.
        exclude_self: the queries are the database itself (same rows, same order); do not count
            each item as its own neighbour.

    Distances are computed in float32, a block of queries at a time, so 10,000 queries against
    60,000 items need a few hundred MB, not the 2.4 GB of the whole matrix.
    """
    metrics = ("euclidean", "cosine", "hamming")
    if metric not in metrics:
        raise ValueError(f"metric={metric!r} is unknown; use one of {metrics}.")
    q, db = np.asarray(query_codes), np.asarray(db_codes)
    q_lab, db_lab = np.asarray(query_labels).ravel(), np.asarray(db_labels).ravel()
    if q.ndim != 2 or db.ndim != 2 or q.shape[1] != db.shape[1]:
        raise ValueError(f"query_codes and db_codes must be 2-D with the same code size, got {q.shape} and {db.shape}.")
    if len(q_lab) != len(q) or len(db_lab) != len(db):
        raise ValueError(
            f"one label per code: {len(q)} query codes with {len(q_lab)} labels, {len(db)} db codes with {len(db_lab)} labels."
        )
    if exclude_self and len(q) != len(db):
        raise ValueError(f"exclude_self=True needs the queries to be the database, got {len(q)} queries and {len(db)} db items.")
    available = len(db) - int(bool(exclude_self))
    if not isinstance(k, (int, np.integer)) or not 1 <= k <= available:
        raise ValueError(f"k must be an integer in 1..{available} (the db items available per query), got {k!r}.")

    if metric == "hamming":
        q, db = pack_bits(q), pack_bits(db)
    else:
        q, db = q.astype(np.float32), db.astype(np.float32)
    if metric == "cosine":  # unit rows: cosine similarity is a dot product
        q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
        db = db / np.maximum(np.linalg.norm(db, axis=1, keepdims=True), 1e-12)
    if metric == "euclidean":
        db_sq = (db**2).sum(axis=1)

    hits = 0
    step = max(1, _CHUNK_ELEMENTS // len(db))
    for i in range(0, len(q), step):
        block = q[i : i + step]
        if metric == "hamming":
            d = hamming_distances(block, db).astype(np.float32)
        elif metric == "cosine":
            d = 1.0 - block @ db.T
        else:  # squared distances rank the same as distances
            d = (block**2).sum(axis=1)[:, None] - 2.0 * block @ db.T + db_sq[None, :]
        if exclude_self:
            rows = np.arange(len(block))
            d[rows, i + rows] = np.inf
        nearest = np.argpartition(d, k - 1, axis=1)[:, :k]
        hits += (db_lab[nearest] == q_lab[i : i + step, None]).sum()
    return float(hits / (len(q) * k))


def hamming_map(query_bits, query_labels, db_bits, db_labels, exclude_self=False):
    """Tie-aware mean average precision of Hamming ranking (He et al., CVPR 2018).

    A Hamming ranking has ties: every item at the same distance is equally near. Instead of
    breaking them in an arbitrary order (which flatters or penalises a code at random), each
    query's average precision is its expectation over all orders of the tied items, in closed
    form: for a group of ``n`` items at one distance, ``r`` of them relevant, with ``N`` items
    and ``R`` relevant ones nearer,
    ``sum_t (r/n) (R + 1 + (t - 1)(r - 1)/(n - 1)) / (N + t)`` over the group's positions ``t``.
    Relevant means the same label. Queries with no relevant item are left out of the mean.

    Args:
        query_bits, db_bits: 0/1 codes ``(n, bits)`` (see :func:`binarize`).
        query_labels, db_labels: class labels of the rows.
        exclude_self: the queries are the database itself; do not count each item as its own
            match.
    """
    q_lab, db_lab = np.asarray(query_labels).ravel(), np.asarray(db_labels).ravel()
    q, db = pack_bits(query_bits), pack_bits(db_bits)
    if len(q_lab) != len(q) or len(db_lab) != len(db):
        raise ValueError("one label per code: query_bits/query_labels and db_bits/db_labels must have matching lengths.")
    if exclude_self and len(q) != len(db):
        raise ValueError(f"exclude_self=True needs the queries to be the database, got {len(q)} and {len(db)} items.")
    levels = 8 * q.shape[1] + 1  # distances 0..bits
    harmonic = np.concatenate([[0.0], np.cumsum(1.0 / np.arange(1, len(db) + 1))])
    aps = []
    step = max(1, _CHUNK_ELEMENTS // max(1, len(db)))
    for i in range(0, len(q), step):
        d = hamming_distances(q[i : i + step], db)  # (block, n_db)
        rel = db_lab[None, :] == q_lab[i : i + step, None]
        flat = (np.arange(len(d))[:, None] * levels + d).ravel()
        n = np.bincount(flat, minlength=len(d) * levels).reshape(len(d), levels).astype(np.float64)
        r = np.bincount(flat, weights=rel.ravel(), minlength=len(d) * levels).reshape(len(d), levels)
        if exclude_self:  # each query meets itself at distance 0, relevant
            n[:, 0] -= 1
            r[:, 0] -= 1
        before_n = np.cumsum(n, axis=1) - n
        before_r = np.cumsum(r, axis=1) - r
        b = np.where(n > 1, (r - 1) / np.maximum(n - 1, 1), 0.0)
        a = before_r + 1
        h = harmonic[(before_n + n).astype(int)] - harmonic[before_n.astype(int)]
        # sum over the group's positions t = 1..n of (a + b (t - 1)) / (N + t), in closed form
        group = b * n + (a - b - b * before_n) * h
        contrib = np.where(n > 0, r / np.maximum(n, 1) * group, 0.0)
        total = r.sum(axis=1)
        ok = total > 0
        aps.extend(contrib.sum(axis=1)[ok] / total[ok])
    if not aps:
        raise ValueError("no query has a relevant database item (same label); mean average precision is undefined.")
    return float(np.mean(aps))


# --------------------------------------------------------------------------------------------
# Recommender
# --------------------------------------------------------------------------------------------
def masked_rmse(r_true, r_pred, mask):
    """Root mean squared error over the entries where ``mask`` is True (the observed ratings)."""
    r_true, r_pred = _same_shape(r_true, r_pred, ("r_true", "r_pred"))
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != r_true.shape:
        raise ValueError(f"mask must have the shape of the ratings {r_true.shape}, got {mask.shape}.")
    if not mask.any():
        raise ValueError("mask selects no entries; there is nothing to score.")
    diff = r_true.astype(np.float64)[mask] - r_pred.astype(np.float64)[mask]
    return float(np.sqrt(np.mean(diff**2)))
