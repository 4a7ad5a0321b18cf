"""features: a linear probe on 1,000 labels over raw pixels, PCA and AE codes (test accuracy)."""

import time

import numpy as np

from ..registry import Task, goal


def _imports():
    """Keras, aelib and the shared helpers, imported when the task runs (the CLI and the goals need none)."""
    global aelib, predict, trained_ae, trained_vae
    import aelib

    from ..common import predict, trained_ae, trained_vae


def features(ctx):
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    n = ctx.size["probe_labels"]
    idx = np.random.default_rng(ctx.seed).choice(len(ctx.x_train), size=n, replace=False)
    x_lab, y_lab = ctx.x_train[idx], ctx.y_train[idx]
    dense, _ = trained_ae(ctx, "dense", 32, ctx.seed)
    conv, _ = trained_ae(ctx, "conv", 32, ctx.seed)
    vae, _ = trained_vae(ctx, 32, ctx.seed)

    def pca_codes(x):
        from sklearn.decomposition import PCA

        pca = ctx.cache.setdefault("pca32", PCA(32, random_state=ctx.seed).fit(aelib.flatten(ctx.x_train)))
        return pca.transform(aelib.flatten(x))

    featurizers = {
        "raw pixels": aelib.flatten,
        "PCA-32 codes": pca_codes,
        "dense AE-32 codes": lambda x: predict(dense.get_layer("encoder"), x),
        "conv AE-32 codes": lambda x: predict(conv.get_layer("encoder"), x),
        "VAE-32 means": lambda x: vae.encode(x)[0],
    }
    for name, f in featurizers.items():
        t = time.time()
        probe = make_pipeline(StandardScaler(), LogisticRegressionCV(Cs=(0.01, 0.1, 1.0), cv=3, max_iter=2000))
        probe.fit(f(x_lab), y_lab)
        acc = float((probe.predict(f(ctx.x_test)) == ctx.y_test).mean())
        yield ctx.row(
            "features",
            name,
            "test_accuracy",
            acc,
            time.time() - t,
            f"standardised features + logistic regression on {n} labelled training images, C from (0.01, 0.1, 1) by "
            "3-fold CV on them; test accuracy (models reused from compression / generation, unsupervised on the "
            "training split; seconds exclude their training)",
            n_train=n,
        )


def goals(v, rows, mode):
    pca = v("features", "PCA-32 codes", "test_accuracy")
    aes = {m: v("features", m, "test_accuracy") for m in ("dense AE-32 codes", "conv AE-32 codes")}
    aes = {m: a for m, a in aes.items() if a is not None}
    best = max(aes, key=aes.get) if aes else None
    return [
        goal(
            "AE-32 codes beat PCA-32 codes in the linear probe",
            None if best is None or pca is None else aes[best] - pca,
            0.0,
            True,
            f"value = accuracy gain of {best} over PCA-32" if best else "",
            "more AE epochs, or a denoising/contractive AE for the features",
        )
    ]


def headline(v):
    return (
        "logistic regression on 1,000 labels, test accuracy",
        f"raw pixels {v('features', 'raw pixels', 'test_accuracy')}, PCA-32 {v('features', 'PCA-32 codes', 'test_accuracy')}",
        ", ".join(f"{m} {v('features', m + ' codes', 'test_accuracy')}" for m in ("conv AE-32", "dense AE-32"))
        + f", VAE-32 means {v('features', 'VAE-32 means', 'test_accuracy')}",
    )


def run(ctx):
    _imports()
    return features(ctx)


TASK = Task(
    "features",
    "logistic regression on 1,000 labelled images: raw pixels, PCA-32, AE-32,\nVAE-32 codes (test accuracy)",
    run,
    goals,
    headline,
)
