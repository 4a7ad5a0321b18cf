"""The task registry's parts: :class:`Task` (name, help, run, goals, headline) and :func:`goal`,
the verdict of one goal. Pure Python: the CLI's ``--help`` and the tests import it cheaply."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Task:
    """One benchmark task, declared at the top of its module in ``benchmarks/tasks/``.

    ``run(ctx)`` yields :class:`benchmarks.results.Row` objects; ``goals(v, rows, mode)`` returns
    the task's goal verdicts (:func:`goal`), where ``v(task, method, metric)`` reads a value of
    ``rows`` in ``mode``; ``headline(v)`` gives the README's line for the task: (what is measured,
    the baselines' figures, aelib's figures)."""

    name: str
    help: str
    run: Callable
    goals: Callable = lambda v, rows, mode: []
    headline: Callable = None


def goal(name, value, target, higher_is_better, how_measured, to_close):
    """A goal's verdict; ``margin`` is positive when met, in the goal's units."""
    if value is None:
        return {
            "goal": name,
            "value": None,
            "target": target,
            "met": False,
            "margin": None,
            "detail": "not measured (task not run in this mode)",
            "to_close": "",
        }
    margin = (value - target) if higher_is_better else (target - value)
    return {
        "goal": name,
        "value": value,
        "target": target,
        "met": margin >= 0,
        "margin": margin,
        "detail": how_measured,
        "to_close": "" if margin >= 0 else to_close,
    }
