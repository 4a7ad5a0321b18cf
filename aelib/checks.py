"""Argument and data checks shared by builders, layers, metrics and generated data.

Each check raises ``ValueError`` naming the argument, the value it got and what would work, and
returns the (normalised) value, so a caller writes ``units = check_units("units", units)``.
"""

import difflib
import functools
import inspect
import math

import numpy as np


def check_shape(input_shape, ranks, what):
    """``input_shape`` as a tuple of positive ints whose length is in ``ranks``."""
    try:
        shape = tuple(int(d) for d in input_shape)
    except (TypeError, ValueError):
        raise ValueError(
            f"input_shape={input_shape!r} must be a tuple of positive integers without the batch axis, {what}."
        ) from None
    if len(shape) not in ranks or any(d <= 0 for d in shape) or shape != tuple(input_shape):
        raise ValueError(
            f"input_shape={input_shape!r} is not valid here: expected {what} (no batch axis, all sizes positive integers)."
        )
    return shape


def check_positive_int(name, value, example=32):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name}={value!r} must be a positive integer, e.g. {example}.")
    return int(value)


def check_units(name, units, allow_empty=True):
    """A sequence of positive layer sizes (an int is one layer)."""
    if isinstance(units, (int, np.integer)):
        units = (units,)
    units = tuple(units)
    if not allow_empty and not units:
        raise ValueError(f"{name}=() is empty; give at least one layer size, e.g. (64,).")
    for u in units:
        if isinstance(u, bool) or not isinstance(u, (int, np.integer)) or u <= 0:
            raise ValueError(f"{name}={units!r} must be a sequence of positive integers, e.g. (256, 128).")
    return tuple(int(u) for u in units)


def check_choice(name, value, choices):
    if value not in choices:
        close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"{name}={value!r} is not one of {tuple(choices)}.{hint}")
    return value


def check_activation(name, value):
    """A Keras activation name or callable, or None (linear)."""
    import keras

    if value is None:
        return None
    try:
        keras.activations.get(value)
    except (ValueError, TypeError):
        raise ValueError(
            f"{name}={value!r} is not a Keras activation; use e.g. 'relu', 'sigmoid', 'tanh' or None (linear)."
        ) from None
    return value


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


def first_non_finite(array):
    """Index (a tuple) of the first NaN or inf in a float array, or None if all are finite."""
    a = np.asarray(array)
    if a.dtype.kind not in "fc" or a.size == 0:
        return None
    bad = ~np.isfinite(a)
    if not bad.any():
        return None
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), a.shape))


def check_finite(data, name):
    """Raise ValueError naming ``name`` and the first index holding NaN or inf.

    ``data`` may be an array or a (nested) list, tuple or dict of arrays, as Keras' ``fit``
    takes them; anything else (a ``tf.data.Dataset``, a generator) is left alone, since it
    cannot be looked at without consuming it.
    """
    if data is None:
        return
    if isinstance(data, dict):
        for key, value in data.items():
            check_finite(value, f"{name}[{key!r}]")
        return
    if isinstance(data, (list, tuple)):
        for i, value in enumerate(data):
            check_finite(value, f"{name}[{i}]")
        return
    if not isinstance(data, np.ndarray) and not hasattr(data, "__array__"):
        return
    try:
        index = first_non_finite(data)
    except (TypeError, ValueError):
        return
    if index is not None:
        value = np.asarray(data)[index]
        raise ValueError(
            f"{name} holds {value} at index {index} (the first of {int(np.sum(~np.isfinite(np.asarray(data))))} "
            "NaN or inf values). Training on it would make every weight NaN: drop or impute those "
            "entries first (e.g. np.nan_to_num, or sklearn.impute.SimpleImputer)."
        )


def checked_arguments(builder):
    """Decorator: an unknown keyword argument raises ValueError with the closest valid name,
    instead of Python's TypeError (``hiden_units`` -> "did you mean 'hidden_units'?")."""
    params = inspect.signature(builder).parameters
    takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in params.values())
    names = [n for n, p in params.items() if p.kind is not p.VAR_KEYWORD]

    @functools.wraps(builder)
    def wrapper(*args, **kwargs):
        if not takes_kwargs:
            check_keywords(builder.__name__, kwargs, names)
        return builder(*args, **kwargs)

    return wrapper


def check_keywords(owner, kwargs, valid):
    """Raise ValueError for the first key of ``kwargs`` not in ``valid``, with the closest name."""
    for key in kwargs:
        if key not in valid:
            close = difflib.get_close_matches(key, list(valid), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ValueError(f"{owner}() got an unknown argument {key!r}; {hint}it takes {', '.join(valid)}.")
