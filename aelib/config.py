"""Quick mode and seeding: the two switches every notebook, test and benchmark shares."""

import os
import random

import numpy as np

QUICK_ENV = "AELIB_QUICK"


def is_quick():
    """True when ``AELIB_QUICK=1``: small subsets and few epochs, same code path."""
    return os.environ.get(QUICK_ENV, "").strip() == "1"


def pick(quick, full):
    """Return ``quick`` in quick mode and ``full`` otherwise (``pick(2, 30)`` for epochs)."""
    return quick if is_quick() else full


def set_seed(seed=0):
    """Seed Python, NumPy and Keras (and so TensorFlow) for reproducible runs."""
    import keras

    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)
