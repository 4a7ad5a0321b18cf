"""The small shared pieces: argument and data checks, the one-line progress callback, the binding
of prose to results, and the choice of backend on a machine without TensorFlow."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import aelib
from aelib import checks


def test_first_non_finite_and_check_finite_name_the_array_and_index():
    a = np.zeros((4, 3), "float32")
    assert checks.first_non_finite(a) is None
    a[2, 1] = np.nan
    a[3, 0] = np.inf
    assert checks.first_non_finite(a) == (2, 1)
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


def test_without_tensorflow_aelib_picks_an_installed_backend(tmp_path):
    """``choose_backend`` with TensorFlow hidden: JAX (or PyTorch) is chosen, unless the user
    chose already (KERAS_BACKEND, or a keras.json naming an installed backend)."""
    script = (
        "import importlib.util, json, os, sys; real = importlib.util.find_spec\n"
        "importlib.util.find_spec = lambda n, *a: None if n == 'tensorflow' else real(n, *a)\n"
        "import aelib, keras; print(json.dumps([os.environ.get('KERAS_BACKEND'), keras.backend.backend()]))"
    )
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"} | {"KERAS_HOME": str(tmp_path)}
    run = lambda env: json.loads(subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True).stdout)
    installed = [b for b in ("jax", "torch") if __import__("importlib").util.find_spec(b)]
    if installed:
        assert run(env) == [installed[0], installed[0]]
        (tmp_path / "keras.json").write_text(json.dumps({"backend": "tensorflow"}))  # as Keras writes it
        assert run(env) == [installed[0], installed[0]]  # names a missing TensorFlow: overruled
        (tmp_path / "keras.json").write_text(json.dumps({"backend": installed[-1]}))
        assert run(env) == [None, installed[-1]]  # names an installed backend: Keras' choice stands
    assert run({**env, "KERAS_BACKEND": "tensorflow"}) == ["tensorflow", "tensorflow"]
    assert keras.backend.backend() in ("tensorflow", "jax", "torch")
