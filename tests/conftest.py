"""Shared test set-up: quick mode on by default (notebooks run by nbval inherit it), quiet
TensorFlow, and a small real Fashion-MNIST sample for the builder battery."""
import os

os.environ.setdefault("AELIB_QUICK", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def fashion():
    """(x_train, y_train), (x_test, y_test): 1,200 + 200 real Fashion-MNIST images."""
    import aelib

    try:
        return aelib.load_fashion_mnist(limit=1200, seed=0, download=False)
    except aelib.DatasetNotFoundError as e:
        pytest.skip(f"Fashion-MNIST not on this machine (apt-get install -y dataset-fashion-mnist): {e}")
