"""The benchmark tasks. Each is a function ``task(ctx)`` that yields result rows.

``ctx`` holds the data (a validation split carved from the training images, never the test
set, is used for early stopping and every choice of hyper-parameter), the sizes of the mode
and a cache of trained models, so a model that two tasks need (the conv AE-32 of compression
and features) is trained once.
"""

import os
import platform
import time

import keras
import numpy as np
from keras import layers
from sklearn.base import BaseEstimator

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
        hash_epochs=3,
        hash_queries=1000,
        tabular_splits={"breast cancer": 1, "wine": 1, "digits": 1},
        tabular_detector=dict(epochs=10, n_estimators=1),  # a smoke test of the same code path
        iwae_images=200,
        peer_codes=(32,),
        peer_train=None,
        clock_images=1000,
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
        hash_epochs=10,
        hash_queries=2000,
        # digits: one split per digit, as benchmarks/detector_defaults.py does (ten tasks already;
        # five splits of each would add ~40 detector fits to the run)
        tabular_splits={"breast cancer": 5, "wine": 5, "digits": 1},
        tabular_detector={},  # AutoencoderDetector's defaults
        iwae_images=1000,
        peer_codes=(2, 32),
        peer_train=6000,  # the peers' conv VAEs train ~5x slower per image than aelib's dense VAE (45-minute budget)
        clock_images=2000,
    ),
}
CODE_SIZES = (2, 8, 32)
NOISE_STD = 0.3
LEARNING_RATE = 2e-3  # aelib's recommended Adam rate for its conv and dense AEs (notebook 03)
BATCH = 128
SHAPE = (28, 28, 1)
BACKEND = keras.backend.backend()
# jit_compile=False on TensorFlow: XLA makes these small conv nets ~3-4x slower on this CPU
# (measured). On JAX it would run every step op by op, uncompiled: there, jit is the normal path.
JIT = BACKEND == "jax"
JIT_NOTE = "jit_compile=True (JAX)" if JIT else "jit_compile=False (XLA is slower on this CPU)"


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
        self.backend = BACKEND

    def row(self, task, method, metric, values, seconds, note, seeds=None, n_train=None, n_test=None):
        return make_row(
            task,
            method,
            metric,
            values,
            seconds,
            self.mode,
            self.n_train if n_train is None else n_train,
            self.n_test if n_test is None else n_test,
            note,
            seeds=self.seeds[:1] if seeds is None else seeds,
            backend=self.backend,
        )


def compile_fit(model, x, y, x_val, y_val, epochs, lr=LEARNING_RATE, loss="mse"):
    """Adam with a cosine-decayed rate, early stopping on the validation split (patience 2)."""
    steps = epochs * int(np.ceil(len(x) / BATCH))
    schedule = keras.optimizers.schedules.CosineDecay(lr, steps, alpha=0.05)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=loss, jit_compile=JIT)
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


def trained_vae(ctx, code, seed, n=None):
    """The dense VAE of a code size, trained on the training split (or its first ``n`` images)."""
    key = ("vae", code, seed, n)
    x_train = ctx.x_train[:n]
    if key not in ctx.cache:
        aelib.set_seed(seed)
        t = time.time()
        vae = aelib.variational_autoencoder(SHAPE, code, architecture="dense", hidden_units=(512, 256), seed=seed)
        epochs = ctx.size["vae_epochs"]
        print(f"  training dense VAE, code {code}, seed {seed} ({epochs} epochs)", flush=True)
        vae.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=JIT)
        warm = aelib.KLWarmup(epochs=max(1, epochs // 3))
        # Validation losses before the warm-up ends are not comparable (beta < 1): only watch after it.
        stop = keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True, start_from_epoch=warm.epochs)
        clock = ElboClock(f"aelib VAE-{code}", ctx.x_test[: ctx.size["clock_images"]])
        vae.fit(x_train, batch_size=BATCH, epochs=epochs, validation_data=(ctx.x_val,), callbacks=[warm, stop, clock], verbose=2)
        vae.beta = 1.0  # score the true ELBO even if early stopping cut the warm-up short
        ctx.cache[key] = (vae, time.time() - t - clock.eval_seconds)
        ctx.cache[("vae clock", code, seed, n)] = clock
    return ctx.cache[key]


class EpochClock(keras.callbacks.Callback):
    """Training seconds of each epoch (the test evaluation after it is not timed) and a test
    score after it: the MSE here, the negative ELBO in ElboClock; lower is better."""

    label, digits = "test MSE", 5

    def __init__(self, name, x_test):
        super().__init__()
        self.name, self.x_test, self.seconds, self.scores, self.eval_seconds = name, x_test, [], [], 0.0

    def score(self):
        return mse(self.x_test, predict(self.model, self.x_test))

    def on_epoch_begin(self, epoch, logs=None):
        self._t = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._t)
        t = time.perf_counter()
        self.scores.append(self.score())
        self.eval_seconds += time.perf_counter() - t
        print(
            f"    {self.name} epoch {epoch + 1}: {sum(self.seconds):.1f}s trained, {self.label} {self.scores[-1]:.{self.digits}f}",
            flush=True,
        )

    def epochs_to(self, target):
        """How many epochs until the score was first <= target (or None)."""
        return next((i + 1 for i, m in enumerate(self.scores) if m <= target), None)

    def seconds_to(self, target):
        """Cumulative training seconds at the first epoch whose score is <= target (or None)."""
        n = self.epochs_to(target)
        return None if n is None else sum(self.seconds[:n])


class ElboClock(EpochClock):
    """EpochClock scoring the test negative ELBO (reconstruction + KL, i.e. at beta = 1 whatever
    the warm-up's beta)."""

    label, digits = "test -ELBO", 2

    def score(self):
        res = self.model.evaluate(self.x_test, batch_size=512, verbose=0, return_dict=True)
        return float(res["reconstruction_loss"] + res["kl_loss"])


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
def keras_io_vae(code, seed):
    """The keras-io ``vae.py`` example's layout (fchollet): Conv 32 s2, Conv 64 s2, Dense 16,
    Dense mean and log-variance; Dense 7x7x64, ConvT 64 s2, ConvT 32 s2, ConvT 1 (sigmoid), all
    ReLU and "same" padding. The final sigmoid is split off as its own layer so that aelib.VAE
    reads the logits (the same function)."""
    inputs = keras.Input(SHAPE)
    x = layers.Conv2D(32, 3, activation="relu", strides=2, padding="same")(inputs)
    x = layers.Conv2D(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Dense(16, activation="relu")(layers.Flatten()(x))
    mean, log_var = layers.Dense(code, name="z_mean")(x), layers.Dense(code, name="z_log_var")(x)
    encoder = keras.Model(inputs, [mean, log_var, aelib.layers.Sampling(seed=seed)([mean, log_var])], name="encoder")
    z = keras.Input((code,))
    x = layers.Reshape((7, 7, 64))(layers.Dense(7 * 7 * 64, activation="relu")(z))
    x = layers.Conv2DTranspose(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Activation("sigmoid")(layers.Conv2DTranspose(1, 3, padding="same")(x))
    return aelib.VAE(encoder, keras.Model(z, x, name="decoder"), name="keras_io_vae")


def tf_cvae(code, seed):
    """The TensorFlow ``cvae`` tutorial's layout: Conv 32 s2, Conv 64 s2 ("valid" padding), Dense
    to 2 x latent (mean, log-variance); Dense 7x7x32, ConvT 64 s2, ConvT 32 s2, ConvT 1 (logits;
    here followed by a sigmoid layer that aelib.VAE strips to read them)."""
    inputs = keras.Input(SHAPE)
    x = layers.Conv2D(32, 3, strides=2, activation="relu")(inputs)
    x = layers.Conv2D(64, 3, strides=2, activation="relu")(x)
    both = layers.Dense(2 * code)(layers.Flatten()(x))
    mean, log_var = layers.Lambda(lambda t: t[:, :code])(both), layers.Lambda(lambda t: t[:, code:])(both)
    encoder = keras.Model(inputs, [mean, log_var, aelib.layers.Sampling(seed=seed)([mean, log_var])], name="encoder")
    z = keras.Input((code,))
    x = layers.Reshape((7, 7, 32))(layers.Dense(7 * 7 * 32, activation="relu")(z))
    x = layers.Conv2DTranspose(64, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Activation("sigmoid")(layers.Conv2DTranspose(1, 3, strides=1, padding="same")(x))
    return aelib.VAE(encoder, keras.Model(z, x, name="decoder"), name="tf_cvae")


PEERS = {  # name: (builder, learning rate, batch size, description)
    "keras-io vae.py": (keras_io_vae, 1e-3, 128, "keras-io vae.py layout, Adam 1e-3, batch 128"),
    "TF cvae tutorial": (tf_cvae, 1e-4, 32, "TensorFlow cvae tutorial layout, Adam 1e-4, batch 32"),
}


def trained_peer(ctx, name, code, seed, n=None):
    build, lr, batch, _ = PEERS[name]
    aelib.set_seed(seed)
    vae = build(code, seed)
    vae.compile(optimizer=keras.optimizers.Adam(lr), jit_compile=JIT)
    epochs = ctx.size["vae_epochs"]
    print(f"  training {name} peer, code {code}, seed {seed} ({epochs} epochs)", flush=True)
    clock = ElboClock(f"{name}-{code}", ctx.x_test[: ctx.size["clock_images"]])
    vae.fit(ctx.x_train[:n], batch_size=batch, epochs=epochs, callbacks=[clock], verbose=0)
    return vae, clock


def generation(ctx):
    n_iwae = min(ctx.size["iwae_images"], ctx.n_test)
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
        if code not in ctx.size["peer_codes"]:
            continue
        # against the peers' own layouts: same training images, epochs and seed, no warm-up or early stopping
        n = ctx.size["peer_train"]  # None: the whole training split, and the VAE of the rows above
        sub = "" if n is None else f"; retrained on the first {n} training images for the peer comparison"
        mine, _ = trained_vae(ctx, code, ctx.seed, n)
        models = {f"VAE-{code}": (mine, ctx.cache[("vae clock", code, ctx.seed, n)], base + sub)}
        for name, (*_, desc) in PEERS.items():
            peer, clock = trained_peer(ctx, name, code, ctx.seed, n)
            models[f"{name}-{code}"] = (
                peer,
                clock,
                f"{desc}, code {code}, {ctx.size['vae_epochs']} epochs on {len(ctx.x_train[:n])} training images, "
                "wrapped in aelib.VAE",
            )
        finals = {}
        for method, (model, clock, desc) in models.items():
            t = time.time()
            final = model.evaluate(ctx.x_test, batch_size=512, verbose=0, return_dict=True)["loss"]
            iwae = float(np.mean(model.importance_weighted_nll(ctx.x_test[:n_iwae], k=50, seed=ctx.seed)))
            eval_s = time.time() - t
            finals[method] = final
            if method.startswith("VAE-") and n is not None:  # the goal compares this one: same images as the peers
                yield ctx.row(
                    "generation",
                    method,
                    "neg_elbo_nats_peer_images",
                    final,
                    sum(clock.seconds) + eval_s,
                    desc
                    + "; test negative ELBO per image, on the peers' training images (aelib's recipe: KL warm-up, early stopping)",
                )
            if not method.startswith("VAE-"):
                yield ctx.row(
                    "generation",
                    method,
                    "neg_elbo_nats",
                    final,
                    sum(clock.seconds) + eval_s,
                    desc + "; test negative ELBO per image (analytic KL, one posterior sample), Bernoulli likelihood",
                )
            yield ctx.row(
                "generation",
                method,
                "iwae_50_nats",
                iwae,
                eval_s,
                desc + f"; importance-weighted bound on -log p(x), k = 50 (VAE.importance_weighted_nll), first {n_iwae} "
                "test images",
            )
            yield ctx.row(
                "generation",
                method,
                "train_seconds",
                sum(clock.seconds),
                sum(clock.seconds),
                desc + f"; wall seconds of its {len(clock.seconds)} training epochs (the per-epoch test evaluation excluded)",
            )
        peers = [m for m in models if not m.startswith("VAE-")]
        best_peer = min(peers, key=finals.get)
        faster = min(peers, key=lambda m: sum(models[m][1].seconds))
        target = models[best_peer][1].scores[-1]  # on the clock's test images, like the per-epoch checks
        reached = models[f"VAE-{code}"][1].seconds_to(target)
        yield ctx.row(
            "generation",
            f"VAE-{code}",
            "seconds_to_best_peer_elbo",
            float("nan") if reached is None else reached,
            0.0,
            f"aelib VAE-{code} training seconds until its -ELBO on the first {ctx.size['clock_images']} test images "
            f"(checked after each epoch) first fell to the best peer's final one there, {target:.2f} ({best_peer}); "
            "None/null = not within its epochs",
        )
        yield ctx.row(
            "generation",
            f"VAE-{code}",
            "time_ratio_to_faster_peer",
            float("nan") if reached is None else reached / sum(models[faster][1].seconds),
            0.0,
            f"seconds_to_best_peer_elbo / the faster peer's ({faster}) training seconds to its final ELBO (lower is better)",
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
def machine():
    """Where this run ran, in words: CPU model and cores, and the accelerators Keras sees."""
    cpu = platform.processor() or platform.machine()
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        cpu = names[0] if names else cpu
    try:
        accelerators = [d for d in keras.distribution.list_devices() if not d.lower().startswith("cpu")]
    except Exception:  # a backend without device listing
        accelerators = []
    return f"{os.cpu_count()} CPU cores ({cpu}), " + (", ".join(accelerators) if accelerators else "no GPU")


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


def forward_flops(model):
    """FLOPs of one image's forward pass: 2 x the multiply-adds of every Dense, Conv2D and
    Conv2DTranspose layer (nested models included; biases, activations and the loss are not
    counted). Conv2D: output pixels x kernel size; Conv2DTranspose: input pixels x kernel size."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            total += forward_flops(layer)
        elif isinstance(layer, layers.Conv2DTranspose):
            h, w = layer.input.shape[1:3]
            total += 2 * h * w * int(np.prod(layer.kernel.shape))
        elif isinstance(layer, layers.Conv2D):
            h, w = layer.output.shape[1:3]
            total += 2 * h * w * int(np.prod(layer.kernel.shape))
        elif isinstance(layer, layers.Dense):
            total += 2 * int(np.prod(layer.kernel.shape))
    return total


def matmul_peak_gflops(n=2048, repeats=5):
    """The machine's fp32 matmul rate, GFLOP/s: the best of ``repeats`` timed (n x n) @ (n x n)
    products (2 n^3 FLOPs each), with NumPy's BLAS and with keras.ops.matmul on the backend; the
    larger of the two."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n), dtype=np.float32), rng.standard_normal((n, n), dtype=np.float32)
    ka, kb = keras.ops.convert_to_tensor(a), keras.ops.convert_to_tensor(b)
    best = {}
    for name, fn in {"numpy": lambda: a @ b, "keras.ops": lambda: keras.ops.convert_to_numpy(keras.ops.matmul(ka, kb))}.items():
        fn()  # warm-up
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        best[name] = 2 * n**3 / min(times) / 1e9
    return max(best.values()), best


def speed(ctx):
    """The two set-ups train in lockstep, one epoch each in turn, so that a load on the machine
    that comes and goes slows both alike."""
    n, epochs = min(ctx.size["speed_train"], len(ctx.x_train)), ctx.size["speed_epochs"]
    x = ctx.x_train[:n]
    aelib.set_seed(ctx.seed)
    book = textbook_conv_autoencoder()
    book.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse", jit_compile=JIT)
    ae = aelib.conv_autoencoder(SHAPE, 32, filters=(32, 64))
    ae.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss="mse", jit_compile=JIT)
    clocks = {"textbook": EpochClock("textbook", ctx.x_test), "aelib": EpochClock("aelib", ctx.x_test)}
    print(f"  textbook and aelib conv AEs, {epochs} epochs each on {n} images, alternating", flush=True)
    for e in range(epochs):
        book.fit(x, x, batch_size=128, initial_epoch=e, epochs=e + 1, callbacks=[clocks["textbook"]], verbose=0)
        ae.fit(x, x, batch_size=BATCH, initial_epoch=e, epochs=e + 1, callbacks=[clocks["aelib"]], verbose=0)
    target, book_s = clocks["textbook"].scores[-1], sum(clocks["textbook"].seconds)
    e = epochs
    while clocks["aelib"].seconds_to(target) is None and e < 2 * epochs:  # not there yet: keep going
        ae.fit(x, x, batch_size=BATCH, initial_epoch=e, epochs=e + 1, callbacks=[clocks["aelib"]], verbose=0)
        e += 1
    reached = clocks["aelib"].seconds_to(target)
    reached_epoch = clocks["aelib"].epochs_to(target)
    common = (
        f"{n} training images, batch 128, {JIT_NOTE} for both; the two train in "
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
    t = time.time()
    peak, per_lib = matmul_peak_gflops()
    peak_s = time.time() - t
    flops = forward_flops(ae)
    achieved = 3 * flops * n * len(clocks["aelib"].seconds) / sum(clocks["aelib"].seconds) / 1e9
    count = (
        f"FLOPs per image = 2 x the multiply-adds of its Dense, Conv2D and Conv2DTranspose layers = {flops / 1e6:.2f} MFLOP "
        "forward, x3 for forward + backward (the usual rule: the backward pass costs two forwards); biases, "
        "activations, loss and optimizer not counted"
    )
    yield ctx.row(
        "speed",
        "aelib",
        "train_gflops_per_second",
        achieved,
        sum(clocks["aelib"].seconds),
        f"{count}; x training images per second of the rows above",
        n_train=n,
    )
    yield ctx.row(
        "speed",
        "machine",
        "fp32_matmul_peak_gflops",
        peak,
        peak_s,
        "best of 5 timed 2048 x 2048 fp32 matrix products (2 n^3 FLOPs), measured in this run right after the "
        "training; the larger of NumPy's BLAS and keras.ops.matmul ("
        + ", ".join(f"{k} {v:.0f}" for k, v in per_lib.items())
        + ")",
        n_train=n,
    )
    yield ctx.row(
        "speed",
        "aelib",
        "fraction_of_matmul_peak",
        achieved / peak,
        0.0,
        "achieved training GFLOP/s / the measured fp32 matmul peak (higher is better)",
        n_train=n,
    )


# --------------------------------------------------------------------------------------------
# tabular anomaly detection
# --------------------------------------------------------------------------------------------
class PCAError(BaseEstimator):
    """Novelty score of PCA: ``score_samples`` = minus the squared reconstruction error per row."""

    def __init__(self, variance=0.9):
        self.variance = variance

    def fit(self, X, y=None):
        from sklearn.decomposition import PCA

        self.pca_ = PCA(n_components=self.variance, svd_solver="full").fit(X)
        return self

    def score_samples(self, X):
        back = self.pca_.inverse_transform(self.pca_.transform(X))
        return -((X - back) ** 2).sum(axis=1)


TABULAR_GRIDS = {  # chosen per task and split on its validation rows (normal and anomalous), never the test rows
    "LOF": [dict(n_neighbors=k) for k in (5, 10, 20, 35)],
    "one-class SVM": [dict(nu=nu, gamma=g) for nu in (0.05, 0.2, 0.5) for g in (0.1, 1.0, 10.0)],
    "PCA": [dict(variance=v) for v in (0.5, 0.7, 0.9, 0.99)],
}


def _tabular_model(method, params, seed, n_features, detector):
    from sklearn.ensemble import IsolationForest
    from sklearn.feature_selection import VarianceThreshold
    from sklearn.neighbors import LocalOutlierFactor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import OneClassSVM

    if method == "aelib AutoencoderDetector":
        return make_pipeline(VarianceThreshold(), aelib.AutoencoderDetector(random_state=seed, **detector))
    if method == "Isolation Forest":
        return IsolationForest(random_state=seed)
    if method == "LOF":
        final = LocalOutlierFactor(novelty=True, **params)
    elif method == "one-class SVM":  # gamma relative to 1 / n_features (scikit-learn's "scale" on standardised data)
        final = OneClassSVM(nu=params["nu"], gamma=params["gamma"] / n_features)
    else:
        final = PCAError(**params)
    return make_pipeline(VarianceThreshold(), StandardScaler(), final)


def tabular(ctx):
    """``benchmarks.detector_defaults``' tables and protocol (its tasks, its 60/20/20 split of
    the normal rows, its anomalies halved between validation and test): each method fits the
    fit rows only; LOF, one-class SVM and PCA choose their hyper-parameter on the validation
    rows; the test rows are scored once."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    from . import detector_defaults as dd

    detector = ctx.size["tabular_detector"]
    splits_of = {t: list(range(ctx.seed, ctx.seed + n)) for t, n in ctx.size["tabular_splits"].items()}
    quick = ctx.mode == "quick"
    all_tasks = list(dd.tasks(digits=(0,) if quick else range(10)))
    if quick:  # one task per table
        all_tasks = [t for i, t in enumerate(all_tasks) if t[0] not in [u[0] for u in all_tasks[:i]]]
    methods = ("aelib AutoencoderDetector", "Isolation Forest", "LOF", "one-class SVM", "PCA")
    # res[method][table][split] = list over the table's tasks of (roc auc, ap)
    res = {m: {} for m in methods}
    secs = dict.fromkeys(methods, 0.0)
    picks = {m: [] for m in TABULAR_GRIDS}
    sizes = {}  # table -> (fit rows, test rows) of its first task and split
    for table, task, X, normal in all_tasks:
        print(f"  {table}: {task}", flush=True)
        for split in splits_of[table]:
            fit, val, test = dd.split(normal, split)
            sizes.setdefault(table, (len(fit), len(test[0]) + len(test[1])))
            d = X.shape[1]
            for m in methods:
                t = time.time()
                grid = TABULAR_GRIDS.get(m, [{}])
                if len(grid) > 1:
                    fitted = [_tabular_model(m, p, split, d, detector).fit(X[fit]) for p in grid]
                    aucs = [roc_auc_score(*dd.labels_scores(f, X, val)) for f in fitted]
                    best = int(np.argmax(aucs))
                    model = fitted[best]
                    picks[m].append(grid[best])
                else:
                    model = _tabular_model(m, {}, split, d, detector).fit(X[fit])
                labels, scores = dd.labels_scores(model, X, test)
                res[m].setdefault(table, {}).setdefault(split, []).append(
                    (roc_auc_score(labels, scores), average_precision_score(labels, scores))
                )
                secs[m] += time.time() - t
    tables = list(dict.fromkeys(t[0] for t in all_tasks))
    n_tasks = {tb: sum(t[0] == tb for t in all_tasks) for tb in tables}
    for m in methods:
        if m == "aelib AutoencoderDetector":
            how = (
                "AutoencoderDetector() defaults (chosen by benchmarks/detector_defaults.py on validation rows)"
                + "".join(f", {k}={v}" for k, v in detector.items())
                + ", behind VarianceThreshold"
            )
        elif m == "Isolation Forest":
            how = "IsolationForest() defaults, raw features"
        else:
            chosen = ", ".join(sorted({str(p) for p in picks[m]}))
            how = f"VarianceThreshold, StandardScaler, {m} with {list(TABULAR_GRIDS[m][0])} from a grid chosen on each split's validation rows (chosen: {chosen})"
            if m == "one-class SVM":
                how += "; gamma in units of 1 / n_features"
        for table in tables:
            for i, metric in enumerate(("roc_auc", "average_precision")):
                splits = splits_of[table]
                values = [float(np.mean([p[i] for p in res[m][table][s]])) for s in splits]
                yield ctx.row(
                    "tabular",
                    m,
                    f"{metric}_{table.replace(' ', '_')}",
                    values,
                    secs[m] / len(tables) / 2,
                    f"{how}; test {metric.replace('_', ' ')} (anomalies positive), mean over the {n_tasks[table]} "
                    f"task(s) of the table, then over {len(splits)} split(s) (seeds {splits}; spread = over splits); "
                    "seconds = the method's total over all tables / (2 x tables)",
                    seeds=splits,
                    n_train=sizes[table][0],
                    n_test=sizes[table][1],
                )


# --------------------------------------------------------------------------------------------
# hashing
# --------------------------------------------------------------------------------------------
HASH_BITS = (16, 32, 64)
HASH_NOISE = 4.0  # std of the noise on the code logits (notebook 09)
HASH_K = 100


def itq_rotation(v, iters=50, seed=0):
    """Iterative quantisation (Gong and Lazebnik 2011): the orthogonal ``R`` that minimises the
    quantisation loss ``||B - V R||_F^2`` of zero-mean (PCA) codes ``V``, with ``B = sign(V R)``.
    Alternate: fix ``R``, set ``B``; fix ``B``, solve the orthogonal Procrustes problem by the SVD
    ``B^T V = S Omega W^T``, ``R = W S^T``. Starts from a random rotation."""
    rng = np.random.default_rng(seed)
    r = np.linalg.qr(rng.standard_normal((v.shape[1], v.shape[1])))[0]
    for _ in range(iters):
        b = np.where(v @ r >= 0, 1.0, -1.0)
        s, _, wt = np.linalg.svd(b.T @ v)
        r = wt.T @ s.T
    return r


def semantic_hashing_autoencoder(bits, seed):
    """Semantic hashing (Salakhutdinov and Hinton 2009) as notebook 09 builds it: aelib's dense
    encoder gives code logits, training adds N(0, HASH_NOISE^2) noise to them before a sigmoid, so
    the code learns to saturate; the bits are the noise-free logits' signs. Returns (model, encoder)."""
    encoder = aelib.dense_encoder(SHAPE, bits, hidden_units=(256,), name="encoder")
    decoder = aelib.dense_decoder(bits, SHAPE, hidden_units=(256,), name="decoder")
    inputs = keras.Input(SHAPE)
    logits = encoder(inputs)
    noisy = aelib.layers.Corruption("gaussian", HASH_NOISE, clip=False, seed=seed, name="code_noise")(logits)
    code = layers.Activation("sigmoid", name="code_sigmoid")(noisy)
    return keras.Model(inputs, decoder(code), name="semantic_hashing"), encoder


def hashing(ctx):
    """Database = the training split, queries = test images; relevant = same class. Every code is
    cut at zero: the signs of centred projections (LSH), of the PCA components (PCA-sign), of the
    ITQ-rotated components, and of the semantic-hashing AE's code logits."""
    from sklearn.decomposition import PCA

    from aelib.metrics import hamming_distances, hamming_map, pack_bits, precision_at_k

    flat = aelib.flatten
    x_db, y_db = flat(ctx.x_train), ctx.y_train
    nq = min(ctx.size["hash_queries"], ctx.n_test)
    x_q, y_q = ctx.x_test[:nq], ctx.y_test[:nq]
    mean = x_db.mean(axis=0)
    t = time.time()
    pca = PCA(max(HASH_BITS), random_state=ctx.seed).fit(x_db)
    pca_s = time.time() - t
    epochs = ctx.size["hash_epochs"]
    for bits in HASH_BITS:
        hashers = {}  # name -> (encode(images) -> 0/1 bits, fit seconds, note)
        projection = np.random.default_rng(ctx.seed).normal(size=(x_db.shape[1], bits)).astype(np.float32)
        hashers["random-projection LSH"] = (
            lambda x, p=projection: ((flat(x) - mean) @ p > 0).astype(np.uint8),
            0.0,
            "signs of Gaussian random projections of the centred pixels (Charikar 2002); no training",
        )

        def components(x, b=bits):
            return (flat(x) - pca.mean_) @ pca.components_[:b].T

        hashers["PCA-sign"] = (
            lambda x: (components(x) > 0).astype(np.uint8),
            pca_s,
            f"signs of the top {bits} principal components (PCA fit on the training split)",
        )
        t = time.time()
        rot = itq_rotation(components(ctx.x_train), seed=ctx.seed)
        hashers["ITQ"] = (
            lambda x, r=rot: (components(x) @ r > 0).astype(np.uint8),
            pca_s + time.time() - t,
            "PCA, then the ITQ rotation (Gong and Lazebnik 2011; 50 iterations, NumPy), signs",
        )
        t = time.time()
        aelib.set_seed(ctx.seed)
        model, encoder = semantic_hashing_autoencoder(bits, ctx.seed)
        print(f"  training semantic-hashing AE, {bits} bits ({epochs} epochs)", flush=True)
        compile_fit(model, ctx.x_train, ctx.x_train, ctx.x_val, ctx.x_val, epochs)
        hashers["aelib semantic hashing"] = (
            lambda x, e=encoder: (predict(e, x) > 0).astype(np.uint8),
            time.time() - t,
            f"aelib dense encoder (256) -> {bits} logits, N(0, {HASH_NOISE:g}^2) noise on them in training, sigmoid, "
            f"dense decoder (256); MSE, {epochs} epochs, Adam {LEARNING_RATE} cosine, early stopping on validation; "
            "bits = signs of the noise-free logits; one seed",
        )
        for name, (encode, fit_s, note) in hashers.items():
            db_bits = encode(ctx.x_train)
            t = time.time()
            q_bits = encode(x_q)
            d = hamming_distances(pack_bits(q_bits), pack_bits(db_bits))
            np.argpartition(d, HASH_K - 1, axis=1)[:, :HASH_K]
            query_s = time.time() - t
            t = time.time()
            p100 = precision_at_k(q_bits, y_q, db_bits, y_db, k=HASH_K, metric="hamming")
            mean_ap = hamming_map(q_bits, y_q, db_bits, y_db)
            score_s = time.time() - t
            common = f"{note}; {nq} test queries against the {len(db_bits)} training images"
            yield ctx.row(
                "hashing",
                name,
                f"precision_at_{HASH_K}_{bits}",
                p100,
                fit_s + score_s,
                f"{common}; fraction of the {HASH_K} Hamming-nearest that share the query's class (ties at the "
                f"{HASH_K}th distance broken arbitrarily)",
            )
            yield ctx.row(
                "hashing",
                name,
                f"map_{bits}",
                mean_ap,
                0.0,
                f"{common}; tie-aware mean average precision of the Hamming ranking (aelib.metrics.hamming_map)",
            )
            yield ctx.row(
                "hashing",
                name,
                f"query_ms_per_1000_{bits}",
                1000 * query_s * 1000 / nq,
                query_s,
                f"{common}; milliseconds per 1,000 queries: encode the queries, Hamming distances to the whole "
                f"database (aelib.metrics.hamming_distances, packed bytes), top-{HASH_K} selection",
            )


TASK_FUNCTIONS = {
    "speed": speed,
    "compression": compression,
    "denoising": denoising,
    "generation": generation,
    "anomaly": anomaly,
    "features": features,
    "tabular": tabular,
    "hashing": hashing,
}
