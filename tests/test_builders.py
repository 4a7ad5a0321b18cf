"""One battery for every builder, driven by a table of cases: shapes, ``.encoder``/``.decoder``, the loss going
down on real Fashion-MNIST, safe-mode save/load (in this process and a fresh one), argument errors, and Keras'
conventions (``fit(x)`` reconstructs ``x``; a built-in loss refuses ``loss=``, ``metrics=`` and ``y``; summary totals).
Family-specific checks live in ``test_<family>.py``; copying each family file alone is tested in ``test_copies.py``.
Runs on the Keras backend of the process (``KERAS_BACKEND``); see conftest.py."""

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field

import keras
import numpy as np
import pytest

import aelib


def first_code(model, codes, rng):
    return codes[0]  # a VAE's encoder gives [mean, log_var, z]


def tokens_and_mask(model, codes, rng):
    n = len(codes)  # the masked AE's decoder reads one token per patch and the mask (1 = hidden)
    return [rng.random((n, model.n_patches, LATENT)).astype("float32"), np.ones((n, model.n_patches), "float32")]


@dataclass(frozen=True)
class Case:
    """A builder with its options, the input shapes it must take, and what its parts take and give."""

    family: str  # the module in aelib/builders/
    builder: str
    kwargs: dict = field(default_factory=dict)
    shapes: tuple = ((28, 28, 1),)
    latent: int = 4
    labels: bool = False  # model and parts take [data, labels] (the conditional VAE)
    sequences: bool = False  # (timesteps, features): Fashion-MNIST images read as 28 rows of 28 pixels
    code_shape: object = None  # shape -> the encoder's output shape(s) for 3 examples; None: (3, latent)
    to_decoder: object = None  # (model, codes, rng) -> what the decoder takes; None: the codes

    def build(self, shape=None):
        return getattr(aelib, self.builder)(shape or self.shapes[0], self.latent, **self.kwargs)

    def inputs(self, x, y):
        return [x, y] if self.labels else x


LATENT = 4
VAE_CODES = lambda shape: [(3, LATENT)] * 3  # noqa: E731
CASES = {
    "dense": Case("dense", "dense_autoencoder", {"hidden_units": (32,)}, ((28, 28, 1), (20,), (8, 8, 1), (6, 5, 3))),
    "dense_deep_regularised": Case(
        "dense", "dense_autoencoder", {"hidden_units": (64, 32), "dropout": 0.1, "l2": 1e-5}, ((28, 28, 1), (20,))
    ),
    "dense_tied": Case("dense", "dense_autoencoder", {"hidden_units": (32,), "tie_weights": True}, ((28, 28, 1), (20,))),
    "conv": Case("conv", "conv_autoencoder", {"filters": (8, 16)}, ((28, 28, 1), (8, 8, 1), (32, 32, 3), (30, 17, 2))),
    "conv_upsampling": Case("conv", "conv_autoencoder", {"filters": (8, 16), "upsampling": "nearest"}, ((28, 28, 1), (9, 13, 1))),
    "denoising_conv": Case("denoising", "denoising_autoencoder", {"filters": (8, 16)}, ((28, 28, 1), (32, 32, 3), (15, 15, 1))),
    "denoising_dense": Case(
        "denoising", "denoising_autoencoder", {"architecture": "dense", "noise": "masking", "amount": 0.2}, ((28, 28, 1), (20,))
    ),
    "sparse_kl": Case("sparse", "sparse_autoencoder", {}, ((28, 28, 1), (20,)), latent=32),  # sparse codes are wide by design
    "sparse_l1": Case("sparse", "sparse_autoencoder", {"sparsity": "l1"}, ((28, 28, 1), (20,)), latent=32),
    "contractive": Case("contractive", "contractive_autoencoder", {"hidden_units": (32,)}, ((28, 28, 1), (20,))),
    "recurrent_lstm": Case("recurrent", "recurrent_autoencoder", {"hidden_units": (16,)}, ((28, 28), (10, 3)), sequences=True),
    "recurrent_gru": Case(
        "recurrent", "recurrent_autoencoder", {"hidden_units": (16, 8), "cell": "gru"}, ((28, 28), (10, 3)), sequences=True
    ),
    "vae_conv": Case(
        "variational",
        "variational_autoencoder",
        {"filters": (8, 16)},
        ((28, 28, 1), (32, 32, 3), (15, 15, 1)),
        code_shape=VAE_CODES,
        to_decoder=first_code,
    ),  # fmt: skip
    "vae_dense": Case(
        "variational",
        "variational_autoencoder",
        {"architecture": "dense", "hidden_units": (32,)},
        ((28, 28, 1), (20,)),
        code_shape=VAE_CODES,
        to_decoder=first_code,
    ),  # fmt: skip
    "cvae_conv": Case(
        "conditional",
        "conditional_variational_autoencoder",
        {"num_classes": 10, "filters": (8, 16)},
        ((28, 28, 1), (15, 15, 1)),
        labels=True,
        code_shape=VAE_CODES,
        to_decoder=first_code,
    ),  # fmt: skip
    "cvae_dense": Case(
        "conditional",
        "conditional_variational_autoencoder",
        {"num_classes": 10, "architecture": "dense", "hidden_units": (32,)},
        ((28, 28, 1), (20,)),
        labels=True,
        code_shape=VAE_CODES,
        to_decoder=first_code,
    ),  # fmt: skip
    "vq": Case(
        "vq",
        "vq_autoencoder",
        {"num_embeddings": 16, "filters": (8, 16)},
        ((28, 28, 1), (32, 32, 3), (15, 15, 1)),
        code_shape=lambda s: (3, -(-s[0] // 4), -(-s[1] // 4), LATENT),
    ),  # fmt: skip  # a grid, one vector per 4x4 block
    "masked": Case(
        "masked",
        "masked_autoencoder",
        {"depth": 1, "num_heads": 2, "decoder_dim": 16, "decoder_heads": 2},
        ((8, 12, 2),),
        to_decoder=tokens_and_mask,
    ),  # fmt: skip
}


def builtin_loss(model):
    """The loss is built in (VAE, CVAE, VQ-VAE, MAE): compile with an optimizer alone, fit without targets."""
    return hasattr(model, "loss_terms")


def compile_model(model, lr=1e-3):
    model.compile(optimizer=keras.optimizers.Adam(lr), **({} if builtin_loss(model) else {"loss": "mse"}))
    return model


def real_data(case, fashion, n=512):
    """n real Fashion-MNIST images, as the model takes them (with their labels for a CVAE)."""
    (x, y), _ = fashion
    return case.inputs(x[:n, ..., 0] if case.sequences else x[:n], y[:n])


def head(data, n):
    return [a[:n] for a in data] if isinstance(data, list) else data[:n]


def shape_of(data):
    return (data[0] if isinstance(data, list) else data).shape[1:]


def fit(model, data, **kwargs):  # fit(x): an autoencoder's target is its input
    return model.fit(data, batch_size=64, verbose=0, shuffle=False, **kwargs)


# ---- the battery -------------------------------------------------------------------------------
@pytest.mark.parametrize("name,shape", [(n, s) for n, case in CASES.items() for s in case.shapes])
def test_shapes_and_the_encoder_and_decoder(name, shape):
    case, rng = CASES[name], np.random.default_rng(0)
    model = case.build(shape)
    x, y = rng.random((3,) + shape).astype("float32"), rng.integers(0, 10, size=3)
    assert model.predict(case.inputs(x, y), verbose=0).shape == (3,) + shape
    assert model.encoder is model.get_layer("encoder") and model.decoder is model.get_layer("decoder")
    codes = model.encoder.predict(case.inputs(x, y), verbose=0)
    want = case.code_shape(shape) if case.code_shape else (3, case.latent)
    assert [c.shape for c in codes] == want if isinstance(want, list) else codes.shape == want
    codes = case.to_decoder(model, codes, rng) if case.to_decoder else codes
    assert model.decoder.predict(case.inputs(codes, y), verbose=0).shape == (3,) + shape


@pytest.mark.parametrize("name", list(CASES))
def test_loss_goes_down_on_real_fashion_mnist(name, fashion):
    case = CASES[name]
    aelib.set_seed(0)
    data = real_data(case, fashion)
    model = compile_model(case.build(shape_of(data)), lr=3e-3)
    before = model.evaluate(data, verbose=0, return_dict=True)["loss"]
    fit(model, data, epochs=3)
    after = model.evaluate(data, verbose=0, return_dict=True)["loss"]
    assert np.isfinite(after) and after < 0.95 * before, (before, after)


@pytest.mark.parametrize("name", list(CASES))
def test_keras_conventions(name, fashion):
    """compile and fit say what they would ignore; summary rows add up to the total; docstrings are complete."""
    case = CASES[name]
    data = real_data(case, fashion, n=64)
    model = case.build(shape_of(data))
    if builtin_loss(model):
        for wrong in ({"loss": "mse"}, {"metrics": ["mae"]}):
            with pytest.raises(ValueError, match="computes its loss"):
                model.compile(optimizer="adam", **wrong)
        model.compile(optimizer="adam")
        with pytest.raises(ValueError, match="no target y"):
            model.fit(data, head(data, 64), epochs=1, verbose=0)
    else:
        with pytest.raises(ValueError, match="needs a reconstruction loss"):
            model.compile(optimizer="adam")
        compile_model(model)
        history = model.fit(data, epochs=1, batch_size=32, verbose=0, validation_data=data)  # targets = inputs
        assert np.isfinite(history.history["val_loss"][0])
    # every weight counted once: the sub-models' rows add up to the total (a VAE's own beta variable aside)
    own = sum(int(np.prod(v.shape)) for v in model.weights) - sum(
        int(np.prod(v.shape)) for layer in model.layers for v in layer.weights
    )
    assert sum(layer.count_params() for layer in model.layers) + own == model.count_params() and own <= 1
    for obj in (getattr(aelib, case.builder), type(model)):
        doc = obj.__doc__ or ""
        assert all(word in doc for word in ("Args", "Returns", "Raises", "Example")), obj


@pytest.fixture(scope="module")
def saved_models(tmp_path_factory, fashion):
    """Every case trained one epoch and saved, with its predictions on a fixed batch (inputs in an .npz)."""
    folder = tmp_path_factory.mktemp("saved")
    for name, case in CASES.items():
        aelib.set_seed(0)
        data = real_data(case, fashion, n=128)
        model = compile_model(case.build(shape_of(data)))
        fit(model, data, epochs=1)
        model.save(folder / f"{name}.keras")
        np.savez(folder / f"{name}_x.npz", *keras.tree.flatten(head(data, 16)))
        np.save(folder / f"{name}_pred.npy", model.predict(head(data, 16), verbose=0))
    return folder


def load_inputs(path):
    with np.load(path) as arrays:
        parts = [arrays[key] for key in arrays.files]
    return parts if len(parts) > 1 else parts[0]


@pytest.mark.parametrize("name", list(CASES))
def test_save_load_safe_mode_identical_predictions(name, saved_models):
    loaded = keras.saving.load_model(saved_models / f"{name}.keras", safe_mode=True)
    x = load_inputs(saved_models / f"{name}_x.npz")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), np.load(saved_models / f"{name}_pred.npy"))


def test_save_load_in_a_fresh_process(saved_models):
    """A new interpreter that imports aelib (to register its classes) and nothing of this run."""
    script = textwrap.dedent(f"""
        import json, numpy as np, keras, aelib
        folder, result = {str(saved_models)!r}, {{}}
        for name in {list(CASES)!r}:
            model = keras.saving.load_model(f"{{folder}}/{{name}}.keras", safe_mode=True)
            with np.load(f"{{folder}}/{{name}}_x.npz") as arrays:
                x = [arrays[key] for key in arrays.files]
            pred = model.predict(x if len(x) > 1 else x[0], verbose=0)
            result[name] = bool(np.array_equal(pred, np.load(f"{{folder}}/{{name}}_pred.npy")))
        print(json.dumps(result))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {name: True for name in CASES}


def test_a_loaded_model_continues_training(saved_models, fashion):
    vae = keras.saving.load_model(saved_models / "vae_conv.keras", safe_mode=True)
    steps = int(keras.ops.convert_to_numpy(vae.optimizer.iterations))
    assert steps > 0  # the optimizer state came back with the weights
    history = vae.fit(real_data(CASES["vae_conv"], fashion, n=128), epochs=1, batch_size=64, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert int(keras.ops.convert_to_numpy(vae.optimizer.iterations)) == steps + 2


BAD_ARGUMENTS = [
    # (builder, args, kwargs, text the message must contain)
    (aelib.dense_autoencoder, ((28, 28, 1), 0), {}, "latent_dim"),
    (aelib.dense_autoencoder, ((28, 28, 1), -3), {}, "latent_dim"),
    (aelib.dense_autoencoder, ((28, 28, 1), 2.5), {}, "latent_dim"),
    (aelib.dense_autoencoder, ((0, 28), 8), {}, "input_shape"),
    (aelib.dense_autoencoder, ("28x28", 8), {}, "input_shape"),
    (aelib.dense_autoencoder, ((28, 28, 1), 8), {"hiden_units": (3,)}, "did you mean 'hidden_units'"),
    (aelib.dense_autoencoder, ((28, 28, 1), 8), {"activation": "swishy"}, "activation"),
    (aelib.dense_autoencoder, ((28, 28, 1), 8), {"dropout": 1.5}, "dropout"),
    (aelib.dense_autoencoder, ((28, 28, 1), 8), {"dropout": 0.2, "hidden_units": ()}, "needs a hidden layer"),
    (aelib.dense_autoencoder, ((28, 28, 1), 8), {"hidden_units": "big"}, "hidden_units"),
    (aelib.conv_autoencoder, ((28, 28), 8), {}, "input_shape"),
    (aelib.conv_autoencoder, ((28, 28, 1), 8), {"upsampling": "cubic"}, "upsampling"),
    (aelib.conv_autoencoder, ((28, 28, 1), 8), {"filters": ()}, "filters"),
    (aelib.denoising_autoencoder, ((28, 28, 1), 8), {"noise": "speckle"}, "noise"),
    (aelib.denoising_autoencoder, ((28, 28, 1), 8), {"amount": -0.1}, "amount"),
    (aelib.denoising_autoencoder, ((28, 28, 1), 8), {"hidden_units": (3,)}, "hidden_units"),
    (aelib.denoising_autoencoder, ((28, 28, 1), 8), {"architecture": "dense", "filters": (8,)}, "unknown argument 'filters'"),
    (aelib.sparse_autoencoder, ((28, 28, 1), 8), {"sparsity": "l0"}, "sparsity"),
    (aelib.sparse_autoencoder, ((28, 28, 1), 8), {"target": 1.5}, "target"),
    (aelib.contractive_autoencoder, ((28, 28, 1), 8), {"activation": "gelu"}, "activation"),
    (aelib.contractive_autoencoder, ((28, 28, 1), 8), {"penalty_weight": -1.0}, "penalty_weight"),
    (aelib.variational_autoencoder, ((28, 28, 1), 0), {}, "latent_dim"),
    (aelib.variational_autoencoder, ((28, 28, 1), 8), {"reconstruction": "poisson"}, "reconstruction"),
    (aelib.variational_autoencoder, ((784,), 8), {}, "input_shape"),
    (aelib.variational_autoencoder, ((28, 28, 1), 8), {"beta": -1}, "beta"),
    (aelib.recurrent_autoencoder, ((28, 28, 1), 8), {}, "input_shape"),
    (aelib.recurrent_autoencoder, ((28, 28), 8), {"cell": "rnn"}, "cell"),
    (aelib.recurrent_encoder, ((28, 28), 8), {"hidden_units": ()}, "hidden_units"),
    (aelib.recurrent_decoder, (8, (28,)), {}, "input_shape"),
    (aelib.dense_decoder, (8, (28, 28)), {"output_activation": "sigmoidal"}, "output_activation"),
    (aelib.conditional_variational_autoencoder, ((28, 28, 1), 8, 1), {}, "num_classes=1 must be an integer >= 2"),
    (aelib.conditional_variational_autoencoder, ((28, 28, 1), 8, 2.5), {}, "num_classes"),
    (aelib.conditional_variational_autoencoder, ((28, 28, 1), 0, 10), {}, "latent_dim"),
    (aelib.conditional_variational_autoencoder, ((784,), 8, 10), {}, "input_shape"),
    (aelib.conditional_variational_autoencoder, ((28, 28, 1), 8, 10), {"architecture": "rnn"}, "architecture"),
    (aelib.conditional_variational_autoencoder, ((28, 28, 1), 8, 10), {"beta": -1}, "beta"),
    (aelib.conditional_variational_autoencoder, ((28, 28, 1), 8, 10), {"num_class": 10}, "did you mean 'num_classes'"),
    (aelib.vq_autoencoder, ((28, 28, 1), 8), {"num_embeddings": 0}, "num_embeddings"),
    (aelib.vq_autoencoder, ((28, 28, 1), 8), {"decay": 1.0}, "decay"),
    (aelib.vq_autoencoder, ((28, 28, 1), 8), {"commitment_cost": -0.1}, "commitment_cost"),
    (aelib.vq_autoencoder, ((28, 28, 1), 8), {"ema": "yes"}, "ema"),
    (aelib.vq_autoencoder, ((784,), 8), {}, "input_shape"),
    (aelib.vq_autoencoder, ((28, 28, 1), 8), {"filters": ()}, "filters"),
    (aelib.masked_autoencoder, ((28, 28, 1), 64), {"patch_size": 5}, r"patch_size=5 does not divide .* \[1, 2, 4, 7, 14, 28\]"),
    (aelib.masked_autoencoder, ((28, 28, 1), 64), {"mask_ratio": 1.0}, "mask_ratio"),
    (aelib.masked_autoencoder, ((28, 28, 1), 64), {"mask_ratio": 0.0}, "mask_ratio"),
    (aelib.masked_autoencoder, ((28, 28, 1), 64), {"mask_ratio": 0.005}, "hides 0 of 49 patches"),
    (aelib.masked_autoencoder, ((28, 28, 1), 30), {"num_heads": 4}, "num_heads=4 must divide latent_dim=30"),
    (aelib.masked_autoencoder, ((28, 28, 1), 64), {"decoder_dim": 30}, "decoder_heads=4 must divide decoder_dim=30"),
    (aelib.masked_autoencoder, ((28, 28), 64), {}, "input_shape"),
    (aelib.masked_autoencoder, ((28, 28, 1), 64), {"depth": 0}, "depth"),
]


@pytest.mark.parametrize("builder,args,kwargs,text", BAD_ARGUMENTS)
def test_bad_arguments_raise_a_clear_value_error(builder, args, kwargs, text):
    with pytest.raises(ValueError, match=text):
        builder(*args, **kwargs)


@pytest.mark.parametrize("name", ["conv", "vae_dense"])
def test_seeded_runs_are_reproducible(name, fashion):
    case = CASES[name]
    x = real_data(case, fashion, n=128)
    losses = []
    for _ in range(2):
        aelib.set_seed(42)
        losses.append(fit(compile_model(case.build(x.shape[1:])), x, epochs=1).history["loss"][0])
    assert losses[0] == losses[1]


@pytest.mark.once
def test_a_backend_keras_cannot_train_on_says_so():
    """On Keras' NumPy backend (inference only) a model predicts, and fit raises Keras' own clear error."""
    script = textwrap.dedent("""
        import numpy as np, aelib
        vae = aelib.variational_autoencoder((8, 8, 1), 2, filters=(4,))
        vae.compile(optimizer="adam")
        print(vae.predict(np.zeros((2, 8, 8, 1), "float32"), verbose=0).shape)
        try:
            vae.fit(np.zeros((8, 8, 8, 1), "float32"), epochs=1, verbose=0)
        except NotImplementedError as e:
            print("refused:", e)
    """)
    env = {**os.environ, "KERAS_BACKEND": "numpy"}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env)
    if proc.returncode and "No module named 'jax'" in proc.stderr:  # Keras 3.10's NumPy backend imports JAX's fft
        pytest.skip("this Keras' NumPy backend needs JAX, which is not installed")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "(2, 8, 8, 1)" in proc.stdout and "refused: fit not implemented for NumPy backend" in proc.stdout
