"""denoising: classical filters against a denoising AE (test PSNR)."""

import time

import numpy as np

from ..registry import Task, goal


def _imports():
    """Keras, aelib and the shared helpers, imported when the task runs (the CLI and the goals need none)."""
    global aelib, psnr, NOISE_STD, SHAPE, compile_fit, predict
    import aelib
    from aelib.metrics import psnr

    from ..common import NOISE_STD, SHAPE, compile_fit, predict


def _filter_all(fn, x, param):
    return np.stack([fn(img[..., 0], param) for img in x])[..., None].astype(np.float32)


def denoising(ctx):
    from scipy import ndimage
    from skimage.restoration import denoise_tv_chambolle

    noisy_val = aelib.add_gaussian_noise(ctx.x_val, NOISE_STD, seed=ctx.seed + 1)
    noisy_test = aelib.add_gaussian_noise(ctx.x_test, NOISE_STD, seed=ctx.seed + 2)
    t = time.time()
    yield ctx.row(
        "denoising",
        "noisy input",
        "psnr_db",
        psnr(ctx.x_test, noisy_test),
        time.time() - t,
        f"PSNR of the noisy test images themselves (gaussian noise std {NOISE_STD}, clipped to [0, 1])",
    )
    classical = {
        "gaussian blur": (lambda im, s: ndimage.gaussian_filter(im, s), (0.5, 0.75, 1.0, 1.5), "sigma"),
        "median filter": (lambda im, k: ndimage.median_filter(im, size=k), (2, 3, 5), "size"),
        "TV Chambolle": (lambda im, w: denoise_tv_chambolle(im, weight=w), (0.05, 0.1, 0.15, 0.2, 0.3), "weight"),
    }
    tune = min(len(ctx.x_val), 500)
    for name, (fn, grid, pname) in classical.items():
        t = time.time()
        best = max(grid, key=lambda p: psnr(ctx.x_val[:tune], _filter_all(fn, noisy_val[:tune], p)))
        value = psnr(ctx.x_test, _filter_all(fn, noisy_test, best))
        yield ctx.row(
            "denoising",
            name,
            "psnr_db",
            value,
            time.time() - t,
            f"{pname}={best}, chosen from {grid} on {tune} validation images; test PSNR (deterministic)",
        )
    aelib.set_seed(ctx.seed)
    t = time.time()
    dae = aelib.denoising_autoencoder(SHAPE, 128, noise="gaussian", amount=NOISE_STD, filters=(32, 64), seed=ctx.seed)
    print(f"  training conv denoising AE ({ctx.size['dae_epochs']} epochs)", flush=True)
    compile_fit(dae, ctx.x_train, ctx.x_train, noisy_val, ctx.x_val, ctx.size["dae_epochs"])
    value = psnr(ctx.x_test, predict(dae, noisy_test))
    yield ctx.row(
        "denoising",
        "denoising AE",
        "psnr_db",
        value,
        time.time() - t,
        f"aelib.denoising_autoencoder conv (32, 64), code 128, fresh noise each step, {ctx.size['dae_epochs']} epochs, "
        "early stopping on noisy validation; one seed (budget); test PSNR",
    )


def goals(v, rows, mode):
    dae = v("denoising", "denoising AE", "psnr_db")
    classical = [v("denoising", m, "psnr_db") for m in ("gaussian blur", "median filter", "TV Chambolle")]
    classical = [c for c in classical if c is not None]
    return [
        goal(
            "denoising AE >= best classical denoiser + 3 dB",
            None if dae is None or not classical else dae - max(classical),
            3.0,
            True,
            "value = PSNR gain over the best classical denoiser, dB",
            "more epochs or a wider conv DAE",
        )
    ]


def headline(v):
    return (
        "test PSNR, gaussian std 0.3 (dB)",
        ", ".join(f"{m} {v('denoising', m, 'psnr_db', 4)}" for m in ("noisy input", "median filter", "TV Chambolle")),
        "denoising AE " + v("denoising", "denoising AE", "psnr_db", 4),
    )


def run(ctx):
    _imports()
    return denoising(ctx)


TASK = Task(
    "denoising",
    "gaussian noise std 0.3: noisy input, blur, median, TV Chambolle, denoising AE\n(test PSNR, dB)",
    run,
    goals,
    headline,
)
