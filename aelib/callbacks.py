"""Callbacks: watch training in one live line, stop on a NaN loss by name, warm up a VAE's KL.

- :class:`Progress`: one line that updates in place (epoch, step, every logged metric, time),
  in Jupyter and in a terminal: what ``fit(..., verbose=0, callbacks=[aelib.Progress()])``
  shows instead of a wall of epoch logs;
- :class:`StopOnNaN`: stops ``fit`` as soon as a logged loss term becomes NaN or inf, with an
  error naming the term, the epoch and the step (aelib models add it to every ``fit``; each family file carries a
  copy, whose error is a ``FloatingPointError``: catch that);
- :class:`KLWarmup`: raises a VAE's ``beta`` from 0 to its target over the first epochs.
"""

import sys
import time

import keras
import numpy as np

from .builders.base import StopOnNaN, TrainingDivergedError
from .checks import check_positive_int, check_range

__all__ = ["Progress", "StopOnNaN", "TrainingDivergedError", "KLWarmup"]


def _value(v):
    try:
        return float(np.asarray(keras.ops.convert_to_numpy(v)))
    except (TypeError, ValueError):
        return None


def _format_logs(logs):
    parts = []
    for key, value in (logs or {}).items():
        v = _value(value)
        if v is not None:
            parts.append(f"{key} {v:.4g}")
    return " · ".join(parts)


class Progress(keras.callbacks.Callback):
    """Training progress in one line that updates in place.

    ``epoch 7/30 · step 120/235 · loss 0.0153 · val_loss 0.0161 · 41 s``. In Jupyter the line is
    a display that is updated (the saved notebook keeps its last state); elsewhere it is
    rewritten with a carriage return. Use it with ``verbose=0``::

        model.fit(x, x, epochs=30, verbose=0, callbacks=[aelib.Progress()])

    Args:
        every: seconds between updates within an epoch (the end of each epoch always updates).
        prefix: text shown before the line, e.g. the model's name when several train in a loop.
    """

    def __init__(self, every=0.5, prefix=""):
        super().__init__()
        check_range("every", every, 0.0)
        self.every, self.prefix = float(every), prefix
        self._handle = None

    def _show(self, text):
        line = f"{self.prefix}{text}"
        if self._handle is None:
            try:
                from IPython import get_ipython
                from IPython.display import display

                if get_ipython() is not None and hasattr(get_ipython(), "kernel"):
                    self._handle = display({"text/plain": line}, raw=True, display_id=True)
                    return
            except ImportError:
                pass
            self._handle = False
        if self._handle:
            self._handle.update({"text/plain": line}, raw=True)
        else:
            sys.stdout.write("\r" + line.ljust(getattr(self, "_width", 0)))
            sys.stdout.flush()
            self._width = len(line)

    def on_train_begin(self, logs=None):
        self._start, self._last, self._handle = time.perf_counter(), 0.0, None
        self._epochs, self._steps = self.params.get("epochs"), self.params.get("steps")
        self._epoch, self._logs = 0, {}

    def _line(self, step=None):
        parts = [f"epoch {self._epoch + 1}/{self._epochs}"]
        if step is not None and self._steps:
            parts.append(f"step {step}/{self._steps}")
        text = _format_logs(self._logs)
        parts += [text] if text else []
        parts.append(f"{time.perf_counter() - self._start:.0f} s")
        return " · ".join(parts)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        if now - self._last >= self.every:
            self._last, self._logs = now, dict(logs or {})
            self._show(self._line(step=batch + 1))

    def on_epoch_end(self, epoch, logs=None):
        self._logs = dict(logs or {})
        self._last = time.perf_counter()
        self._show(self._line())

    def on_train_end(self, logs=None):
        if self._handle is False:
            sys.stdout.write("\n")
            sys.stdout.flush()


class KLWarmup(keras.callbacks.Callback):
    """Raise ``model.beta`` linearly from 0 to ``target`` over the first ``epochs`` epochs.

    Starting with a small KL weight lets the decoder learn to use the code before the KL term
    pulls the posterior towards the prior, which helps against posterior collapse.

    The loss rises while ``beta`` does, so pair it with early stopping only after the warm-up:
    ``keras.callbacks.EarlyStopping(restore_best_weights=True, start_from_epoch=epochs)``;
    otherwise the "best" epoch is one with ``beta`` near 0, a model that ignores the KL term.
    """

    def __init__(self, epochs=10, target=1.0):
        super().__init__()
        self.epochs = check_positive_int("epochs", epochs, example=10)
        self.target = float(check_range("target", target, 0.0))

    def on_epoch_begin(self, epoch, logs=None):
        self.model.beta = self.target * min(1.0, epoch / self.epochs)
