"""Command line: ``python -m benchmarks [--quick] [--only TASKS] [--backend NAME] [--seed N] [--out DIR]``."""

import argparse
import os
import sys
import time

from .results import BACKENDS, TASKS, load_rows, merge_rows, write_results

DESCRIPTION = """\
Benchmark aelib's autoencoders against baselines on Fashion-MNIST and write
DIR/results.json (every row of every mode) and DIR/results.md (this mode's table and the
goal verdicts). Both files are rewritten after each row, so a crash keeps what was measured.

tasks (run in this order):
  speed        aelib's conv AE-32 set-up vs a textbook conv AE: seconds to the textbook's
               final test MSE, training images per second, and aelib's training GFLOP/s as a
               fraction of the fp32 matmul peak measured in the same run
  compression  PCA, dense AE and conv AE at code sizes 2, 8, 32: test MSE per pixel, AE/PCA
  denoising    gaussian noise std 0.3: noisy input, blur, median, TV Chambolle, denoising AE
               (test PSNR, dB)
  generation   VAE (Bernoulli decoder) at code sizes 2 and 32: negative ELBO, KL, active units;
               against the keras-io vae.py and TF cvae tutorial layouts (same data, epochs,
               seed): -ELBO, IWAE k=50 bound, wall seconds, seconds to the best peer's ELBO
  anomaly      one class normal, nine anomalous, all ten choices: AE, PCA, Isolation Forest,
               one-class SVM on PCA codes (mean test ROC AUC, spread over 2 seeds in full)
  features     logistic regression on 1,000 labelled images: raw pixels, PCA-32, AE-32,
               VAE-32 codes (test accuracy)
  tabular      aelib.AutoencoderDetector vs Isolation Forest, LOF, one-class SVM, PCA on the
               scikit-learn tables of benchmarks/detector_defaults.py, 5 splits (ROC AUC, AP)
  hashing      aelib semantic hashing vs random-projection LSH, PCA-sign and ITQ at 16, 32,
               64 bits (precision at 100, tie-aware mAP, query ms per 1,000 queries)

Hyper-parameters are chosen on a validation split carved from the training images, never on
the test set. Full mode runs two seeds where that is cheap (dense AEs); each row's note says
what it measured. --backend sets KERAS_BACKEND before Keras is imported; every row records the
backend that ran it."""


def parse_tasks(text):
    """``"a,b"`` -> ("a", "b") in run order; raises ArgumentTypeError naming unknown tasks."""
    names = [t.strip() for t in text.split(",") if t.strip()]
    unknown = [t for t in names if t not in TASKS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown task(s) {unknown or [text]}; choose from {', '.join(TASKS)}")
    return tuple(t for t in TASKS if t in names)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="3,000 training / 1,000 test images and a few epochs: the same code path in a few "
        "minutes (rows labelled mode 'quick')",
    )
    parser.add_argument(
        "--only",
        type=parse_tasks,
        default=TASKS,
        metavar="TASKS",
        help="comma-separated subset of tasks; their rows of this mode replace the old ones in "
        "results.json, every other row is kept (default: all)",
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default=None,
        help="Keras backend (sets KERAS_BACKEND before Keras is imported; default: KERAS_BACKEND, else what "
        "aelib.config.choose_backend picks, normally tensorflow)",
    )
    parser.add_argument("--seed", type=int, default=0, help="base seed; full mode also runs seed+1 where cheap (default 0)")
    parser.add_argument(
        "--out",
        default=os.path.dirname(os.path.abspath(__file__)),
        help="output folder, created if missing (default: the benchmarks/ folder)",
    )
    args = parser.parse_args(argv)
    if args.backend:
        if "keras" in sys.modules and sys.modules["keras"].backend.backend() != args.backend:
            parser.error(f"--backend {args.backend}: Keras is already imported with {sys.modules['keras'].backend.backend()}")
        os.environ["KERAS_BACKEND"] = args.backend
    # Importing aelib runs aelib.config.choose_backend() before Keras: it keeps KERAS_BACKEND when
    # set, and picks JAX or PyTorch on a machine without TensorFlow.
    from .run import TASK_FUNCTIONS, Context, machine  # heavy imports (Keras, the backend) only after --help

    mode = "quick" if args.quick else "full"
    rows = merge_rows(load_rows(os.path.join(args.out, "results.json")), [], args.only, mode)
    start = time.time()
    ctx = Context(mode, seed=args.seed)
    print(
        f"{mode} mode, Keras backend {ctx.backend}: {ctx.n_train} train / {len(ctx.x_val)} validation / {ctx.n_test} test images; "
        f"tasks {', '.join(args.only)}",
        flush=True,
    )
    for task in args.only:
        print(f"[{task}]", flush=True)
        for row in TASK_FUNCTIONS[task](ctx):
            rows.append(row)
            write_results(rows, args.out, mode)
            value = "n/a" if row["value"] is None else f"{row['value']:.4g}"
            print(
                f"[{task}] {row['method']} {row['metric']} = {value} ({row['seconds']:.0f}s; {time.time() - start:.0f}s elapsed)",
                flush=True,
            )
    run = {"seconds": round(time.time() - start), "tasks": list(args.only), "backend": ctx.backend, "machine": machine()}
    write_results(rows, args.out, mode, run)
    print(f"done in {time.time() - start:.0f}s; wrote {os.path.join(args.out, 'results.md')}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
