"""The six benchmark tasks. Each is a function ``task(ctx)`` that yields result rows.

``ctx`` holds the data (a validation split carved from the training images, never the test
set, is used for early stopping and every choice of hyper-parameter), the sizes of the mode
and a cache of trained models, so a model that two tasks need (the conv AE-32 of compression
and features) is trained once.
"""

import time

import keras
import numpy as np
from keras import layers

import aelib
from aelib.metrics import mse, pca_reconstruct, per_sample_mse, psnr, roc_auc

from .results import make_row

# Every size that differs between the modes; everything else is the same code path.
SIZES = {
    "quick": dict(
        n_train=3000,
        n_test=1000,
        val_fraction=0.1,
        dense_epochs=3,
        conv_epochs=2,
        dae_epochs=6,
        vae_epochs=3,
        anomaly_epochs=4,
        speed_train=2700,
        speed_epochs=2,
        probe_labels=1000,
        seeds=1,
    ),
    "full": dict(
        n_train=None,
        n_test=None,
        val_fraction=5000 / 60000,
        dense_epochs=6,
        conv_epochs=12,
        dae_epochs=4,
        vae_epochs=8,
        anomaly_epochs=15,
        speed_train=12000,
        speed_epochs=10,
        probe_labels=1000,
        seeds=2,
    ),
}
CODE_SIZES = (2, 8, 32)
NOISE_STD = 0.3
LEARNING_RATE = 2e-3  # aelib's recommended Adam rate for its conv and dense AEs (notebook 03)
BATCH = 128
SHAPE = (28, 28, 1)


class Context:
    """Data, sizes and the model cache shared by the tasks of one run."""

    def __init__(self, mode, seed=0):
        self.mode, self.seed, self.size = mode, seed, SIZES[mode]
        (x, y), (xt, yt) = aelib.load_fashion_mnist()
        if self.size["n_train"]:
            x, y = aelib.subset(x, y, self.size["n_train"], seed=seed)
            xt, yt = aelib.subset(xt, yt, self.size["n_test"], seed=seed)
        perm = np.random.default_rng(seed).permutation(len(x))
        n_val = int(round(self.size["val_fraction"] * len(x)))
        val, tr = perm[:n_val], perm[n_val:]
        self.x_train, self.y_train, self.x_val, self.y_val = x[tr], y[tr], x[val], y[val]
        self.x_test, self.y_test = xt, yt
        self.n_train, self.n_test = len(tr), len(xt)
        self.seeds = [seed + i for i in range(self.size["seeds"])]
        self.cache = {}

    def row(self, task, method, metric, values, seconds, note, seeds=None, n_train=None):
        return make_row(
            task,
            method,
            metric,
            values,
            seconds,
            self.mode,
            self.n_train if n_train is None else n_train,
            self.n_test,
            note,
            seeds=self.seeds[:1] if seeds is None else seeds,
        )


def compile_fit(model, x, y, x_val, y_val, epochs, lr=LEARNING_RATE, loss="mse"):
    """Adam with a cosine-decayed rate, early stopping on the validation split (patience 2)."""
    steps = epochs * int(np.ceil(len(x) / BATCH))
    schedule = keras.optimizers.schedules.CosineDecay(lr, steps, alpha=0.05)
    # jit_compile=False: XLA makes these small conv nets ~3-4x slower on this CPU (measured).
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=loss, jit_compile=False)
    stop = keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    val = (x_val,) if y_val is None else (x_val, y_val)
    model.fit(x, y, batch_size=BATCH, epochs=epochs, validation_data=val, callbacks=[stop], verbose=2)
    return model


def trained_ae(ctx, kind, code, seed):
    """The dense or conv AE of a code size, trained on the training split (cached)."""
    key = (kind, code, seed)
    if key not in ctx.cache:
        aelib.set_seed(seed)
        t = time.time()
        if kind == "dense":
            model, epochs = aelib.dense_autoencoder(SHAPE, code, hidden_units=(256,)), ctx.size["dense_epochs"]
        else:
            model, epochs = aelib.conv_autoencoder(SHAPE, code, filters=(32, 64)), ctx.size["conv_epochs"]
        print(f"  training {kind} AE, code {code}, seed {seed} ({epochs} epochs)", flush=True)
        compile_fit(model, ctx.x_train, ctx.x_train, ctx.x_val, ctx.x_val, epochs)
        ctx.cache[key] = (model, time.time() - t)
    return ctx.cache[key]


def trained_vae(ctx, code, seed):
    key = ("vae", code, seed)
    if key not in ctx.cache:
        aelib.set_seed(seed)
        t = time.time()
        vae = aelib.variational_autoencoder(SHAPE, code, architecture="dense", hidden_units=(512, 256), seed=seed)
        epochs = ctx.size["vae_epochs"]
        print(f"  training dense VAE, code {code}, seed {seed} ({epochs} epochs)", flush=True)
        vae.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=False)
        warm = aelib.KLWarmup(epochs=max(1, epochs // 3))
        # Validation losses before the warm-up ends are not comparable (beta < 1): only watch after it.
        stop = keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True, start_from_epoch=warm.epochs)
        vae.fit(ctx.x_train, batch_size=BATCH, epochs=epochs, validation_data=(ctx.x_val,), callbacks=[warm, stop], verbose=2)
        vae.beta = 1.0  # score the true ELBO even if early stopping cut the warm-up short
        ctx.cache[key] = (vae, time.time() - t)
    return ctx.cache[key]


def predict(model, x):
    return model.predict(x, batch_size=512, verbose=0)


# --------------------------------------------------------------------------------------------
# compression
# --------------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------------
# denoising
# --------------------------------------------------------------------------------------------
def _filter_all(fn, x, param):
    return np.stack([fn(img[..., 0], param) for img in x])[..., None].astype(np.float32)


def denoising(ctx):
    from scipy import ndimage
    from skimage.restoration import denoise_tv_chambolle

    noisy_val = aelib.add_gaussian_noise(ctx.x_val, NOISE_STD, seed=ctx.seed + 1)
    noisy_test = aelib.add_gaussian_noise(ctx.x_test, NOISE_STD, seed=ctx.seed + 2)
    t = time.time()
    yield ctx.row(
        "denoising",
        "noisy input",
        "psnr_db",
        psnr(ctx.x_test, noisy_test),
        time.time() - t,
        f"PSNR of the noisy test images themselves (gaussian noise std {NOISE_STD}, clipped to [0, 1])",
    )
    classical = {
        "gaussian blur": (lambda im, s: ndimage.gaussian_filter(im, s), (0.5, 0.75, 1.0, 1.5), "sigma"),
        "median filter": (lambda im, k: ndimage.median_filter(im, size=k), (2, 3, 5), "size"),
        "TV Chambolle": (lambda im, w: denoise_tv_chambolle(im, weight=w), (0.05, 0.1, 0.15, 0.2, 0.3), "weight"),
    }
    tune = min(len(ctx.x_val), 500)
    for name, (fn, grid, pname) in classical.items():
        t = time.time()
        best = max(grid, key=lambda p: psnr(ctx.x_val[:tune], _filter_all(fn, noisy_val[:tune], p)))
        value = psnr(ctx.x_test, _filter_all(fn, noisy_test, best))
        yield ctx.row(
            "denoising",
            name,
            "psnr_db",
            value,
            time.time() - t,
            f"{pname}={best}, chosen from {grid} on {tune} validation images; test PSNR (deterministic)",
        )
    aelib.set_seed(ctx.seed)
    t = time.time()
    dae = aelib.denoising_autoencoder(SHAPE, 128, noise="gaussian", noise_level=NOISE_STD, filters=(32, 64), seed=ctx.seed)
    print(f"  training conv denoising AE ({ctx.size['dae_epochs']} epochs)", flush=True)
    compile_fit(dae, ctx.x_train, ctx.x_train, noisy_val, ctx.x_val, ctx.size["dae_epochs"])
    value = psnr(ctx.x_test, predict(dae, noisy_test))
    yield ctx.row(
        "denoising",
        "denoising AE",
        "psnr_db",
        value,
        time.time() - t,
        f"aelib.denoising_autoencoder conv (32, 64), code 128, fresh noise each step, {ctx.size['dae_epochs']} epochs, "
        "early stopping on noisy validation; one seed (budget); test PSNR",
    )


# --------------------------------------------------------------------------------------------
# generation
# --------------------------------------------------------------------------------------------
def generation(ctx):
    for code in (2, 32):
        vae, train_s = trained_vae(ctx, code, ctx.seed)
        t = time.time()
        res = vae.evaluate(ctx.x_test, batch_size=512, verbose=0, return_dict=True)
        active = vae.active_units(ctx.x_test)
        seconds = train_s + time.time() - t
        base = (
            f"dense VAE (512, 256), Bernoulli decoder, code {code}, Adam 1e-3, {ctx.size['vae_epochs']} epochs, "
            "KL warm-up over the first third; one seed (budget)"
        )
        yield ctx.row(
            "generation",
            f"VAE-{code}",
            "neg_elbo_nats",
            res["loss"],
            seconds,
            base + "; test negative ELBO per image, one posterior sample, beta=1",
        )
        yield ctx.row(
            "generation", f"VAE-{code}", "kl_nats", res["kl_loss"], 0.0, base + "; test KL(q(z|x) || N(0, I)) per image"
        )
        yield ctx.row(
            "generation",
            f"VAE-{code}",
            "active_units",
            active,
            0.0,
            base + f"; code dims whose posterior mean has variance > 0.01 over the test set (of {code})",
        )


# --------------------------------------------------------------------------------------------
# anomaly detection
# --------------------------------------------------------------------------------------------
def _zscore(score, ref):
    return (score - ref.mean()) / (ref.std() + 1e-12)


def _knn_distance(train_codes, codes, k=5):
    from sklearn.neighbors import NearestNeighbors

    nn = NearestNeighbors(n_neighbors=k).fit(train_codes)
    return nn.kneighbors(codes)[0].mean(axis=1)


def anomaly(ctx):
    """One class normal, the nine others anomalous; the validation split gives held-out normal
    images of the class and anomalies (other classes) for choosing PCA's size and the AE's
    score combination."""
    from sklearn.ensemble import IsolationForest

    flat = aelib.flatten
    aucs = {m: [] for m in ("AE reconstruction error", "AE error + code kNN", "PCA reconstruction error", "Isolation Forest")}
    secs = dict.fromkeys(aucs, 0.0)
    picks = {"pca": [], "w": []}
    for c in range(10):
        normal = ctx.x_train[ctx.y_train == c]
        val_labels = (ctx.y_val != c).astype(int)
        test_labels = (ctx.y_test != c).astype(int)
        # PCA: number of components chosen on validation
        t = time.time()
        grid = [k for k in (8, 16, 32, 64) if k < len(normal)]

        def pca_score(k, x, normal=normal):
            return per_sample_mse(x, pca_reconstruct(normal, x, k, seed=ctx.seed)[0])

        k = max(grid, key=lambda k: roc_auc(val_labels, pca_score(k, ctx.x_val)))
        picks["pca"].append(k)
        aucs["PCA reconstruction error"].append(roc_auc(test_labels, pca_score(k, ctx.x_test)))
        secs["PCA reconstruction error"] += time.time() - t
        # Isolation Forest on raw pixels
        t = time.time()
        forest = IsolationForest(n_estimators=200, random_state=ctx.seed).fit(flat(normal))
        aucs["Isolation Forest"].append(roc_auc(test_labels, -forest.score_samples(flat(ctx.x_test))))
        secs["Isolation Forest"] += time.time() - t
        # AE trained on the normal class only
        t = time.time()
        aelib.set_seed(ctx.seed + c)
        ae = aelib.dense_autoencoder(SHAPE, 32, hidden_units=(256,))
        val_normal = ctx.x_val[ctx.y_val == c]
        compile_fit(ae, normal, normal, val_normal, val_normal, ctx.size["anomaly_epochs"])
        encoder = ae.get_layer("encoder")
        err_val, err_test = (per_sample_mse(x, predict(ae, x)) for x in (ctx.x_val, ctx.x_test))
        aucs["AE reconstruction error"].append(roc_auc(test_labels, err_test))
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
        aucs["AE error + code kNN"].append(roc_auc(test_labels, combined(w, err_test, knn_test)))
        secs["AE error + code kNN"] += ae_s + time.time() - t
        print(f"  class {c}: " + ", ".join(f"{m} {a[-1]:.3f}" for m, a in aucs.items()), flush=True)
    notes = {
        "AE reconstruction error": f"dense AE (256, code 32) per class, {ctx.size['anomaly_epochs']} epochs on that class's "
        "training images; score = test MSE per image",
        "AE error + code kNN": "same AE; score = (1-w) z(MSE) + w z(mean distance to 5 nearest normal training codes), "
        f"w per class chosen on validation from 0..1 (chosen: {picks['w']})",
        "PCA reconstruction error": f"PCA fit on the class; components per class chosen on validation from (8, 16, 32, 64) "
        f"(chosen: {picks['pca']}); score = reconstruction MSE",
        "Isolation Forest": "scikit-learn IsolationForest, 200 trees, raw pixels; score = -score_samples",
    }
    for m, a in aucs.items():
        yield ctx.row(
            "anomaly",
            m,
            "mean_roc_auc",
            float(np.mean(a)),
            secs[m],
            notes[m] + f"; test ROC AUC mean over the 10 classes (per class: {', '.join(f'{x:.3f}' for x in a)}); one seed",
        )


# --------------------------------------------------------------------------------------------
# features
# --------------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------------
# training speed
# --------------------------------------------------------------------------------------------
def textbook_conv_autoencoder(code=32):
    """The textbook conv AE: Conv 32 s2, Conv 64 s2, Dense code; mirrored decoder."""
    inputs = keras.Input(SHAPE)
    x = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(inputs)
    x = layers.Conv2D(64, 3, strides=2, padding="same", activation="relu")(x)
    z = layers.Dense(code)(layers.Flatten()(x))
    x = layers.Reshape((7, 7, 64))(layers.Dense(7 * 7 * 64, activation="relu")(z))
    x = layers.Conv2DTranspose(64, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")(x)
    outputs = layers.Conv2D(1, 3, padding="same", activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="textbook")


class EpochClock(keras.callbacks.Callback):
    """Training seconds of each epoch (the test evaluation after it is not timed) and the test
    MSE after it."""

    def __init__(self, name, x_test):
        super().__init__()
        self.name, self.x_test, self.seconds, self.test_mse = name, x_test, [], []

    def on_epoch_begin(self, epoch, logs=None):
        self._t = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._t)
        self.test_mse.append(mse(self.x_test, predict(self.model, self.x_test)))
        print(
            f"    {self.name} epoch {epoch + 1}: {sum(self.seconds):.1f}s trained, test MSE {self.test_mse[-1]:.5f}", flush=True
        )

    def seconds_to(self, target):
        """Cumulative training seconds at the first epoch whose test MSE is <= target (or None)."""
        for i, m in enumerate(self.test_mse):
            if m <= target:
                return sum(self.seconds[: i + 1])
        return None


def speed(ctx):
    """The two set-ups train in lockstep, one epoch each in turn, so that a load on the machine
    that comes and goes slows both alike."""
    n, epochs = min(ctx.size["speed_train"], len(ctx.x_train)), ctx.size["speed_epochs"]
    x = ctx.x_train[:n]
    aelib.set_seed(ctx.seed)
    book = textbook_conv_autoencoder()
    book.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse", jit_compile=False)
    ae = aelib.conv_autoencoder(SHAPE, 32, filters=(32, 64))
    ae.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss="mse", jit_compile=False)
    clocks = {"textbook": EpochClock("textbook", ctx.x_test), "aelib": EpochClock("aelib", ctx.x_test)}
    print(f"  textbook and aelib conv AEs, {epochs} epochs each on {n} images, alternating", flush=True)
    for e in range(epochs):
        book.fit(x, x, batch_size=128, initial_epoch=e, epochs=e + 1, callbacks=[clocks["textbook"]], verbose=0)
        ae.fit(x, x, batch_size=BATCH, initial_epoch=e, epochs=e + 1, callbacks=[clocks["aelib"]], verbose=0)
    target, book_s = clocks["textbook"].test_mse[-1], sum(clocks["textbook"].seconds)
    e = epochs
    while clocks["aelib"].seconds_to(target) is None and e < 2 * epochs:  # not there yet: keep going
        ae.fit(x, x, batch_size=BATCH, initial_epoch=e, epochs=e + 1, callbacks=[clocks["aelib"]], verbose=0)
        e += 1
    reached = clocks["aelib"].seconds_to(target)
    reached_epoch = next((i + 1 for i, m in enumerate(clocks["aelib"].test_mse) if m <= target), None)
    common = (
        f"{n} training images, batch 128, jit_compile=False for both (XLA is slower on this CPU); the two train in "
        "alternating epochs so machine load hits both alike; seconds exclude the per-epoch test evaluation"
    )
    yield ctx.row(
        "speed",
        "textbook",
        "final_test_mse",
        target,
        book_s,
        f"Conv 32 s2, Conv 64 s2, Dense 32; Dense, ConvT 64 s2, ConvT 32 s2, Conv 1 sigmoid; MSE, Adam 1e-3, "
        f"{epochs} epochs; {common}",
        n_train=n,
    )
    yield ctx.row(
        "speed",
        "textbook",
        "seconds_to_target",
        book_s,
        book_s,
        f"training seconds of its {epochs} epochs (its final test MSE is the target)",
        n_train=n,
    )
    yield ctx.row(
        "speed",
        "aelib",
        "seconds_to_target",
        float("nan") if reached is None else reached,
        sum(clocks["aelib"].seconds),
        f"aelib.conv_autoencoder (32, 64) code 32, Adam {LEARNING_RATE}, batch {BATCH}: training seconds until the test MSE "
        f"first fell to the textbook's final {target:.5f} (checked after each epoch; reached after "
        f"{reached_epoch} epochs; None/null = not within {2 * epochs})",
        n_train=n,
    )
    yield ctx.row(
        "speed",
        "aelib / textbook",
        "time_ratio_to_target",
        float("nan") if reached is None else reached / book_s,
        0.0,
        "aelib seconds to target / textbook seconds (lower is better)",
        n_train=n,
    )
    for name, clock in clocks.items():
        yield ctx.row(
            "speed",
            name,
            "samples_per_second",
            n * len(clock.seconds) / sum(clock.seconds),
            sum(clock.seconds),
            f"training images per second over its {len(clock.seconds)} epochs, batch {BATCH}",
            n_train=n,
        )


TASK_FUNCTIONS = {
    "speed": speed,
    "compression": compression,
    "denoising": denoising,
    "generation": generation,
    "anomaly": anomaly,
    "features": features,
}
