"""Command line: ``python -m benchmarks [--quick] [--only TASKS] [--backend NAME] [--seed N] [--out DIR]``."""

import argparse
import os
import sys
import time

from .results import BACKENDS, load_rows, merge_rows, write_results
from .tasks import REGISTRY, TASKS

DESCRIPTION = """\
Benchmark aelib's autoencoders against baselines (Fashion-MNIST; real anomaly tables for
tabular) and write DIR/results.json (every row of every mode) and DIR/results.md (this mode's
table and the goal verdicts). Both files are rewritten after each row, so a crash keeps what
was measured.

tasks (run in this order; one module each in benchmarks/tasks/):
{tasks}

Hyper-parameters are chosen on a validation split carved from the training images, never on
the test set. Full mode runs two seeds where that is cheap (dense AEs); each row's note says
what it measured. --backend sets KERAS_BACKEND before Keras is imported; every row records the
backend that ran it."""


def _task_list():
    lines = []
    for name, task in REGISTRY.items():
        first, *rest = task.help.split("\n")
        lines.append(f"  {name:<12} {first}")
        lines += [f"  {'':<12} {line}" for line in rest]
    return "\n".join(lines)


def parse_tasks(text):
    """``"a,b"`` -> ("a", "b") in run order; raises ArgumentTypeError naming unknown tasks."""
    names = [t.strip() for t in text.split(",") if t.strip()]
    unknown = [t for t in names if t not in TASKS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown task(s) {unknown or [text]}; choose from {', '.join(TASKS)}")
    return tuple(t for t in TASKS if t in names)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=DESCRIPTION.format(tasks=_task_list()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
    from .common import Context, machine  # heavy imports (Keras, the backend) only after --help

    mode = "quick" if args.quick else "full"
    rows = merge_rows(load_rows(os.path.join(args.out, "results.json")), [], args.only, mode)
    start = time.time()
    ctx = Context(mode, seed=args.seed)
    print(f"{mode} mode, Keras backend {ctx.backend}; tasks {', '.join(args.only)}", flush=True)
    for task in args.only:
        print(f"[{task}]", flush=True)
        for row in REGISTRY[task].run(ctx):
            row = row.as_dict()
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
