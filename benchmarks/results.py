"""Result rows: merging into results.json, checking the goals, writing results.md.

Pure Python (no TensorFlow), so the tests exercise it in milliseconds. A row is a
:class:`Row` while a task yields it and a dict in results.json, with
``task, method, metric, value, spread, seeds, seconds, mode, n_train, n_test, note, backend``
(the Keras backend that ran it; rows written before it was recorded ran on TensorFlow); ``value``
is the mean over ``seeds`` and ``spread`` the max - min over them (None for one seed).
"""

import json
import math
import os
from dataclasses import asdict, dataclass

from .tasks import TASKS  # noqa: E402  (the task names, in run order; the registry is pure Python)

FIELDS = ("task", "method", "metric", "value", "spread", "seeds", "seconds", "mode", "n_train", "n_test", "note", "backend")
BACKENDS = ("tensorflow", "jax", "torch")


@dataclass
class Row:
    """One measurement, as a task yields it; results.json stores :meth:`as_dict`."""

    task: str
    method: str
    metric: str
    value: float | None
    spread: float | None
    seeds: list
    seconds: float
    mode: str
    n_train: int
    n_test: int
    note: str
    backend: str = "tensorflow"

    @classmethod
    def make(cls, task, method, metric, values, seconds, mode, n_train, n_test, note, seeds=(0,), backend="tensorflow"):
        """``values`` is a number or one number per seed: value = their mean (None if one is not
        finite), spread = max - min (None for one seed)."""
        values = [float(v) for v in (values if isinstance(values, (list, tuple)) else [values])]
        finite = [v for v in values if math.isfinite(v)]
        value = sum(finite) / len(finite) if finite and len(finite) == len(values) else None
        spread = (max(values) - min(values)) if value is not None and len(values) > 1 else None
        return cls(
            task,
            method,
            metric,
            value,
            spread,
            list(seeds)[: len(values)],
            round(float(seconds), 2),
            mode,
            int(n_train),
            int(n_test),
            note,
            backend,
        )

    def as_dict(self):
        return asdict(self)


def make_row(task, method, metric, values, seconds, mode, n_train, n_test, note, seeds=(0,), backend="tensorflow"):
    """One measurement as a dict (a :class:`Row`'s fields). ``values`` is a number or one number per seed."""
    return Row.make(task, method, metric, values, seconds, mode, n_train, n_test, note, seeds, backend).as_dict()


def merge_rows(old, new, tasks, mode):
    """Old rows, minus those of ``tasks`` in ``mode`` (they are being re-run), plus ``new``."""
    kept = [r for r in old if not (r["task"] in tasks and r["mode"] == mode)]
    return kept + list(new)


def load_rows(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return json.load(f)["rows"]


def load_runs(path):
    """The record of the last run of each mode in results.json (see :func:`write_results`)."""
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f).get("runs", {})


def find(rows, task, method, metric, mode):
    for r in rows:
        if (r["task"], r["method"], r["metric"], r["mode"]) == (task, method, metric, mode):
            return r["value"]
    return None


def check_goals(rows, mode="full"):
    """Every task's goals (declared next to the task, in ``benchmarks/tasks/``), judged on the
    rows of ``mode``, in :data:`benchmarks.tasks.GOAL_ORDER`."""
    from .tasks import GOAL_ORDER, REGISTRY

    def v(task, method, metric):
        return find(rows, task, method, metric, mode)

    return [g for name in GOAL_ORDER for g in REGISTRY[name].goals(v, rows, mode)]


def _fmt(x, digits=4):
    if x is None:
        return "n/a"
    if isinstance(x, float):
        return f"{x:.{digits}g}"
    return str(x)


def to_markdown(rows, mode="full"):
    """results.md: the table of ``mode``'s rows and the goal verdicts."""
    sel = [r for r in rows if r["mode"] == mode]
    order = {t: i for i, t in enumerate(TASKS)}
    sel.sort(key=lambda r: order.get(r["task"], 99))
    by_backend = {}
    for r in sel:
        by_backend.setdefault(r.get("backend", "tensorflow"), set()).add(r["task"])
    if len(by_backend) == 1:
        backend_line = f"Keras backend: {next(iter(by_backend))} (every row)."
    else:
        backend_line = "Keras backends: " + "; ".join(
            f"{b} (tasks {', '.join(t for t in TASKS if t in tasks)})" for b, tasks in sorted(by_backend.items())
        )
        backend_line += "."
    lines = [
        f"# aelib benchmarks ({mode} mode)",
        "",
        backend_line if sel else "Keras backend: none (no rows).",
        "",
        "Written by `python -m benchmarks" + (" --quick" if mode == "quick" else "") + "`; one row per measurement, "
        "also in `results.json`. value = mean over the seeds listed, spread = max - min over them "
        "(blank: one seed or deterministic). seconds = wall time of that row's own work "
        "(training it needed, if not shared with an earlier row, plus evaluation) on the machine that ran it.",
        "",
        "| task | method | metric | value | spread | seeds | seconds | train / test | note |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in sel:
        lines.append(
            f"| {r['task']} | {r['method']} | {r['metric']} | {_fmt(r['value'])} | {_fmt(r['spread'], 2)} | "
            f"{','.join(map(str, r['seeds']))} | {r['seconds']:.1f} | {r['n_train']} / {r['n_test']} | {r['note']} |"
        )
    lines += [
        "",
        "## Goals",
        "",
        "| goal | value | target | verdict | how measured / what would close it |",
        "| --- | --- | --- | --- | --- |",
    ]
    for g in check_goals(rows, mode):
        verdict = "met" if g["met"] else "missed"
        if g["margin"] is not None:
            verdict += f" (by {abs(g['margin']):.3g})"
        extra = g["detail"] + (f"; to close: {g['to_close']}" if g["to_close"] else "")
        lines.append(f"| {g['goal']} | {_fmt(g['value'])} | {g['target']} | {verdict} | {extra} |")
    return "\n".join(lines) + "\n"


def write_results(rows, out_dir, mode, run=None):
    """Write results.json (every row, every mode, and the last run of each mode) and results.md
    (``mode``'s rows). ``run``, e.g. ``{"seconds": ..., "tasks": [...], "machine": ...}``: a run of
    every task replaces ``mode``'s record, a run of some (``--only``) is added to its "reruns";
    None keeps the record as it is (rows written during a run)."""
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "results.json")
    runs = load_runs(path)
    if run is not None and set(run["tasks"]) == set(TASKS):
        runs[mode] = run
    elif run is not None:
        runs.setdefault(mode, {}).setdefault("reruns", []).append(run)
    with open(path, "w") as f:
        json.dump({"fields": list(FIELDS), "runs": runs, "rows": rows}, f, indent=1)
    with open(os.path.join(out_dir, "results.md"), "w") as f:
        f.write(to_markdown(rows, mode))
