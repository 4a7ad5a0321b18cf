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
    """One line of figures per task (declared next to each task): what the goals below are judged on."""
    from .tasks import HEADLINE_ORDER, REGISTRY

    def v(task, method, metric, digits=3):
        return _num(find(rows, task, method, metric, mode), digits)

    return [(name, *REGISTRY[name].headline(v)) for name in HEADLINE_ORDER]


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
