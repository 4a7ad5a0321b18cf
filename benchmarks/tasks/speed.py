"""speed: aelib's conv AE set-up against a textbook one (time to its MSE, images/s, share of the matmul peak)."""

import time

import numpy as np

from ..registry import Task, goal


def _imports():
    """Keras, aelib and the shared helpers, imported when the task runs (the CLI and the goals need none)."""
    global keras, layers, aelib, BATCH, JIT, JIT_NOTE, LEARNING_RATE, SHAPE, EpochClock
    import keras
    from keras import layers

    import aelib

    from ..common import BATCH, JIT, JIT_NOTE, LEARNING_RATE, SHAPE, EpochClock


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


def goals(v, rows, mode):
    return [
        goal(
            "aelib setup reaches the textbook's final test MSE in <= 0.2 of its time",
            v("speed", "aelib / textbook", "time_ratio_to_target"),
            0.2,
            False,
            "value = aelib seconds to target / textbook seconds",
            "a larger learning rate or batch size for aelib's setup",
        ),
        goal(
            "aelib conv AE trains at >= 40% of the measured fp32 matmul peak",
            v("speed", "aelib", "fraction_of_matmul_peak"),
            0.4,
            True,
            "value = achieved training GFLOP/s (3 x 2 x multiply-adds per image) / timed matmul GFLOP/s, same run",
            "larger batches or fused kernels: small convolutions on 28x28 images use the cores far less well than "
            "one large matmul",
        ),
    ]


def headline(v):
    return (
        "conv AE code 32: training images per second; fraction of the fp32 matmul peak",
        f"textbook set-up {v('speed', 'textbook', 'samples_per_second', 4)} img/s",
        f"aelib {v('speed', 'aelib', 'samples_per_second', 4)} img/s, "
        f"{v('speed', 'aelib', 'fraction_of_matmul_peak', 2)} of a measured {v('speed', 'machine', 'fp32_matmul_peak_gflops', 3)} GFLOP/s",
    )


def run(ctx):
    _imports()
    return speed(ctx)


TASK = Task(
    "speed",
    "aelib's conv AE-32 set-up vs a textbook conv AE: seconds to the textbook's\n"
    "final test MSE, training images per second, and aelib's training GFLOP/s as a\n"
    "fraction of the fp32 matmul peak measured in the same run",
    run,
    goals,
    headline,
)
