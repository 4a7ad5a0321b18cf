"""The small shared pieces: argument and data checks, the one-line progress callback, the binding
of prose to results, and the choice of backend on a machine without TensorFlow."""

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import installed

import aelib
from aelib import checks


def test_check_finite_names_the_array_and_the_first_bad_index():
    a = np.zeros((4, 3), "float32")
    checks.check_finite(a, "zeros")
    a[2, 1] = np.nan
    a[3, 0] = np.inf
    with pytest.raises(ValueError, match=r"x\[1\]\['b'\] holds nan at index \(2, 1\) \(the first of 2"):
        checks.check_finite([np.ones(3), {"a": np.ones(2), "b": a}], "x")
    checks.check_finite(np.arange(5), "ints are always finite")
    checks.check_finite(iter([1.0]), "a generator is left alone")


@pytest.mark.parametrize(
    "check,args,text",
    [
        (checks.check_positive_int, ("units", 0), "units=0 must be a positive integer"),
        (checks.check_positive_int, ("units", True), "units=True"),
        (checks.check_choice, ("cell", "lstn", ("lstm", "gru")), "Did you mean 'lstm'"),
        (checks.check_range, ("weight", -1.0, 0.0), r"weight=-1.0 must be in \[0.0, inf\)"),
        (checks.check_range, ("weight", float("nan"), 0.0), "must be a number"),
        (checks.check_fraction, ("rate", 1.0, False, True), r"rate=1.0 must be in \[0.0, 1.0\)"),
        (checks.check_units, ("filters", (8, 0)), "sequence of positive integers"),
    ],
)
def test_checks_raise_value_errors_that_say_what_would_work(check, args, text):
    with pytest.raises(ValueError, match=text):
        check(*args)


def test_progress_is_one_line_that_updates(capsys, fashion):
    (x, _), _ = fashion
    ae = aelib.dense_autoencoder((28, 28, 1), 4, hidden_units=(16,))
    ae.compile(optimizer="adam", loss="mse")
    ae.fit(x[:256], x[:256], epochs=3, batch_size=64, verbose=0, validation_split=0.25, callbacks=[aelib.Progress(every=0)])
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.endswith("\n")  # one line, rewritten with \r
    last = out.rstrip("\n").split("\r")[-1]
    assert last.startswith("epoch 3/3 · loss ") and "val_loss" in last and last.rstrip().endswith(" s")
    with pytest.raises(ValueError, match="every"):
        aelib.Progress(every=-1)


def test_say_renders_computed_figures_and_refuses_placeholders(capsys):
    value = 0.123456
    aelib.say(f"""
        The error is **{value:.3f}**.
    """)
    assert capsys.readouterr().out == "The error is **0.123**.\n"
    with pytest.raises(ValueError, match="placeholder"):
        aelib.say("The ELBO is {{ELBO}} nats.")


def test_choose_backend_only_where_tensorflow_is_missing_and_nobody_chose(tmp_path, monkeypatch):
    """``choose_backend`` picks JAX (or PyTorch) where TensorFlow is not installed, unless the
    user chose already: KERAS_BACKEND, or a keras.json naming an installed backend."""
    from aelib import config

    real = importlib.util.find_spec
    hidden = {"tensorflow"}
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in hidden else real(name, *a))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    monkeypatch.delitem(sys.modules, "keras")  # as before Keras' first import (restored afterwards)
    installed = [b for b in ("jax", "torch") if real(b)]
    first = installed[0] if installed else None

    def choose():
        os.environ.pop("KERAS_BACKEND", None)
        return config.choose_backend(), os.environ.get("KERAS_BACKEND")

    assert choose() == (first, first)
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "tensorflow"}))  # as Keras writes it
    assert choose() == (first, first)  # names a missing TensorFlow: overruled
    if installed:
        (tmp_path / "keras.json").write_text(json.dumps({"backend": installed[-1]}))
        assert choose() == (None, None)  # names an installed backend: Keras' own choice stands
    hidden.clear()
    (tmp_path / "keras.json").unlink()
    assert choose() == (None, None)  # TensorFlow installed: Keras' default stands
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    assert config.choose_backend() is None and os.environ["KERAS_BACKEND"] == "torch"


@pytest.mark.once
@pytest.mark.skipif(not any(installed(b) for b in ("jax", "torch")), reason="neither JAX nor PyTorch is installed")
def test_import_aelib_without_tensorflow_uses_another_backend(tmp_path):
    script = (
        "import importlib.util, json, os; real = importlib.util.find_spec\n"
        "importlib.util.find_spec = lambda n, *a: None if n == 'tensorflow' else real(n, *a)\n"
        "import aelib, keras; print(json.dumps([os.environ.get('KERAS_BACKEND'), keras.backend.backend()]))"
    )
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"} | {"KERAS_HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    chosen, backend = json.loads(proc.stdout.strip().splitlines()[-1])
    assert chosen == backend and backend in ("jax", "torch")
