"""Across backends: a ``.keras`` file saved on this backend loads (``safe_mode=True``) and
predicts the same on every other installed backend, three SGD steps from it give the same
weights there (models without random draws in training, the VQ-VAE's EMA codebook included), and the builder battery runs under PyTorch
wherever torch is installed. (JAX runs the whole unit suite in a process of its own in CI:
``KERAS_BACKEND=jax python -m pytest tests/``.)"""

import inspect
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest
from conftest import FAMILIES, installed

import aelib

pytestmark = pytest.mark.once
ROOT = Path(__file__).resolve().parents[1]
OTHERS = [b for b in ("jax", "torch") if installed(b)]

MODELS = {
    "dense": lambda: aelib.dense_autoencoder((28, 28, 1), 4, hidden_units=(16,)),
    "conv": lambda: aelib.conv_autoencoder((28, 28, 1), 4, filters=(8, 16)),
    "denoising": lambda: aelib.denoising_autoencoder((28, 28, 1), 4, filters=(8,)),
    "sparse": lambda: aelib.sparse_autoencoder((28, 28, 1), 16),
    "contractive": lambda: aelib.contractive_autoencoder((28, 28, 1), 4),
    "vae": lambda: aelib.variational_autoencoder((28, 28, 1), 4, filters=(8, 16)),
    "recurrent": lambda: aelib.recurrent_autoencoder((28, 28), 4, hidden_units=(8,), cell="gru"),
    "tied": lambda: aelib.dense_autoencoder((28, 28, 1), 4, hidden_units=(16,), tie_weights=True),
    "cvae": lambda: aelib.conditional_variational_autoencoder((28, 28, 1), 4, 10, filters=(8, 16)),
    "vq": lambda: aelib.vq_autoencoder((28, 28, 1), 4, num_embeddings=16, filters=(8, 16)),
    "mae": lambda: aelib.masked_autoencoder((28, 28, 1), 16, depth=1, decoder_dim=16, num_heads=2, decoder_heads=2),
}
OWN_LOSS = ("vae", "cvae", "vq", "mae")  # compiled with an optimizer only
# Models without random draws in training: three SGD steps from the loaded file must give the
# same weights on every backend (the others draw noise or masks from each backend's own RNG).
STEPPED = ("dense", "contractive", "tied", "vq")


def stepped_weights(model, data, own_loss):  # also run, as source text, in the other backend's process
    model.compile(optimizer=keras.optimizers.SGD(0.05), **({} if own_loss else {"loss": "mse"}))
    for _ in range(3):
        model.train_on_batch(data, None if own_loss else data)
    return np.concatenate([keras.ops.convert_to_numpy(w).ravel() for w in model.weights])


@pytest.fixture(scope="module")
def saved(tmp_path_factory, fashion):
    folder = tmp_path_factory.mktemp("cross")
    (x, y), _ = fashion
    for name, make in MODELS.items():
        aelib.set_seed(0)
        model = make()
        data = x[:128, ..., 0] if name == "recurrent" else x[:128]
        if name in OWN_LOSS:
            model.compile(optimizer="adam")
            model.fit([data, y[:128]] if name == "cvae" else data, epochs=1, batch_size=64, verbose=0)
        else:
            model.compile(optimizer="adam", loss="mse")
            model.fit(data, data, epochs=1, batch_size=64, verbose=0)
        model.save(folder / f"{name}.keras")
        np.save(folder / f"{name}_x.npy", data[:16])
        np.save(folder / f"{name}_y.npy", y[:16])
        inputs = [data[:16], y[:16]] if name == "cvae" else data[:16]
        np.save(folder / f"{name}_pred.npy", model.predict(inputs, verbose=0))
        if name in STEPPED:
            again = keras.saving.load_model(folder / f"{name}.keras", safe_mode=True)
            np.save(folder / f"{name}_stepped.npy", stepped_weights(again, data[:16], name in OWN_LOSS))
    return folder


@pytest.mark.skipif(not OTHERS, reason="no other Keras backend installed (pip install -e '.[jax]' or torch)")
@pytest.mark.parametrize("backend", OTHERS)
def test_a_keras_file_loads_and_predicts_the_same_on_another_backend(backend, saved):
    script = textwrap.dedent(f"""
        import json, numpy as np, keras, aelib
        folder, out = {str(saved)!r}, {{}}
        for name in {list(MODELS)!r}:
            model = keras.saving.load_model(f"{{folder}}/{{name}}.keras", safe_mode=True)
            x = np.load(f"{{folder}}/{{name}}_x.npy")
            inputs = [x, np.load(f"{{folder}}/{{name}}_y.npy")] if name == "cvae" else x
            pred = model.predict(inputs, verbose=0)
            out[name] = float(np.abs(pred - np.load(f"{{folder}}/{{name}}_pred.npy")).max())
            if name in {STEPPED!r}:
                w = stepped_weights(model, x, name in {OWN_LOSS!r})
                out[name + " after 3 SGD steps"] = float(np.abs(w - np.load(f"{{folder}}/{{name}}_stepped.npy")).max())
        print(keras.backend.backend(), json.dumps(out))
    """)
    script = script.replace("aelib\n", "aelib\n" + inspect.getsource(stepped_weights), 1)
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got_backend, diffs = proc.stdout.strip().splitlines()[-1].split(" ", 1)
    assert got_backend == backend
    diffs = json.loads(diffs)
    assert {f"{n} after 3 SGD steps" for n in STEPPED} <= set(diffs), sorted(diffs)
    print(backend, {n: f"{d:.1e}" for n, d in diffs.items()})
    for name, diff in diffs.items():
        assert diff < (1e-4 if "steps" in name else 1e-5), (name, diff)  # float32 round-off between backends' kernels


@pytest.mark.skipif(
    not installed("torch"), reason="PyTorch is not installed: pip install torch (CPU build) to run the battery under it"
)
def test_the_builder_battery_passes_under_pytorch():
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_builders.py",
            *(f"tests/test_{family}.py" for family in FAMILIES),
        ],
        capture_output=True,
        text=True,
        timeout=1800,
        env=env,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert " passed" in proc.stdout.strip().splitlines()[-1]


def test_backend_is_what_keras_reports():
    assert keras.backend.backend() == os.environ.get("KERAS_BACKEND", "tensorflow")
