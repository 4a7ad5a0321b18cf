"""The README's benchmark table, rendered from ``results.json`` (so its figures are the run's).

``python -m benchmarks.readme`` rewrites the block between ``<!-- benchmark-table -->`` and
``<!-- /benchmark-table -->`` in README.md; ``tests/test_benchmarks.py`` checks that the block
equals what this renders, so a new run shows up in the README or the tests say so.
"""

import os
import sys

from .results import check_goals, find, load_rows, load_runs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
START, END = "<!-- benchmark-table -->", "<!-- /benchmark-table -->"


def _num(x, digits=3):
    return "n/a" if x is None else f"{x:.{digits}g}"


def headline(rows, mode="full"):
    """One line of figures per task: what the goals below are judged on."""

    def v(task, method, metric, digits=3):
        return _num(find(rows, task, method, metric, mode), digits)

    codes = (2, 8, 32)
    peers = ("keras-io vae.py", "TF cvae tutorial")
    return [
        (
            "compression",
            "test MSE per pixel at code 2 / 8 / 32",
            "PCA " + " / ".join(v("compression", "PCA", f"test_mse_{c}") for c in codes),
            "conv AE "
            + " / ".join(v("compression", "conv AE", f"test_mse_{c}") for c in codes)
            + "; dense AE "
            + " / ".join(v("compression", "dense AE", f"test_mse_{c}") for c in codes),
        ),
        (
            "denoising",
            "test PSNR, gaussian std 0.3 (dB)",
            ", ".join(f"{m} {v('denoising', m, 'psnr_db', 4)}" for m in ("noisy input", "median filter", "TV Chambolle")),
            "denoising AE " + v("denoising", "denoising AE", "psnr_db", 4),
        ),
        (
            "generation",
            "test -ELBO (nats) at code 2 / 32, every model on the same training images and epochs",
            "; ".join(f"{p} " + " / ".join(v("generation", f"{p}-{c}", "neg_elbo_nats", 4) for c in (2, 32)) for p in peers),
            "aelib VAE "
            + " / ".join(v("generation", f"VAE-{c}", "neg_elbo_nats_peer_images", 4) for c in (2, 32))
            + " (on all training images: "
            + " / ".join(v("generation", f"VAE-{c}", "neg_elbo_nats", 4) for c in (2, 32))
            + ")",
        ),
        (
            "anomaly",
            "mean one-class ROC AUC over the 10 classes",
            ", ".join(
                f"{m} {v('anomaly', m, 'mean_roc_auc')}"
                for m in ("PCA reconstruction error", "Isolation Forest", "one-class SVM")
            ),
            ", ".join(f"{m} {v('anomaly', m, 'mean_roc_auc')}" for m in ("AE reconstruction error", "AE error + code kNN")),
        ),
        (
            "features",
            "logistic regression on 1,000 labels, test accuracy",
            f"raw pixels {v('features', 'raw pixels', 'test_accuracy')}, PCA-32 {v('features', 'PCA-32 codes', 'test_accuracy')}",
            ", ".join(f"{m} {v('features', m + ' codes', 'test_accuracy')}" for m in ("conv AE-32", "dense AE-32"))
            + f", VAE-32 means {v('features', 'VAE-32 means', 'test_accuracy')}",
        ),
        (
            "tabular",
            "ROC AUC on breast cancer / wine / digits",
            "Isolation Forest "
            + " / ".join(v("tabular", "Isolation Forest", f"roc_auc_{t}") for t in ("breast_cancer", "wine", "digits")),
            "AutoencoderDetector "
            + " / ".join(v("tabular", "aelib AutoencoderDetector", f"roc_auc_{t}") for t in ("breast_cancer", "wine", "digits")),
        ),
        (
            "hashing",
            "precision at 100, 16 / 32 / 64 bits",
            "; ".join(
                f"{m} " + " / ".join(v("hashing", m, f"precision_at_100_{b}") for b in (16, 32, 64))
                for m in ("random-projection LSH", "PCA-sign", "ITQ")
            ),
            "aelib " + " / ".join(v("hashing", "aelib semantic hashing", f"precision_at_100_{b}") for b in (16, 32, 64)),
        ),
        (
            "speed",
            "conv AE code 32: training images per second; fraction of the fp32 matmul peak",
            f"textbook set-up {v('speed', 'textbook', 'samples_per_second', 4)} img/s",
            f"aelib {v('speed', 'aelib', 'samples_per_second', 4)} img/s, "
            f"{v('speed', 'aelib', 'fraction_of_matmul_peak', 2)} of a measured {v('speed', 'machine', 'fp32_matmul_peak_gflops', 3)} GFLOP/s",
        ),
    ]


def render(rows, run=None, mode="full"):
    """The markdown between the markers (without them)."""
    run = run or {}
    sel = [r for r in rows if r["mode"] == mode]
    backends = sorted({r.get("backend", "tensorflow") for r in sel})
    when = f"about {run['seconds'] / 60:.0f} minutes" if run.get("seconds") else "run time not recorded"
    machine = run.get("machine", "machine not recorded")
    reruns = "".join(
        f"; re-run since with `--only {','.join(r['tasks'])}` ({r['seconds'] / 60:.0f} min)" for r in run.get("reruns", [])
    )
    lines = [
        f"Full mode, `python -m benchmarks`: Fashion-MNIST, {max(r['n_train'] for r in sel):,} training and {sel[0]['n_test']:,} test "
        f"images (a validation split carved from the training ones), Keras backend {', '.join(backends)}; one run, "
        f"{when} on {machine}{reruns}."
        if sel
        else "No full-mode rows yet: run `python -m benchmarks`.",
        "",
        "| task | measured | baselines | aelib |",
        "| --- | --- | --- | --- |",
    ]
    lines += [f"| {t} | {what} | {base} | {ours} |" for t, what, base, ours in headline(rows, mode)]
    goals = check_goals(rows, mode)
    met = sum(g["met"] for g in goals)
    lines += [
        "",
        f"Goals: **{met} of {len(goals)} met**.",
        "",
        "| goal | value | verdict | what would close it |",
        "| --- | --- | --- | --- |",
    ]
    for g in goals:
        verdict = ("**met**" if g["met"] else "**missed**") + ("" if g["margin"] is None else f" by {abs(g['margin']):.3g}")
        lines.append(f"| {g['goal']} | {_num(g['value'])} ({g['detail']}) | {verdict} | {g['to_close'] or '-'} |")
    return "\n".join(lines)


def block(text):
    """The README's current block between the markers, or None."""
    if START not in text or END not in text:
        return None
    return text.split(START, 1)[1].split(END, 1)[0].strip("\n")


def main(path=None):
    path = path or os.path.join(ROOT, "README.md")
    results = os.path.join(ROOT, "benchmarks", "results.json")
    with open(path) as f:
        text = f.read()
    if block(text) is None:
        sys.exit(f"{path}: no {START} ... {END} block to rewrite")
    new = render(load_rows(results), load_runs(results).get("full"))
    head, rest = text.split(START, 1)
    with open(path, "w") as f:
        f.write(head + START + "\n" + new + "\n" + END + rest.split(END, 1)[1])
    print(f"rewrote the benchmark table in {path}")


if __name__ == "__main__":
    main()
