"""generation: aelib's VAE against the keras-io and TensorFlow tutorial layouts (-ELBO, IWAE, time)."""

import time

import numpy as np

from ..registry import Task, goal


def _imports():
    """Keras, aelib and the shared helpers, imported when the task runs (the CLI and the goals need none)."""
    global keras, layers, aelib, BATCH, JIT, SHAPE, ElboClock, trained_vae
    import keras
    from keras import layers

    import aelib

    from ..common import BATCH, JIT, SHAPE, ElboClock, trained_vae


def keras_io_vae(code, seed):
    """The keras-io ``vae.py`` example's layout (fchollet): Conv 32 s2, Conv 64 s2, Dense 16,
    Dense mean and log-variance; Dense 7x7x64, ConvT 64 s2, ConvT 32 s2, ConvT 1 (sigmoid), all
    ReLU and "same" padding. The final sigmoid is split off as its own layer so that aelib.VAE
    reads the logits (the same function)."""
    inputs = keras.Input(SHAPE)
    x = layers.Conv2D(32, 3, activation="relu", strides=2, padding="same")(inputs)
    x = layers.Conv2D(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Dense(16, activation="relu")(layers.Flatten()(x))
    mean, log_var = layers.Dense(code, name="z_mean")(x), layers.Dense(code, name="z_log_var")(x)
    encoder = keras.Model(inputs, [mean, log_var, aelib.layers.Sampling(seed=seed)([mean, log_var])], name="encoder")
    z = keras.Input((code,))
    x = layers.Reshape((7, 7, 64))(layers.Dense(7 * 7 * 64, activation="relu")(z))
    x = layers.Conv2DTranspose(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Activation("sigmoid")(layers.Conv2DTranspose(1, 3, padding="same")(x))
    return aelib.VAE(encoder, keras.Model(z, x, name="decoder"), name="keras_io_vae")


def tf_cvae(code, seed):
    """The TensorFlow ``cvae`` tutorial's layout: Conv 32 s2, Conv 64 s2 ("valid" padding), Dense
    to 2 x latent (mean, log-variance); Dense 7x7x32, ConvT 64 s2, ConvT 32 s2, ConvT 1 (logits;
    here followed by a sigmoid layer that aelib.VAE strips to read them)."""
    inputs = keras.Input(SHAPE)
    x = layers.Conv2D(32, 3, strides=2, activation="relu")(inputs)
    x = layers.Conv2D(64, 3, strides=2, activation="relu")(x)
    both = layers.Dense(2 * code)(layers.Flatten()(x))
    mean, log_var = keras.ops.split(both, 2, axis=-1)  # Keras records the op in the functional graph: no Lambda
    encoder = keras.Model(inputs, [mean, log_var, aelib.layers.Sampling(seed=seed)([mean, log_var])], name="encoder")
    z = keras.Input((code,))
    x = layers.Reshape((7, 7, 32))(layers.Dense(7 * 7 * 32, activation="relu")(z))
    x = layers.Conv2DTranspose(64, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Activation("sigmoid")(layers.Conv2DTranspose(1, 3, strides=1, padding="same")(x))
    return aelib.VAE(encoder, keras.Model(z, x, name="decoder"), name="tf_cvae")


PEERS = {  # name: (builder, learning rate, batch size, description)
    "keras-io vae.py": (keras_io_vae, 1e-3, 128, "keras-io vae.py layout, Adam 1e-3, batch 128"),
    "TF cvae tutorial": (tf_cvae, 1e-4, 32, "TensorFlow cvae tutorial layout, Adam 1e-4, batch 32"),
}


def trained_peer(ctx, name, code, seed, n=None):
    build, lr, batch, _ = PEERS[name]
    aelib.set_seed(seed)
    vae = build(code, seed)
    vae.compile(optimizer=keras.optimizers.Adam(lr), jit_compile=JIT)
    epochs = ctx.size["vae_epochs"]
    print(f"  training {name} peer, code {code}, seed {seed} ({epochs} epochs)", flush=True)
    clock = ElboClock(f"{name}-{code}", ctx.x_test[: ctx.size["clock_images"]])
    vae.fit(ctx.x_train[:n], batch_size=batch, epochs=epochs, callbacks=[clock], verbose=0)
    return vae, clock


def generation(ctx):
    n_iwae = min(ctx.size["iwae_images"], ctx.n_test)
    for code in (2, 32):
        vae, train_s = trained_vae(ctx, code, ctx.seed)
        t = time.time()
        res = vae.evaluate(ctx.x_test, batch_size=512, verbose=0, return_dict=True)
        active = vae.active_units(ctx.x_test)
        seconds = train_s + time.time() - t
        base = (
            f"dense VAE (512, 256), Bernoulli decoder, code {code}, Adam 1e-3, {ctx.size['vae_epochs']} epochs, "
            "KL warm-up over the first third; one seed (budget)"
        )
        yield ctx.row(
            "generation",
            f"VAE-{code}",
            "neg_elbo_nats",
            res["loss"],
            seconds,
            base + "; test negative ELBO per image, one posterior sample, beta=1",
        )
        yield ctx.row(
            "generation", f"VAE-{code}", "kl_nats", res["kl_loss"], 0.0, base + "; test KL(q(z|x) || N(0, I)) per image"
        )
        yield ctx.row(
            "generation",
            f"VAE-{code}",
            "active_units",
            active,
            0.0,
            base + f"; code dims whose posterior mean has variance > 0.01 over the test set (of {code})",
        )
        if code not in ctx.size["peer_codes"]:
            continue
        # against the peers' own layouts: same training images, epochs and seed, no warm-up or early stopping
        n = ctx.size["peer_train"]  # None: the whole training split, and the VAE of the rows above
        sub = "" if n is None else f"; retrained on the first {n} training images for the peer comparison"
        mine, _ = trained_vae(ctx, code, ctx.seed, n)
        models = {f"VAE-{code}": (mine, ctx.cache[("vae clock", code, ctx.seed, n)], base + sub)}
        for name, (*_, desc) in PEERS.items():
            peer, clock = trained_peer(ctx, name, code, ctx.seed, n)
            models[f"{name}-{code}"] = (
                peer,
                clock,
                f"{desc}, code {code}, {ctx.size['vae_epochs']} epochs on {len(ctx.x_train[:n])} training images, "
                "wrapped in aelib.VAE",
            )
        finals = {}
        for method, (model, clock, desc) in models.items():
            t = time.time()
            final = model.evaluate(ctx.x_test, batch_size=512, verbose=0, return_dict=True)["loss"]
            iwae = float(np.mean(model.importance_weighted_nll(ctx.x_test[:n_iwae], k=50, seed=ctx.seed)))
            eval_s = time.time() - t
            finals[method] = final
            if method.startswith("VAE-") and n is not None:  # the goal compares this one: same images as the peers
                yield ctx.row(
                    "generation",
                    method,
                    "neg_elbo_nats_peer_images",
                    final,
                    sum(clock.seconds) + eval_s,
                    desc
                    + "; test negative ELBO per image, on the peers' training images (aelib's recipe: KL warm-up, early stopping)",
                )
            if not method.startswith("VAE-"):
                yield ctx.row(
                    "generation",
                    method,
                    "neg_elbo_nats",
                    final,
                    sum(clock.seconds) + eval_s,
                    desc + "; test negative ELBO per image (analytic KL, one posterior sample), Bernoulli likelihood",
                )
            yield ctx.row(
                "generation",
                method,
                "iwae_50_nats",
                iwae,
                eval_s,
                desc + f"; importance-weighted bound on -log p(x), k = 50 (VAE.importance_weighted_nll), first {n_iwae} "
                "test images",
            )
            yield ctx.row(
                "generation",
                method,
                "train_seconds",
                sum(clock.seconds),
                sum(clock.seconds),
                desc + f"; wall seconds of its {len(clock.seconds)} training epochs (the per-epoch test evaluation excluded)",
            )
        peers = [m for m in models if not m.startswith("VAE-")]
        best_peer = min(peers, key=finals.get)
        faster = min(peers, key=lambda m: sum(models[m][1].seconds))
        target = models[best_peer][1].scores[-1]  # on the clock's test images, like the per-epoch checks
        reached = models[f"VAE-{code}"][1].seconds_to(target)
        yield ctx.row(
            "generation",
            f"VAE-{code}",
            "seconds_to_best_peer_elbo",
            float("nan") if reached is None else reached,
            0.0,
            f"aelib VAE-{code} training seconds until its -ELBO on the first {ctx.size['clock_images']} test images "
            f"(checked after each epoch) first fell to the best peer's final one there, {target:.2f} ({best_peer}); "
            "None/null = not within its epochs",
        )
        yield ctx.row(
            "generation",
            f"VAE-{code}",
            "time_ratio_to_faster_peer",
            float("nan") if reached is None else reached / sum(models[faster][1].seconds),
            0.0,
            f"seconds_to_best_peer_elbo / the faster peer's ({faster}) training seconds to its final ELBO (lower is better)",
        )


def goals(v, rows, mode):
    peers = ("keras-io vae.py", "TF cvae tutorial")
    ratios, worse = {}, []
    for code in (2, 32):
        # the VAE retrained on the peers' images when they train on a subset (full mode), else the one above
        ours = v("generation", f"VAE-{code}", "neg_elbo_nats_peer_images") or v("generation", f"VAE-{code}", "neg_elbo_nats")
        theirs = [e for e in (v("generation", f"{p}-{code}", "neg_elbo_nats") for p in peers) if e is not None]
        ratio = v("generation", f"VAE-{code}", "time_ratio_to_faster_peer")
        if ours is None or not theirs:
            continue
        if ours >= min(theirs):
            worse.append(f"code {code}: -ELBO {ours:.2f} vs best peer {min(theirs):.2f}")
        ratios[code] = float("inf") if ratio is None else ratio  # None: never reached the best peer's ELBO
    worst = max(ratios, key=ratios.get) if ratios else None
    g = goal(
        "generation: lower test -ELBO than both peer layouts at codes 2 and 32, reached in <= 0.5 of the faster peer's time",
        None if worst is None else (None if ratios[worst] == float("inf") else ratios[worst]),
        0.5,
        False,
        "value = the larger over codes of (aelib seconds to the best peer's final -ELBO) / (faster peer's training seconds)",
        "a conv VAE in aelib's generation rows (today's are dense), or more epochs",
    )
    if worst is not None and ratios[worst] == float("inf"):
        g.update(detail=f"aelib's VAE-{worst} never reached the best peer's final -ELBO", value=None, margin=None)
        g["to_close"] = g["to_close"] or "a conv VAE in aelib's generation rows (today's are dense), or more epochs"
    if worse:
        g.update(met=False, detail=g["detail"] + "; not lower than the peers: " + "; ".join(worse))
        g["to_close"] = g["to_close"] or "a conv VAE in aelib's generation rows (today's are dense), or more epochs"
    return [g]


def headline(v):
    peers = ("keras-io vae.py", "TF cvae tutorial")
    return (
        "test -ELBO (nats) at code 2 / 32, every model on the same training images and epochs",
        "; ".join(f"{p} " + " / ".join(v("generation", f"{p}-{c}", "neg_elbo_nats", 4) for c in (2, 32)) for p in peers),
        "aelib VAE "
        + " / ".join(v("generation", f"VAE-{c}", "neg_elbo_nats_peer_images", 4) for c in (2, 32))
        + " (on all training images: "
        + " / ".join(v("generation", f"VAE-{c}", "neg_elbo_nats", 4) for c in (2, 32))
        + ")",
    )


def run(ctx):
    _imports()
    return generation(ctx)


TASK = Task(
    "generation",
    "VAE (Bernoulli decoder) at code sizes 2 and 32: negative ELBO, KL, active units;\n"
    "against the keras-io vae.py and TF cvae tutorial layouts (same data, epochs,\n"
    "seed): -ELBO, IWAE k=50 bound, wall seconds, seconds to the best peer's ELBO",
    run,
    goals,
    headline,
)
