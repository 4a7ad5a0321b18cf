"""Time series for sequence autoencoders: cut a signal into windows, and spread per-window
scores back onto its time steps.

A recurrent autoencoder reads fixed-length windows ``(n_windows, window, features)``;
:func:`sliding_windows` makes them from a ``(timesteps, features)`` signal and
:func:`windows_to_timesteps` turns one anomaly score per window into one per time step. The
generated signals with labelled anomalies are :func:`aelib.synthetic.make_signals`.
"""

import numpy as np

from .checks import check_choice, check_positive_int

__all__ = ["sliding_windows", "windows_to_timesteps"]


def sliding_windows(signal, window, stride=1):
    """Cut a ``(timesteps,)`` or ``(timesteps, features)`` signal into overlapping windows.

    Window ``i`` covers time steps ``i * stride`` to ``i * stride + window - 1``; a tail too
    short for a whole window is dropped. Returns a new array ``(n_windows, window, features)``.
    """
    x = np.asarray(signal)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"signal must be (timesteps,) or (timesteps, features), got shape {np.shape(signal)}.")
    if not isinstance(window, (int, np.integer)) or not 1 <= window <= len(x):
        raise ValueError(f"window must be an integer in 1..{len(x)} (the signal length), got {window!r}.")
    check_positive_int("stride", stride, example=1)
    views = np.lib.stride_tricks.sliding_window_view(x, window, axis=0)  # (n, features, window)
    return views[::stride].transpose(0, 2, 1).copy()


def windows_to_timesteps(window_scores, window, stride, n_timesteps, reduce="max", fill=0.0):
    """Spread one score per window back onto the time steps: shape ``(n_timesteps,)``.

    Each time step gets the ``max`` (default: flagged if any window over it looks anomalous) or
    the ``mean`` of the scores of the windows covering it, with windows laid out as in
    :func:`sliding_windows`. Time steps no window covers (a tail shorter than ``stride``) get
    ``fill``, 0 by default: no evidence of an anomaly.
    """
    check_choice("reduce", reduce, ("max", "mean"))
    scores = np.asarray(window_scores, dtype=np.float64).ravel()
    for name, value in (("window", window), ("stride", stride), ("n_timesteps", n_timesteps)):
        check_positive_int(name, value)
    needed = (len(scores) - 1) * stride + window
    if len(scores) == 0 or needed > n_timesteps:
        raise ValueError(
            f"{len(scores)} windows of {window} steps with stride {stride} cover {needed} time "
            f"steps, more than n_timesteps={n_timesteps}; pass the window_scores of "
            f"sliding_windows(signal, {window}, {stride})."
        )
    steps = (np.arange(len(scores)) * stride)[:, None] + np.arange(window)  # (n_windows, window)
    steps, values = steps.ravel(), np.repeat(scores, window)
    counts = np.bincount(steps, minlength=n_timesteps)
    if reduce == "max":
        out = np.full(n_timesteps, -np.inf)
        np.maximum.at(out, steps, values)
    else:
        out = np.bincount(steps, weights=values, minlength=n_timesteps) / np.maximum(counts, 1)
    out[counts == 0] = fill
    return out
