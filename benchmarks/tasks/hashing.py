"""hashing: semantic hashing against LSH, PCA-sign and ITQ (precision at 100, mAP, query time)."""

import time

import numpy as np

from ..registry import Task, goal


def _imports():
    """Keras, aelib and the shared helpers, imported when the task runs (the CLI and the goals need none)."""
    global keras, layers, aelib, LEARNING_RATE, SHAPE, compile_fit, predict
    import keras
    from keras import layers

    import aelib

    from ..common import LEARNING_RATE, SHAPE, compile_fit, predict


HASH_BITS = (16, 32, 64)
HASH_NOISE = 4.0  # std of the noise on the code logits (notebook 09)
HASH_K = 100


def itq_rotation(v, iters=50, seed=0):
    """Iterative quantisation (Gong and Lazebnik 2011): the orthogonal ``R`` that minimises the
    quantisation loss ``||B - V R||_F^2`` of zero-mean (PCA) codes ``V``, with ``B = sign(V R)``.
    Alternate: fix ``R``, set ``B``; fix ``B``, solve the orthogonal Procrustes problem by the SVD
    ``B^T V = S Omega W^T``, ``R = W S^T``. Starts from a random rotation."""
    rng = np.random.default_rng(seed)
    r = np.linalg.qr(rng.standard_normal((v.shape[1], v.shape[1])))[0]
    for _ in range(iters):
        b = np.where(v @ r >= 0, 1.0, -1.0)
        s, _, wt = np.linalg.svd(b.T @ v)
        r = wt.T @ s.T
    return r


def semantic_hashing_autoencoder(bits, seed):
    """Semantic hashing (Salakhutdinov and Hinton 2009) as notebook 09 builds it: aelib's dense
    encoder gives code logits, training adds N(0, HASH_NOISE^2) noise to them before a sigmoid, so
    the code learns to saturate; the bits are the noise-free logits' signs. Returns (model, encoder)."""
    encoder = aelib.dense_encoder(SHAPE, bits, hidden_units=(256,), name="encoder")
    decoder = aelib.dense_decoder(bits, SHAPE, hidden_units=(256,), name="decoder")
    inputs = keras.Input(SHAPE)
    logits = encoder(inputs)
    noisy = aelib.layers.Corruption("gaussian", HASH_NOISE, clip=False, seed=seed, name="code_noise")(logits)
    code = layers.Activation("sigmoid", name="code_sigmoid")(noisy)
    return keras.Model(inputs, decoder(code), name="semantic_hashing"), encoder


def hashing(ctx):
    """Database = the training split, queries = test images; relevant = same class. Every code is
    cut at zero: the signs of centred projections (LSH), of the PCA components (PCA-sign), of the
    ITQ-rotated components, and of the semantic-hashing AE's code logits."""
    from sklearn.decomposition import PCA

    from aelib.metrics import hamming_distances, hamming_map, pack_bits, precision_at_k

    flat = aelib.flatten
    x_db, y_db = flat(ctx.x_train), ctx.y_train
    nq = min(ctx.size["hash_queries"], ctx.n_test)
    x_q, y_q = ctx.x_test[:nq], ctx.y_test[:nq]
    mean = x_db.mean(axis=0)
    t = time.time()
    pca = PCA(max(HASH_BITS), random_state=ctx.seed).fit(x_db)
    pca_s = time.time() - t
    epochs = ctx.size["hash_epochs"]
    for bits in HASH_BITS:
        hashers = {}  # name -> (encode(images) -> 0/1 bits, fit seconds, note)
        projection = np.random.default_rng(ctx.seed).normal(size=(x_db.shape[1], bits)).astype(np.float32)
        hashers["random-projection LSH"] = (
            lambda x, p=projection: ((flat(x) - mean) @ p > 0).astype(np.uint8),
            0.0,
            "signs of Gaussian random projections of the centred pixels (Charikar 2002); no training",
        )

        def components(x, b=bits):
            return (flat(x) - pca.mean_) @ pca.components_[:b].T

        hashers["PCA-sign"] = (
            lambda x: (components(x) > 0).astype(np.uint8),
            pca_s,
            f"signs of the top {bits} principal components (PCA fit on the training split)",
        )
        t = time.time()
        rot = itq_rotation(components(ctx.x_train), seed=ctx.seed)
        hashers["ITQ"] = (
            lambda x, r=rot: (components(x) @ r > 0).astype(np.uint8),
            pca_s + time.time() - t,
            "PCA, then the ITQ rotation (Gong and Lazebnik 2011; 50 iterations, NumPy), signs",
        )
        t = time.time()
        aelib.set_seed(ctx.seed)
        model, encoder = semantic_hashing_autoencoder(bits, ctx.seed)
        print(f"  training semantic-hashing AE, {bits} bits ({epochs} epochs)", flush=True)
        compile_fit(model, ctx.x_train, ctx.x_train, ctx.x_val, ctx.x_val, epochs)
        hashers["aelib semantic hashing"] = (
            lambda x, e=encoder: (predict(e, x) > 0).astype(np.uint8),
            time.time() - t,
            f"aelib dense encoder (256) -> {bits} logits, N(0, {HASH_NOISE:g}^2) noise on them in training, sigmoid, "
            f"dense decoder (256); MSE, {epochs} epochs, Adam {LEARNING_RATE} cosine, early stopping on validation; "
            "bits = signs of the noise-free logits; one seed",
        )
        for name, (encode, fit_s, note) in hashers.items():
            db_bits = encode(ctx.x_train)
            t = time.time()
            q_bits = encode(x_q)
            d = hamming_distances(pack_bits(q_bits), pack_bits(db_bits))
            np.argpartition(d, HASH_K - 1, axis=1)[:, :HASH_K]
            query_s = time.time() - t
            t = time.time()
            p100 = precision_at_k(q_bits, y_q, db_bits, y_db, k=HASH_K, metric="hamming")
            mean_ap = hamming_map(q_bits, y_q, db_bits, y_db)
            score_s = time.time() - t
            common = f"{note}; {nq} test queries against the {len(db_bits)} training images"
            yield ctx.row(
                "hashing",
                name,
                f"precision_at_{HASH_K}_{bits}",
                p100,
                fit_s + score_s,
                f"{common}; fraction of the {HASH_K} Hamming-nearest that share the query's class (ties at the "
                f"{HASH_K}th distance broken arbitrarily)",
            )
            yield ctx.row(
                "hashing",
                name,
                f"map_{bits}",
                mean_ap,
                0.0,
                f"{common}; tie-aware mean average precision of the Hamming ranking (aelib.metrics.hamming_map)",
            )
            yield ctx.row(
                "hashing",
                name,
                f"query_ms_per_1000_{bits}",
                1000 * query_s * 1000 / nq,
                query_s,
                f"{common}; milliseconds per 1,000 queries: encode the queries, Hamming distances to the whole "
                f"database (aelib.metrics.hamming_distances, packed bytes), top-{HASH_K} selection",
            )


def goals(v, rows, mode):
    ae_p, itq_p = v("hashing", "aelib semantic hashing", "precision_at_100_32"), v("hashing", "ITQ", "precision_at_100_32")
    return [
        goal(
            "hashing: aelib's 32-bit codes >= ITQ's precision at 100",
            None if ae_p is None or itq_p is None else ae_p - itq_p,
            0.0,
            True,
            "value = aelib P@100 - ITQ P@100 at 32 bits",
            "more epochs for the semantic-hashing AE, or its noise level chosen on validation",
        )
    ]


def headline(v):
    return (
        "precision at 100, 16 / 32 / 64 bits",
        "; ".join(
            f"{m} " + " / ".join(v("hashing", m, f"precision_at_100_{b}") for b in (16, 32, 64))
            for m in ("random-projection LSH", "PCA-sign", "ITQ")
        ),
        "aelib " + " / ".join(v("hashing", "aelib semantic hashing", f"precision_at_100_{b}") for b in (16, 32, 64)),
    )


def run(ctx):
    _imports()
    return hashing(ctx)


TASK = Task(
    "hashing",
    "aelib semantic hashing vs random-projection LSH, PCA-sign and ITQ at 16, 32,\n"
    "64 bits (precision at 100, tie-aware mAP, query ms per 1,000 queries)",
    run,
    goals,
    headline,
)
