"""compression: PCA, dense AE and conv AE at code sizes 2, 8, 32 (test MSE per pixel)."""

import time

from ..registry import Task, goal


def _imports():
    """Keras, aelib and the shared helpers, imported when the task runs (the CLI and the goals need none)."""
    global mse, pca_reconstruct, BATCH, CODE_SIZES, LEARNING_RATE, predict, trained_ae
    from aelib.metrics import mse, pca_reconstruct

    from ..common import BATCH, CODE_SIZES, LEARNING_RATE, predict, trained_ae


def compression(ctx):
    for code in CODE_SIZES:
        t = time.time()
        x_hat, _ = pca_reconstruct(ctx.x_train, ctx.x_test, code, seed=ctx.seed)
        pca_mse = mse(ctx.x_test, x_hat)
        yield ctx.row(
            "compression",
            "PCA",
            f"test_mse_{code}",
            pca_mse,
            time.time() - t,
            f"scikit-learn PCA with {code} components fit on the training split; test MSE per pixel (deterministic)",
        )
        for kind in ("dense", "conv"):
            seeds = ctx.seeds if kind == "dense" else ctx.seeds[:1]
            values, seconds = [], 0.0
            for s in seeds:
                model, train_s = trained_ae(ctx, kind, code, s)
                t = time.time()
                values.append(mse(ctx.x_test, predict(model, ctx.x_test)))
                seconds += train_s + time.time() - t
            arch = (
                "Dense 256 - code, mirrored; " + f"{ctx.size['dense_epochs']} epochs"
                if kind == "dense"
                else "aelib.conv_autoencoder filters (32, 64); " + f"{ctx.size['conv_epochs']} epochs"
            )
            skip = "" if len(seeds) == len(ctx.seeds) else "; one seed only (a second would exceed the time budget)"
            note = f"{arch}, Adam {LEARNING_RATE} cosine, batch {BATCH}, early stopping on validation; test MSE per pixel{skip}"
            yield ctx.row("compression", f"{kind} AE", f"test_mse_{code}", values, seconds, note, seeds=seeds)
            yield ctx.row(
                "compression",
                f"{kind} AE",
                f"mse_ratio_vs_pca_{code}",
                [v / pca_mse for v in values],
                0.0,
                f"{kind} AE test MSE / PCA-{code} test MSE (lower is better){skip}",
                seeds=seeds,
            )


def goals(v, rows, mode):
    """Two goals: the better AE's test MSE / PCA's at code 32 and at code 2."""
    out = []
    for code, target in ((32, 0.45), (2, 0.60)):
        ratios = {m: v("compression", f"{m} AE", f"mse_ratio_vs_pca_{code}") for m in ("dense", "conv")}
        ratios = {m: r for m, r in ratios.items() if r is not None}
        best = min(ratios, key=ratios.get) if ratios else None
        out.append(
            goal(
                f"AE / PCA test MSE ratio at code size {code} <= {target}",
                ratios.get(best),
                target,
                False,
                f"best AE: {best}" if best else "",
                "more capacity than fits the 45-minute CPU budget: 3x more epochs of the (32, 64) conv AE (4 -> 12) cut the "
                "code-32 ratio only from 0.63 to ~0.5, and a (64, 128) conv AE trains ~4x slower per image here (~90 s per "
                "epoch), so its 30+ epochs need a GPU or a longer budget"
                if code == 32
                else "at code 2 the dense and conv AEs end level, so the bottleneck, not the encoder, limits them: more "
                "epochs (the dense AE's validation error was still falling, slowly, at its last of 6) or a deeper decoder",
            )
        )
    return out


def headline(v):
    codes = (2, 8, 32)
    return (
        "test MSE per pixel at code 2 / 8 / 32",
        "PCA " + " / ".join(v("compression", "PCA", f"test_mse_{c}") for c in codes),
        "conv AE "
        + " / ".join(v("compression", "conv AE", f"test_mse_{c}") for c in codes)
        + "; dense AE "
        + " / ".join(v("compression", "dense AE", f"test_mse_{c}") for c in codes),
    )


def run(ctx):
    _imports()
    return compression(ctx)


TASK = Task(
    "compression",
    "PCA, dense AE and conv AE at code sizes 2, 8, 32: test MSE per pixel, AE/PCA",
    run,
    goals,
    headline,
)
