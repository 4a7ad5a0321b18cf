"""Argument and data checks for the rest of aelib (data, metrics, callbacks); the builders' own checks, which each
family file carries a copy of, are re-exported from :mod:`aelib.builders.base`.

Each check raises ``ValueError`` naming the argument, the value it got and what would work, and
returns the (normalised) value, so a caller writes ``units = check_units("units", units)``.
"""

import math

import numpy as np

from .builders.base import check_activation, check_choice, check_finite, check_shape, check_units, checked_arguments  # noqa: F401


def check_positive_int(name, value, example=32):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name}={value!r} must be a positive integer, e.g. {example}.")
    return int(value)


def check_range(name, value, low, high=math.inf, low_inclusive=True, high_inclusive=False):
    """A real number in the interval from ``low`` to ``high`` (open or closed at each end)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or math.isnan(value):
        raise ValueError(f"{name}={value!r} must be a number.")
    ok_low = value >= low if low_inclusive else value > low
    ok_high = value <= high if high_inclusive else value < high
    if not (ok_low and ok_high):
        lo, hi = "[" if low_inclusive else "(", "]" if high_inclusive else ")"
        raise ValueError(f"{name}={value!r} must be in {lo}{low}, {high}{hi}.")
    return value


def check_fraction(name, value, open_low=False, open_high=False):
    """A fraction in [0, 1]; ``open_low`` / ``open_high`` exclude 0 / 1."""
    return check_range(name, value, 0.0, 1.0, low_inclusive=not open_low, high_inclusive=not open_high)
