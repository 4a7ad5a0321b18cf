"""Every family file stands alone, and its repeated blocks equal their sources.

- ``python -m aelib.copies``: every ``# Copied from`` block equals its source; a drifted copy is reported and
  ``--fix`` rewrites it (tested on a copy of the tree).
- Each file of ``aelib/builders/`` copied alone into an empty folder, in a process where ``import aelib`` fails, on
  TensorFlow and on JAX: its builder builds, trains two steps, evaluates, predicts, saves and loads with
  ``safe_mode=True`` to identical predictions, and a ``.keras`` file saved by aelib loads with it.
"""

import ast
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import FAMILIES, installed
from test_builders import CASES

import aelib
from aelib import copies

ROOT = Path(aelib.__file__).resolve().parent.parent
PRIORS = {"autoregressive"}  # not autoencoders: their battery and copy test are in test_autoregressive.py
AUTOENCODERS = [f for f in FAMILIES if f not in PRIORS]
ONE_CASE = {}  # family -> the first battery case built from it
for _name, _case in CASES.items():
    ONE_CASE.setdefault(_case.family, _case)


def test_every_copy_equals_its_source():
    found = copies.find_copies(ROOT)
    assert len(found) > 50 and [c for c in found if c[4]] == []
    assert copies.main(["--root", str(ROOT)]) == 0


def test_a_drifted_copy_is_reported_and_fixed(tmp_path, capsys):
    shutil.copytree(ROOT / "aelib" / "builders", tmp_path / "aelib" / "builders")
    path = tmp_path / "aelib" / "builders" / "variational.py"
    text = path.read_text()
    path.write_text(
        text.replace(
            '        raise ValueError(f"{name}={value!r} must be an integer',
            '        raise TypeError(f"{name}={value!r} must be an integer',
            1,
        )
    )
    assert copies.main(["--root", str(tmp_path)]) == 1
    assert "aelib/builders/variational.py" in capsys.readouterr().out
    assert copies.main(["--root", str(tmp_path), "--fix"]) == 0 and path.read_text() == text


@pytest.mark.parametrize("family", FAMILIES)
def test_a_family_file_imports_only_keras_numpy_and_the_standard_library(family):
    tree = ast.parse((ROOT / "aelib" / "builders" / f"{family}.py").read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] if n.level == 0 else "." for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported <= {"keras", "numpy", "tensorflow", "jax", "torch"} | set(sys.stdlib_module_names), imported


# Over the 450-line target today, and why (an open point of issue 21): the conditional VAE carries the whole
# VAE it extends (~180 copied lines) besides the ~200 lines of copied checks, NaN guard and built-in-loss base.
OVER_TARGET = {"conditional"}


@pytest.mark.parametrize(
    "family",
    [pytest.param(f, marks=pytest.mark.xfail(strict=True, reason="over 450 lines")) if f in OVER_TARGET else f for f in FAMILIES],
)
def test_a_family_file_is_at_most_450_lines(family):
    assert len((ROOT / "aelib" / "builders" / f"{family}.py").read_text().splitlines()) <= 450


def test_every_family_has_a_battery_case():
    assert sorted(ONE_CASE) == AUTOENCODERS


def test_every_family_has_a_test_module_of_its_own():
    """The tests are laid out like the library: aelib/builders/<family>.py is tested in tests/test_<family>.py."""
    assert [f for f in FAMILIES if not (ROOT / "tests" / f"test_{f}.py").exists()] == []


SCRIPT = textwrap.dedent("""
    import importlib.util, json, sys
    sys.modules["aelib"] = None  # import aelib fails here
    import keras, numpy as np
    out = {}
    for family, builder, kwargs, shape, latent, labels, saved in json.loads(sys.argv[1]):
        spec = importlib.util.spec_from_file_location(family, f"{sys.argv[2]}/{family}/{family}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)  # this file alone: every registered class of aelib comes from it
        rng = np.random.default_rng(0)
        x = rng.random((64,) + tuple(shape)).astype("float32")
        data = [x, rng.integers(0, 10, 64)] if labels else x
        model = getattr(module, builder)(tuple(shape), latent, **kwargs)
        model.compile(optimizer="adam", **({} if hasattr(model, "loss_terms") else {"loss": "mse"}))
        model.fit(data, epochs=1, batch_size=32, verbose=0)  # two steps
        loss = model.evaluate(data, verbose=0, return_dict=True)["loss"]
        pred = model.predict(data, verbose=0)
        model.save(f"{sys.argv[2]}/{family}/copy.keras")
        back = keras.saving.load_model(f"{sys.argv[2]}/{family}/copy.keras", safe_mode=True)
        by_aelib = keras.saving.load_model(saved, safe_mode=True)
        with np.load(saved + ".npz") as arrays:
            inputs = [arrays[k] for k in arrays.files]
        expected = np.load(saved + ".npy")
        out[family] = {"finite": bool(np.isfinite(loss)), "same": bool(np.array_equal(back.predict(data, verbose=0), pred)),
                       "aelib_file": bool(np.allclose(by_aelib.predict(inputs if labels else inputs[0], verbose=0), expected,
                                                      rtol=1e-4, atol=1e-5)),  # saved on TensorFlow: the same up to rounding
                       "type": type(back).__module__}
    print(json.dumps(out))
""")


@pytest.mark.once
@pytest.mark.parametrize("backend", ["tensorflow", "jax", "torch"])
def test_each_family_file_works_copied_alone(backend, tmp_path):
    if not installed(backend):
        pytest.skip(f"{backend} is not installed")
    import keras

    jobs = []
    for family in AUTOENCODERS:
        case = ONE_CASE[family]
        folder = tmp_path / family
        folder.mkdir()
        shutil.copy(ROOT / "aelib" / "builders" / f"{family}.py", folder)
        shape = case.shapes[0]
        aelib.set_seed(0)
        model = case.build(shape)  # saved by aelib, here, on TensorFlow
        model.compile(optimizer="adam", **({} if hasattr(model, "loss_terms") else {"loss": "mse"}))
        rng = np.random.default_rng(1)
        x = rng.random((8,) + shape).astype("float32")
        inputs = case.inputs(x, rng.integers(0, 10, 8))
        saved = str(tmp_path / f"{family}_aelib.keras")
        model.save(saved)
        np.savez(saved + ".npz", *keras.tree.flatten(inputs))
        np.save(saved + ".npy", model.predict(inputs, verbose=0))
        jobs.append([family, case.builder, case.kwargs, shape, case.latent, case.labels, saved])
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": ""}
    proc = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(jobs), str(tmp_path)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=900)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == {f: {"finite": True, "same": True, "aelib_file": True, "type": f} for f in AUTOENCODERS}


def test_the_readme_table_of_family_files_is_current():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- family-lines -->\n")[1].split("\n<!-- /family-lines -->")[0]
    assert block == copies.table(ROOT), "run: python -m aelib.copies --table, and paste it into README.md"
