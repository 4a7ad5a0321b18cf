"""Argument checks shared by the builders: each raises ValueError naming the argument, the
value it got and what would work."""

import keras


def check_shape(input_shape, ranks, what):
    """``input_shape`` as a tuple of positive ints whose length is in ``ranks``."""
    try:
        shape = tuple(int(d) for d in input_shape)
    except (TypeError, ValueError):
        raise ValueError(
            f"input_shape={input_shape!r} must be a tuple of positive integers without the batch "
            f"axis, {what}."
        ) from None
    if len(shape) not in ranks or any(d <= 0 for d in shape) or shape != tuple(input_shape):
        raise ValueError(
            f"input_shape={input_shape!r} is not valid here: expected {what} (no batch axis, "
            "all sizes positive integers)."
        )
    return shape


def check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name}={value!r} must be a positive integer, e.g. 32.")
    return value


def check_units(name, units, allow_empty=True):
    if isinstance(units, int):
        units = (units,)
    units = tuple(units)
    if not allow_empty and not units:
        raise ValueError(f"{name}=() is empty; give at least one layer size, e.g. (64,).")
    for u in units:
        if isinstance(u, bool) or not isinstance(u, int) or u <= 0:
            raise ValueError(f"{name}={units!r} must be a sequence of positive integers, e.g. (256, 128).")
    return units


def check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not one of {tuple(choices)}.")
    return value


def check_activation(name, value):
    if value is None:
        return None
    try:
        keras.activations.get(value)
    except (ValueError, TypeError):
        raise ValueError(
            f"{name}={value!r} is not a Keras activation; use e.g. 'relu', 'sigmoid', 'tanh' or "
            "None (linear)."
        ) from None
    return value


def check_range(name, value, low, high, low_inclusive=True, high_inclusive=False):
    ok_low = value >= low if low_inclusive else value > low
    ok_high = value <= high if high_inclusive else value < high
    if not (ok_low and ok_high):
        lo, hi = "[" if low_inclusive else "(", "]" if high_inclusive else ")"
        raise ValueError(f"{name}={value!r} must be in {lo}{low}, {high}{hi}.")
    return value


def checked_arguments(builder):
    """Decorator: an unknown keyword argument raises ValueError with the closest valid name,
    instead of Python's TypeError (``hiden_units`` -> "did you mean 'hidden_units'?")."""
    import difflib
    import functools
    import inspect

    params = inspect.signature(builder).parameters
    takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in params.values())
    names = [n for n, p in params.items() if p.kind is not p.VAR_KEYWORD]

    @functools.wraps(builder)
    def wrapper(*args, **kwargs):
        if not takes_kwargs:
            for key in kwargs:
                if key not in params:
                    close = difflib.get_close_matches(key, names, n=1)
                    hint = f"did you mean {close[0]!r}? " if close else ""
                    raise ValueError(
                        f"{builder.__name__}() got an unknown argument {key!r}; {hint}"
                        f"it takes {', '.join(names)}."
                    )
        return builder(*args, **kwargs)

    return wrapper
