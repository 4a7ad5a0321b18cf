"""One VAE step on one device, or on several, for tests/test_distribution.py (each run in a fresh
process: ``python tests/distributed_vae.py MODE OUT.json [worker index, ports]``).

MODE is ``single`` (one device, any backend), ``mirrored`` (TensorFlow MirroredStrategy on two
logical CPUs), ``worker`` (one of two TensorFlow MultiWorkerMirroredStrategy processes on
localhost) or ``data_parallel`` (JAX ``keras.distribution.DataParallel`` over two CPU devices).
Every mode trains the same VAE on the same 64 images, one global batch, and writes the logged
metrics and the flattened updated weights.
"""

import json
import os
import sys

mode, out = sys.argv[1], sys.argv[2]
if mode == "worker":
    index, ports = int(sys.argv[3]), sys.argv[4].split(",")
    os.environ["TF_CONFIG"] = json.dumps(
        {"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]}, "task": {"type": "worker", "index": index}}
    )
if mode == "data_parallel":
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"

import numpy as np  # noqa: E402

strategy = None
if mode == "mirrored":
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
elif mode == "worker":
    import tensorflow as tf

    strategy = tf.distribute.MultiWorkerMirroredStrategy()

import keras  # noqa: E402

import aelib  # noqa: E402

if mode == "data_parallel":
    import jax

    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=jax.devices("cpu")[:2]))


def make_vae():
    aelib.set_seed(0)
    # log_var pinned near -30 (limit raised to allow it): sampling noise ~1e-7, so the comparison
    # is deterministic while still running the sampling code path.
    model = aelib.variational_autoencoder((28, 28, 1), 4, filters=(8, 16), log_var_limit=30.0, seed=0)
    layer = model.get_layer("encoder").get_layer("z_log_var_raw")
    layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
    layer.bias.assign(np.full(4, -30.0, "float32"))
    model.compile(optimizer=keras.optimizers.SGD(0.01))  # SGD: a wrong loss scale would show
    return model


x = np.random.default_rng(0).random((64, 28, 28, 1)).astype("float32")
if strategy is not None:
    with strategy.scope():
        vae = make_vae()
else:
    vae = make_vae()
history = vae.fit(x, epochs=1, batch_size=64, shuffle=False, verbose=0).history
weights = np.concatenate([np.asarray(w).ravel() for w in vae.get_weights()]).tolist()
replicas = strategy.num_replicas_in_sync if strategy is not None else 1
if mode == "data_parallel":
    replicas = int(np.prod(list(keras.distribution.distribution().device_mesh.shape)))
with open(out, "w") as f:
    json.dump({"mode": mode, "replicas": replicas, "history": history, "weights": weights}, f)
