"""The Keras backend and seeding, the two switches every notebook, test and benchmark shares.
(Quick mode is the environment variable ``AELIB_QUICK=1``, read by each notebook's parameters
cell and by the benchmarks.)"""

import importlib.util
import json
import os
import random
import sys
from pathlib import Path

import numpy as np

MODULES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}

# TensorFlow's start-up lines, silenced before it loads (``setdefault``: a value you set wins).
# Since TensorFlow 2.16 its C++ code logs through absl, and a message logged before
# absl::InitializeLog() goes to stderr whatever TF_CPP_MIN_LOG_LEVEL says: that is the oneDNN
# banner ("oneDNN custom operations are on", logged on import) and the "oneDNN supports DT_INT32
# only on AVX-512" error of oneDNN's graph rewrite (an int32 Mul that tf.repeat builds, as in
# RepeatVector). Turning the oneDNN rewrites off removes both at their source; it costs nothing
# measurable on CPU (fit time of a dense and a conv autoencoder unchanged, a GRU one 40% faster;
# report-20). TF_CPP_MIN_LOG_LEVEL=2 hides the remaining informational line (CPU instructions).
QUIET_TENSORFLOW = {"TF_CPP_MIN_LOG_LEVEL": "2", "TF_ENABLE_ONEDNN_OPTS": "0"}


def quiet_tensorflow():
    """Set TensorFlow's logging switches (``QUIET_TENSORFLOW``) unless already set; effective
    only before TensorFlow is imported, which is why ``import aelib`` comes first in a notebook."""
    for name, value in QUIET_TENSORFLOW.items():
        os.environ.setdefault(name, value)


def choose_backend():
    """Keras uses TensorFlow unless told otherwise; on a machine without TensorFlow (``pip
    install aelib[jax]``), choose the first installed of JAX and PyTorch instead.

    Nothing is changed when ``KERAS_BACKEND`` is set, when Keras is already imported, or when
    Keras' ``keras.json`` names a backend that is installed (Keras writes that file on its first
    import, naming TensorFlow by default, so a file naming a missing TensorFlow is overruled).
    Returns the backend name it set, or None. It first quiets TensorFlow's start-up logs
    (:func:`quiet_tensorflow`).
    """
    quiet_tensorflow()
    if "KERAS_BACKEND" in os.environ or "keras" in sys.modules:
        return None
    config = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")).expanduser() / "keras.json"
    try:
        wanted = json.loads(config.read_text()).get("backend", "tensorflow")
    except (OSError, ValueError, AttributeError):
        wanted = "tensorflow"
    if wanted not in MODULES or importlib.util.find_spec(MODULES[wanted]):
        return None
    for name in ("jax", "torch"):
        if importlib.util.find_spec(name):
            os.environ["KERAS_BACKEND"] = name
            return name
    return None


def set_seed(seed=0):
    """Seed Python, NumPy and Keras (and so the backend) for reproducible runs."""
    import keras

    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)
