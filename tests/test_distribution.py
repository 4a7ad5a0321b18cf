"""Distributed training gives the same step as one device, on each backend that has a way to
distribute: TensorFlow ``MirroredStrategy`` (two logical CPUs) and ``MultiWorkerMirroredStrategy``
(two worker processes on localhost), and JAX ``keras.distribution.DataParallel`` (two CPU
devices). Each run is a fresh process (tests/distributed_vae.py) training the same VAE, with its
log-variance pinned so that sampling noise cannot hide a difference, on the same 64 images with
SGD, under which a wrongly scaled loss would show in the weights."""

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import installed

pytestmark = pytest.mark.once
SCRIPT = Path(__file__).with_name("distributed_vae.py")
ENV = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "2"}


def run(mode, out, *args, backend="tensorflow", wait=True):
    cmd = [sys.executable, str(SCRIPT), mode, str(out), *map(str, args)]
    env = {**ENV, "KERAS_BACKEND": backend}
    if not wait:
        return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(Path(out).read_text())


def assert_same_step(single, distributed, replicas):
    assert distributed["replicas"] == replicas
    for key in ("loss", "reconstruction_loss", "kl_loss"):
        np.testing.assert_allclose(distributed["history"][key], single["history"][key], rtol=1e-4)
    diff = np.abs(np.array(single["weights"]) - np.array(distributed["weights"])).max()
    assert diff < 1e-5, diff


@pytest.fixture(scope="module")
def tensorflow_single(tmp_path_factory):
    return run("single", tmp_path_factory.mktemp("tf") / "single.json")


def test_mirrored_strategy_equals_one_device(tensorflow_single, tmp_path):
    assert_same_step(tensorflow_single, run("mirrored", tmp_path / "mirrored.json"), replicas=2)


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_multi_worker_mirrored_strategy_equals_one_process(tensorflow_single, tmp_path):
    """Two worker processes (TF_CONFIG with 127.0.0.1 ports), each given the whole data set and
    the global batch size: each computes half of every batch, and both end with the weights of
    one process that saw the whole batch."""
    ports = ",".join(map(str, _free_ports(2)))
    workers = [run("worker", tmp_path / f"worker{i}.json", i, ports, wait=False) for i in range(2)]
    for proc in workers:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-3000:]
    for i in range(2):
        assert_same_step(tensorflow_single, json.loads((tmp_path / f"worker{i}.json").read_text()), replicas=2)


@pytest.mark.skipif(not installed("jax"), reason="JAX is not installed (pip install -e '.[jax]')")
def test_jax_data_parallel_equals_one_device(tmp_path):
    single = run("single", tmp_path / "single.json", backend="jax")
    assert_same_step(single, run("data_parallel", tmp_path / "dp.json", backend="jax"), replicas=2)


@pytest.mark.once
def test_every_family_trains_under_mirrored_strategy():
    """Two logical CPUs under MirroredStrategy: every family builds, compiles and trains (the VAE's
    step is compared with one device's above; these must train at all)."""
    script = textwrap.dedent("""
        import json, numpy as np, tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        import keras, aelib

        x = np.random.default_rng(0).random((64, 28, 28, 1)).astype("float32")
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        with strategy.scope():
            models = {
                "dense": aelib.dense_autoencoder((28, 28, 1), 8, hidden_units=(32,)),
                "conv": aelib.conv_autoencoder((28, 28, 1), 8, filters=(8, 16)),
                "denoising": aelib.denoising_autoencoder((28, 28, 1), 8, filters=(8, 16)),
                "sparse": aelib.sparse_autoencoder((28, 28, 1), 32),
                "contractive": aelib.contractive_autoencoder((28, 28, 1), 8, hidden_units=(32,)),
                "recurrent": aelib.recurrent_autoencoder((28, 28), 8, hidden_units=(16,)),
                "tied": aelib.dense_autoencoder((28, 28, 1), 8, hidden_units=(32,), tie_weights=True),
            }
            for model in models.values():
                model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse")
            own_loss = {  # the families whose loss is built in: compile with an optimizer only
                "vae": aelib.variational_autoencoder((28, 28, 1), 4, filters=(8, 16)),
                "cvae": aelib.conditional_variational_autoencoder((28, 28, 1), 4, 10, filters=(8, 16)),
                "vq": aelib.vq_autoencoder((28, 28, 1), 8, num_embeddings=16, filters=(8, 16)),
                "mae": aelib.masked_autoencoder((28, 28, 1), 16, depth=1, decoder_dim=16, num_heads=2, decoder_heads=2),
            }
            for model in own_loss.values():
                model.compile(optimizer=keras.optimizers.Adam(3e-3))
        labels = np.arange(64) % 10
        losses = {}
        for name, model in models.items():
            data = x[..., 0] if name == "recurrent" else x
            losses[name] = model.fit(data, data, epochs=3, batch_size=32, verbose=0).history["loss"]
        for name, model in own_loss.items():
            data = [x, labels] if name == "cvae" else x
            losses[name] = model.fit(data, epochs=3, batch_size=32, verbose=0).history["loss"]
        print(json.dumps(losses))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600, env=ENV)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for name, losses in json.loads(proc.stdout.strip().splitlines()[-1]).items():
        assert np.all(np.isfinite(losses)) and losses[-1] < losses[0], (name, losses)
