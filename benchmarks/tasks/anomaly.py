"""anomaly: one Fashion-MNIST class normal, the nine others anomalous (mean ROC AUC)."""

import time

import numpy as np

from ..registry import Task, goal


def _imports():
    """Keras, aelib and the shared helpers, imported when the task runs (the CLI and the goals need none)."""
    global aelib, pca_reconstruct, per_sample_mse, roc_auc, SHAPE, compile_fit, predict
    import aelib
    from aelib.metrics import pca_reconstruct, per_sample_mse, roc_auc

    from ..common import SHAPE, compile_fit, predict


def _zscore(score, ref):
    return (score - ref.mean()) / (ref.std() + 1e-12)


def _knn_distance(train_codes, codes, k=5):
    from sklearn.neighbors import NearestNeighbors

    nn = NearestNeighbors(n_neighbors=k).fit(train_codes)
    return nn.kneighbors(codes)[0].mean(axis=1)


ANOMALY_SVM_GRID = [dict(nu=nu, gamma=g) for nu in (0.05, 0.2) for g in (0.3, 1.0, 3.0)]  # gamma x scikit-learn's "scale"


def _fit_svm(codes_normal, nu, gamma):
    from sklearn.svm import OneClassSVM

    scale = 1.0 / (codes_normal.shape[1] * codes_normal.var())
    return OneClassSVM(nu=nu, gamma=gamma * scale).fit(codes_normal)


def anomaly(ctx):
    """One class normal, the nine others anomalous; the validation split gives held-out normal
    images of the class and anomalies (other classes) for choosing PCA's size, the AE's score
    combination and the one-class SVM's nu and gamma. The test anomalies are never looked at
    before the final score. AEs and Isolation Forests run once per seed (full mode: 2 seeds);
    PCA and the one-class SVM are deterministic and run once."""
    from sklearn.decomposition import PCA
    from sklearn.ensemble import IsolationForest

    flat = aelib.flatten
    methods = ("AE reconstruction error", "AE error + code kNN", "PCA reconstruction error", "Isolation Forest", "one-class SVM")
    seeded = ("AE reconstruction error", "AE error + code kNN", "Isolation Forest")
    aucs = {m: {s: [] for s in (ctx.seeds if m in seeded else ctx.seeds[:1])} for m in methods}
    secs = dict.fromkeys(methods, 0.0)
    picks = {"pca": [], "w": [], "svm": []}
    for c in range(10):
        normal = ctx.x_train[ctx.y_train == c]
        val_labels = (ctx.y_val != c).astype(int)
        test_labels = (ctx.y_test != c).astype(int)
        first = ctx.seeds[0]
        # PCA: number of components chosen on validation
        t = time.time()
        grid = [k for k in (8, 16, 32, 64) if k < len(normal)]

        def pca_score(k, x, normal=normal):
            return per_sample_mse(x, pca_reconstruct(normal, x, k, seed=ctx.seed)[0])

        k = max(grid, key=lambda k: roc_auc(val_labels, pca_score(k, ctx.x_val)))
        picks["pca"].append(k)
        aucs["PCA reconstruction error"][first].append(roc_auc(test_labels, pca_score(k, ctx.x_test)))
        secs["PCA reconstruction error"] += time.time() - t
        # one-class SVM (RBF) on the class's 32 PCA codes; nu and gamma chosen on validation
        t = time.time()
        pca = PCA(32, random_state=ctx.seed).fit(flat(normal))
        c_norm, c_val, c_test = (pca.transform(flat(x)) for x in (normal, ctx.x_val, ctx.x_test))
        svms = [_fit_svm(c_norm, **p) for p in ANOMALY_SVM_GRID]  # each fitted once; the chosen one scores the test
        best = int(np.argmax([roc_auc(val_labels, -svm.score_samples(c_val)) for svm in svms]))
        picks["svm"].append((ANOMALY_SVM_GRID[best]["nu"], ANOMALY_SVM_GRID[best]["gamma"]))
        aucs["one-class SVM"][first].append(roc_auc(test_labels, -svms[best].score_samples(c_test)))
        secs["one-class SVM"] += time.time() - t
        for seed in ctx.seeds:
            # Isolation Forest on raw pixels
            t = time.time()
            forest = IsolationForest(n_estimators=200, random_state=seed).fit(flat(normal))
            aucs["Isolation Forest"][seed].append(roc_auc(test_labels, -forest.score_samples(flat(ctx.x_test))))
            secs["Isolation Forest"] += time.time() - t
            # AE trained on the normal class only
            t = time.time()
            aelib.set_seed(seed + c)
            ae = aelib.dense_autoencoder(SHAPE, 32, hidden_units=(256,))
            val_normal = ctx.x_val[ctx.y_val == c]
            compile_fit(ae, normal, normal, val_normal, val_normal, ctx.size["anomaly_epochs"])
            encoder = ae.get_layer("encoder")
            err_val, err_test = (per_sample_mse(x, predict(ae, x)) for x in (ctx.x_val, ctx.x_test))
            aucs["AE reconstruction error"][seed].append(roc_auc(test_labels, err_test))
            ae_s = time.time() - t
            secs["AE reconstruction error"] += ae_s
            # AE error rank-combined with the distance to the 5 nearest normal codes
            t = time.time()
            train_codes = predict(encoder, normal)
            knn_val, knn_test = (_knn_distance(train_codes, predict(encoder, x)) for x in (ctx.x_val, ctx.x_test))
            ref_err, ref_knn = err_val[val_labels == 0], knn_val[val_labels == 0]

            def combined(w, err, knn, ref_err=ref_err, ref_knn=ref_knn):
                return (1 - w) * _zscore(err, ref_err) + w * _zscore(knn, ref_knn)

            w = max((0.0, 0.25, 0.5, 0.75, 1.0), key=lambda w: roc_auc(val_labels, combined(w, err_val, knn_val)))
            picks["w"].append(w)
            aucs["AE error + code kNN"][seed].append(roc_auc(test_labels, combined(w, err_test, knn_test)))
            secs["AE error + code kNN"] += ae_s + time.time() - t
        print(f"  class {c}: " + ", ".join(f"{m} {a[first][-1]:.3f}" for m, a in aucs.items()), flush=True)
    notes = {
        "AE reconstruction error": f"dense AE (256, code 32) per class, {ctx.size['anomaly_epochs']} epochs on that class's "
        "training images; score = test MSE per image",
        "AE error + code kNN": "same AE; score = (1-w) z(MSE) + w z(mean distance to 5 nearest normal training codes), "
        f"w per class and seed chosen on validation from 0..1 (chosen: {picks['w']})",
        "PCA reconstruction error": f"PCA fit on the class; components per class chosen on validation from (8, 16, 32, 64) "
        f"(chosen: {picks['pca']}); score = reconstruction MSE; deterministic",
        "Isolation Forest": "scikit-learn IsolationForest, 200 trees, raw pixels; score = -score_samples",
        "one-class SVM": "scikit-learn OneClassSVM (RBF) on the 32 PCA codes of the class's training images; nu from "
        "(0.05, 0.2) and gamma from (0.3, 1, 3) x 1 / (32 x code variance) chosen per class on validation (normal "
        f"held-out images of the class and other classes), chosen (nu, gamma): {picks['svm']}; score = -score_samples; "
        "deterministic",
    }
    for m, per_seed in aucs.items():
        seeds = list(per_seed)
        means = [float(np.mean(per_seed[s])) for s in seeds]
        per_class = np.mean([per_seed[s] for s in seeds], axis=0)
        yield ctx.row(
            "anomaly",
            m,
            "mean_roc_auc",
            means,
            secs[m],
            notes[m] + f"; test ROC AUC mean over the 10 classes (per class, mean over seeds: "
            f"{', '.join(f'{x:.3f}' for x in per_class)}); seeds {seeds} (spread = over seeds)",
            seeds=seeds,
        )


def goals(v, rows, mode):
    ae_auc = max(
        [
            a
            for a in (v("anomaly", m, "mean_roc_auc") for m in ("AE reconstruction error", "AE error + code kNN"))
            if a is not None
        ],
        default=None,
    )
    rivals = [
        a
        for a in (v("anomaly", m, "mean_roc_auc") for m in ("PCA reconstruction error", "Isolation Forest", "one-class SVM"))
        if a is not None
    ]
    g = goal(
        "mean one-class ROC AUC >= 0.935 (GEOM: 93.5) and above PCA, Isolation Forest, one-class SVM",
        ae_auc,
        0.935,
        True,
        "best AE-based score",
        "not a conv AE per class: aelib.conv_autoencoder (32, 64) code 32, 15 epochs per class, gave no gain on "
        "validation over the dense AE (4 classes: error alone 0.02 lower, error + kNN +0.001) at ~3.5x the time; "
        "untried: ensembles of several per-class AEs",
    )
    if g["met"] and rivals and ae_auc <= max(rivals):
        g.update(met=False, detail=f"reaches 0.935 but not above PCA / Isolation Forest / one-class SVM ({max(rivals):.3f})")
    elif rivals:
        g["detail"] += f"; best of PCA / Isolation Forest / one-class SVM {max(rivals):.3f}"
    return [g]


def headline(v):
    return (
        "mean one-class ROC AUC over the 10 classes",
        ", ".join(
            f"{m} {v('anomaly', m, 'mean_roc_auc')}" for m in ("PCA reconstruction error", "Isolation Forest", "one-class SVM")
        ),
        ", ".join(f"{m} {v('anomaly', m, 'mean_roc_auc')}" for m in ("AE reconstruction error", "AE error + code kNN")),
    )


def run(ctx):
    _imports()
    return anomaly(ctx)


TASK = Task(
    "anomaly",
    "one class normal, nine anomalous, all ten choices: AE, PCA, Isolation Forest,\n"
    "one-class SVM on PCA codes (mean test ROC AUC, spread over 2 seeds in full)",
    run,
    goals,
    headline,
)
