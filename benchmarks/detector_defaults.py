"""How ``aelib.detector.AutoencoderDetector``'s defaults were chosen: ``python -m benchmarks.detector_defaults``.

Three tables that scikit-learn ships, each turned into novelty-detection tasks:

- breast cancer: benign rows normal, malignant rows the anomalies (1 task);
- wine: each cultivar in turn the anomalies, the other two normal (3 tasks);
- digits: each digit in turn normal, the other nine the anomalies (10 tasks).

Per task and seed, the normal rows are split 60 / 20 / 20 into fit / validation / test and the
anomalies half into validation, half into test. Detectors see only the fit rows (the
autoencoder holds out its own 20% of them for early stopping and its threshold), behind a
``VarianceThreshold`` that drops the pixels that never change on them (digits). A coordinate
search changes one hyper-parameter at a time, keeping the value with the best mean validation
ROC AUC (mean over tables of the mean over tasks and seeds); the test rows are scored once, for
the chosen setting and for ``IsolationForest`` (default settings, same fit rows).

About 75 minutes on 2 (shared) CPU cores; ``AELIB_QUICK=1`` runs a few-minute smoke version (one seed,
two digits, at most 20 epochs, the first two values of each step) with the same code path.
"""

import os
import time

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.ensemble import IsolationForest
from sklearn.feature_selection import VarianceThreshold
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline

from aelib.detector import AutoencoderDetector

QUICK = os.environ.get("AELIB_QUICK") == "1"


def pick(quick, full):
    """The quick-mode or the full-mode value."""
    return quick if QUICK else full


SEEDS = {"breast cancer": pick((0,), (0, 1, 2)), "wine": pick((0,), (0, 1, 2)), "digits": (0,)}
DIGITS = pick((0, 1), tuple(range(10)))
# Fixed, not searched: they set the training time more than the quality.
FIXED = dict(epochs=pick(20, 300), patience=10, batch_size=32, learning_rate=3e-3, validation_fraction=0.2)
START = dict(hidden_units=(32,), latent_dim=0.25, noise_std=0.1, n_estimators=1)
STEPS = (
    ("latent_dim", (0.1, 0.25, 0.5)),
    ("hidden_units", ((16,), (32,), (64,), (64, 32))),
    ("noise_std", (0.0, 0.1, 0.3)),
    ("n_estimators", (1, 3, 5)),
)


def tasks(digits=None):
    """(table, task, X, normal) for every task; ``normal`` is a boolean mask of the normal rows.
    ``digits``: the digits that take turns as the normal class (default: ``DIGITS``)."""
    X, y = load_breast_cancer(return_X_y=True)
    yield "breast cancer", "benign normal", X, y == 1
    X, y = load_wine(return_X_y=True)
    for c in range(3):
        yield "wine", f"class {c} anomalous", X, y != c
    X, y = load_digits(return_X_y=True)
    for d in DIGITS if digits is None else digits:
        yield "digits", f"digit {d} normal", X, y == d


def split(normal, seed):
    """Row indices: fit (normal only), validation and test (each a pair: normal, anomalous)."""
    rng = np.random.default_rng(seed)
    norm, anom = rng.permutation(np.flatnonzero(normal)), rng.permutation(np.flatnonzero(~normal))
    a, b, h = int(0.6 * len(norm)), int(0.8 * len(norm)), len(anom) // 2
    return norm[:a], (norm[a:b], anom[:h]), (norm[b:], anom[h:])


def labels_scores(model, X, part):
    """Labels (anomalies 1, normal rows 0) and anomaly scores ``-score_samples`` of ``part``."""
    norm, anom = part
    labels = np.r_[np.zeros(len(norm)), np.ones(len(anom))]
    return labels, -model.score_samples(X[np.r_[norm, anom]])


def roc_auc(model, X, part):
    """ROC AUC of ``-score_samples`` for anomalies (label 1) against normal rows (label 0)."""
    return roc_auc_score(*labels_scores(model, X, part))


def make(params, seed):
    if params == "IF":
        return IsolationForest(random_state=seed)
    return make_pipeline(VarianceThreshold(), AutoencoderDetector(**FIXED, **params, random_state=seed))


def evaluate(params, part="validation"):
    """Mean ROC AUC per table on ``part`` ("validation" or "test"), and the seconds it took."""
    start, per_table = time.time(), {}
    for table, _, X, normal in tasks():
        for seed in SEEDS[table]:
            fit, val, test = split(normal, seed)
            model = make(params, seed).fit(X[fit])
            per_table.setdefault(table, []).append(roc_auc(model, X, val if part == "validation" else test))
    return {t: float(np.mean(v)) for t, v in per_table.items()}, time.time() - start


def describe(params):
    return "IsolationForest()" if params == "IF" else ", ".join(f"{k}={v}" for k, v in params.items())


def search():
    """Coordinate search on the validation rows: the best setting and its per-table ROC AUC."""
    tried, best = {}, dict(START)

    def score(params):
        key = describe(params)
        if key not in tried:
            tried[key] = evaluate(params)
            aucs, seconds = tried[key]
            print(
                f"{np.mean(list(aucs.values())):.4f}  {seconds:5.0f} s  {key}  "
                + "  ".join(f"{t} {v:.3f}" for t, v in aucs.items()),
                flush=True,
            )
        return np.mean(list(tried[key][0].values()))

    for name, values in STEPS:
        best = max(({**best, name: v} for v in pick(values[:2], values)), key=score)
    return best, tried[describe(best)][0]


def main():
    print("validation ROC AUC, mean over tables (then per table), one hyper-parameter at a time:")
    best, best_val = search()
    chosen = {**FIXED, **best}
    defaults = {k: v for k, v in AutoencoderDetector().get_params().items() if k in chosen}
    print(f"\nchosen: {describe(chosen)}")
    if defaults != chosen:
        print(f"AutoencoderDetector's defaults differ: {describe(defaults)}")
    # The test rows, once: for the chosen setting and for IsolationForest.
    ae = best_val, evaluate(best, "test")[0]
    forest = evaluate("IF")[0], evaluate("IF", "test")[0]
    print("\nROC AUC (mean over tasks and seeds):\n")
    print("| table | autoencoder, validation | IsolationForest, validation | autoencoder, test | IsolationForest, test |")
    print("| --- | --- | --- | --- | --- |")
    for table in [*SEEDS, "mean"]:
        cells = [np.mean(list(r.values())) if table == "mean" else r[table] for r in (ae[0], forest[0], ae[1], forest[1])]
        print(f"| {table} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")


if __name__ == "__main__":
    main()
