"""Shared test set-up: quick mode on by default (notebooks run by nbval inherit it), quiet
TensorFlow, the Keras backend in the report header, and a small real Fashion-MNIST sample.

The unit tests run on whichever Keras backend ``KERAS_BACKEND`` selects (one backend per pytest
process): ``python -m pytest`` uses TensorFlow, ``KERAS_BACKEND=jax python -m pytest tests/``
JAX, ``KERAS_BACKEND=torch ...`` PyTorch. Tests that start processes of their own (distribution,
other backends) carry the ``once`` marker and run in the TensorFlow process only."""

import importlib.util
import os
from pathlib import Path

os.environ.setdefault("AELIB_QUICK", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # as `import aelib` sets it; keras may load TensorFlow before aelib here

import pytest  # noqa: E402

BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")
# The family files of aelib/builders/ (base.py is the source of their shared blocks, not a family)
FAMILIES = sorted(
    p.stem
    for p in (Path(__file__).resolve().parents[1] / "aelib" / "builders").glob("*.py")
    if p.stem not in ("__init__", "base")
)
_MODULES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
if BACKEND in _MODULES and importlib.util.find_spec(_MODULES[BACKEND]) is None:
    raise pytest.UsageError(
        f"KERAS_BACKEND={BACKEND} but {_MODULES[BACKEND]} is not installed: pip install -e '.[{BACKEND}]' "
        "(or unset KERAS_BACKEND to test on TensorFlow)."
    )


def pytest_report_header(config):
    import keras

    return f"aelib tests on Keras {keras.__version__}, backend {keras.backend.backend()}"


def pytest_configure(config):
    config.addinivalue_line("markers", "once: starts its own processes; runs in the TensorFlow test process only")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """Skip the ``once`` tests outside the TensorFlow process. With pytest-xdist (``-n 2``,
    ``--dist loadgroup`` in pyproject.toml) all cells of a notebook must run in one worker, on one
    kernel: each notebook's nbval cells form one ``xdist_group``."""
    for item in items:
        if ".ipynb" in item.nodeid:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
    if BACKEND == "tensorflow":
        return
    skip = pytest.mark.skip(reason=f"runs once, in the TensorFlow test process (this one is {BACKEND})")
    for item in items:
        if "once" in item.keywords:
            item.add_marker(skip)


def installed(module):
    return importlib.util.find_spec(module) is not None


@pytest.fixture(scope="session")
def fashion():
    """(x_train, y_train), (x_test, y_test): 1,200 + 200 real Fashion-MNIST images."""
    import aelib

    try:
        return aelib.load_fashion_mnist(limit=1200, seed=0, download=False)
    except aelib.DatasetNotFoundError as e:
        pytest.skip(f"Fashion-MNIST not on this machine (apt-get install -y dataset-fashion-mnist): {e}")
