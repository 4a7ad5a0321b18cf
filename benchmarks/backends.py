"""The same VAE on every installed Keras backend: test negative ELBO and seconds per epoch.

    python -m benchmarks.backends            # full: 20,000 training images, 10 epochs
    python -m benchmarks.backends --quick    # 2,000 images, 2 epochs: a check that it runs

Each backend trains in a fresh process (``KERAS_BACKEND`` is read once, when Keras is imported)
on the same Fashion-MNIST images, with the same architecture, epochs, batch size, optimizer and
seed, and is scored on the same test images. Weights are initialised from the same seed, but
each backend draws its own random numbers, so the runs differ by their initialisation and
sampling noise; that spread is what the comparison measures. Writes
``benchmarks/backends.json`` (or ``--out``) and prints a Markdown table.
"""

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

BACKENDS = ("tensorflow", "jax", "torch")
SIZES = {"full": {"n_train": 20000, "epochs": 10}, "quick": {"n_train": 2000, "epochs": 2}}


def worker(mode, seed):
    import keras
    import numpy as np

    import aelib

    size = SIZES[mode]
    (x, _), (x_test, _) = aelib.load_fashion_mnist(download=False)
    x = aelib.subset(x, limit=size["n_train"], seed=seed)
    aelib.set_seed(seed)
    vae = aelib.variational_autoencoder((28, 28, 1), 16, filters=(32, 64), seed=seed)
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    times = []
    timer = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda e, logs: times.append(time.perf_counter()),
        on_epoch_end=lambda e, logs: times.__setitem__(-1, time.perf_counter() - times[-1]),
    )
    vae.fit(x, epochs=size["epochs"], batch_size=128, verbose=0, callbacks=[timer])
    result = vae.evaluate(x_test, batch_size=500, verbose=0, return_dict=True)
    return {
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
        "neg_elbo": float(result["loss"]),
        "reconstruction": float(result["reconstruction_loss"]),
        "kl": float(result["kl_loss"]),
        "first_epoch_s": times[0],  # includes tracing and compilation
        "epoch_s": float(np.median(times[1:])) if len(times) > 1 else times[0],
        "n_train": len(x),
        "n_test": len(x_test),
        "epochs": size["epochs"],
    }


def table(rows):
    lines = [
        "| backend | test negative ELBO (nats) | reconstruction + KL | seconds per epoch (first, incl. compile) |",
        "| --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['backend']} | {r['neg_elbo']:.1f} | {r['reconstruction']:.1f} + {r['kl']:.1f} | "
            f"{r['epoch_s']:.1f} ({r['first_epoch_s']:.1f}) |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.backends", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a 1-minute check instead of the full run")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated, of " + ", ".join(BACKENDS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(Path(__file__).with_name("backends.json")))
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "full"
    if args.worker:
        print(json.dumps(worker(mode, args.seed)))
        return 0
    rows = []
    for backend in args.backends.split(","):
        if importlib.util.find_spec(backend) is None:
            print(f"{backend}: not installed, skipped", flush=True)
            continue
        cmd = [sys.executable, "-m", "benchmarks.backends", "--worker", "--seed", str(args.seed)] + (
            ["--quick"] if args.quick else []
        )
        env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
        if proc.returncode != 0:
            print(f"{backend}: failed\n{proc.stderr[-3000:]}", flush=True)
            return 1
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(f"{backend}: negative ELBO {rows[-1]['neg_elbo']:.1f} nats, {rows[-1]['epoch_s']:.1f} s per epoch", flush=True)
    spread = max(r["neg_elbo"] for r in rows) - min(r["neg_elbo"] for r in rows)
    Path(args.out).write_text(json.dumps({"mode": mode, "rows": rows, "spread_nats": spread}, indent=1) + "\n")
    print(table(rows))
    print(f"spread of the test negative ELBO across backends: {spread:.2f} nats")
    return 0


if __name__ == "__main__":
    sys.exit(main())
