"""What the benchmark tasks share: the sizes of each mode, the data and model cache of a run
(:class:`Context`), training helpers and the per-epoch clocks.

``ctx`` holds the data (a validation split carved from the training images, never the test
set, is used for early stopping and every choice of hyper-parameter), the sizes of the mode
and a cache of trained models, so a model that two tasks need (the conv AE-32 of compression
and features) is trained once. The Fashion-MNIST images are loaded on first use, so a run of
the tabular task alone never reads them.
"""

import os
import platform
import time

import keras
import numpy as np

import aelib
from aelib.metrics import mse

from .results import Row

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
        self.seeds = [seed + i for i in range(self.size["seeds"])]
        self.cache = {}
        self.backend = BACKEND
        self._images = None

    def _load_images(self):
        """Fashion-MNIST, subset and split, on first use (the tabular task needs none of it)."""
        if self._images is None:
            (x, y), (xt, yt) = aelib.load_fashion_mnist()
            if self.size["n_train"]:
                x, y = aelib.subset(x, y, self.size["n_train"], seed=self.seed)
                xt, yt = aelib.subset(xt, yt, self.size["n_test"], seed=self.seed)
            perm = np.random.default_rng(self.seed).permutation(len(x))
            n_val = int(round(self.size["val_fraction"] * len(x)))
            val, tr = perm[:n_val], perm[n_val:]
            self._images = dict(x_train=x[tr], y_train=y[tr], x_val=x[val], y_val=y[val], x_test=xt, y_test=yt)
            self._images.update(n_train=len(tr), n_test=len(xt))
        return self._images

    def __getattr__(self, name):  # x_train, y_train, x_val, y_val, x_test, y_test, n_train, n_test
        if name in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test", "n_train", "n_test"):
            return self._load_images()[name]
        raise AttributeError(name)

    def row(self, task, method, metric, values, seconds, note, seeds=None, n_train=None, n_test=None):
        return Row.make(
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
