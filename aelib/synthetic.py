"""Generated data sets with a known ground truth.

- :func:`make_ratings`: a sparse user-item matrix of 1-5 star ratings from a low-rank model,
  for recommender autoencoders (AutoRec), in the format of
  :func:`aelib.datasets.load_movielens_100k` (split with :func:`aelib.datasets.split_ratings`);
- :func:`make_signals`: a periodic multivariate signal with labelled anomalies (spikes, level
  shifts, frequency changes), for time-series anomaly detection.

Everything is seeded: the same arguments give the same arrays on every machine.
"""

import numpy as np

from .checks import check_positive_int

__all__ = ["make_ratings", "make_signals", "ANOMALY_KINDS"]

ANOMALY_KINDS = ("spike", "level_shift", "frequency")


# --------------------------------------------------------------------------------------------
# Ratings
# --------------------------------------------------------------------------------------------
def make_ratings(n_users=600, n_items=400, rank=8, density=0.1, noise_std=0.4, seed=0):
    """A sparse matrix of 1-5 star ratings from a latent-factor model.

    The model, with ``k = rank``::

        u_i ~ N(0, I / sqrt(k))   user factors,  v_j ~ N(0, I / sqrt(k))   item factors
                                  (variance 1/sqrt(k) per entry, so u_i . v_j has variance 1)
        b_i ~ N(0, 0.5^2)         user bias,     c_j ~ N(0, 0.5^2)         item bias
        r_ij = clip(round(3.5 + b_i + c_j + u_i . v_j + e_ij), 1, 5),   e_ij ~ N(0, noise_std^2)

    Which ratings are observed: user ``i`` rates each item independently with probability
    ``p_i = min(1, density * a_i / mean(a))``, where the activity ``a_i ~ LogNormal(0, 0.5)``
    makes some users rate far more than others; every user rates at least one item. The
    overall fraction observed is about ``density`` (a little less for large densities, as
    ``p_i`` is capped at 1); ``density=1`` observes every entry.

    Returns:
        ``(ratings, mask)``: float32 ``(n_users, n_items)`` ratings, 0 where unobserved, and the
        boolean mask of observed entries.
    """
    check_positive_int("n_users", n_users)
    check_positive_int("n_items", n_items)
    check_positive_int("rank", rank)
    if not 0.0 < density <= 1.0:
        raise ValueError(f"density is the fraction of observed ratings, in (0, 1], got {density}.")
    if noise_std < 0:
        raise ValueError(f"noise_std must be >= 0, got {noise_std}.")
    rng = np.random.default_rng(seed)
    factor_std = rank**-0.25
    users = rng.normal(0.0, factor_std, size=(n_users, rank))
    items = rng.normal(0.0, factor_std, size=(n_items, rank))
    user_bias = rng.normal(0.0, 0.5, size=(n_users, 1))
    item_bias = rng.normal(0.0, 0.5, size=(1, n_items))
    noise = rng.normal(0.0, noise_std, size=(n_users, n_items))
    full = np.clip(np.round(3.5 + user_bias + item_bias + users @ items.T + noise), 1, 5)

    activity = rng.lognormal(0.0, 0.5, size=n_users)
    p = np.minimum(1.0, density * activity / activity.mean()) if density < 1 else np.ones(n_users)
    mask = rng.random((n_users, n_items)) < p[:, None]
    idle = np.flatnonzero(~mask.any(axis=1))
    mask[idle, rng.integers(0, n_items, size=len(idle))] = True
    return np.where(mask, full, 0.0).astype(np.float32), mask


# --------------------------------------------------------------------------------------------
# Signals
# --------------------------------------------------------------------------------------------
def make_signals(
    n_timesteps=5000,
    n_features=1,
    seed=0,
    anomalies=ANOMALY_KINDS,
    n_anomalies=6,
    anomaly_length=50,
    noise_seed=None,
    return_events=False,
):
    """A periodic signal with labelled anomalies, for time-series anomaly detection.

    Each feature ``f`` is ``sin(2 pi t / P1_f + phi_f) + 0.5 sin(2 pi t / P2_f + psi_f)`` plus
    N(0, 0.1^2) noise, with periods ``P1_f ~ U(40, 60)`` and ``P2_f ~ U(100, 150)`` time steps
    and random phases. The time line is cut into ``n_anomalies`` equal slots; each holds one
    anomaly of ``anomaly_length`` steps at a random place, its kind taken in turn from
    ``anomalies`` (in shuffled order), applied to every feature:

    - ``"spike"``: ``max(1, anomaly_length // 15)`` single steps in the segment get +-4 added;
      only those steps are labelled;
    - ``"level_shift"``: the whole segment is offset by +-1.5;
    - ``"frequency"``: in the segment the first sinusoid runs at three times its frequency.

    ``anomalies=()`` gives a clean signal (all labels 0) to train on. The same ``seed`` gives the
    same periods, phases, noise and anomaly places; pass ``noise_seed`` to draw the noise
    separately (e.g. a clean training signal with noise independent of the test signal's).

    Returns:
        ``(signal, labels)``: float32 ``(n_timesteps, n_features)`` and uint8 ``(n_timesteps,)``,
        1 where a time step is anomalous. With ``return_events=True``, ``(signal, labels, events)``:
        one dict per injected anomaly, ``{"kind", "start", "stop"}`` (the segment ``start:stop``;
        for spikes only some of its steps are labelled).
    """
    check_positive_int("n_timesteps", n_timesteps)
    check_positive_int("n_features", n_features)
    anomalies = tuple(anomalies)
    unknown = [a for a in anomalies if a not in ANOMALY_KINDS]
    if unknown:
        raise ValueError(f"anomalies={anomalies!r}: unknown kind(s) {unknown}; use any of {ANOMALY_KINDS}, or () for none.")
    rng = np.random.default_rng(seed)
    t = np.arange(n_timesteps, dtype=np.float64)[:, None]
    p1, p2 = rng.uniform(40, 60, n_features), rng.uniform(100, 150, n_features)
    phi, psi = rng.uniform(0, 2 * np.pi, (2, n_features))
    first = np.sin(2 * np.pi * t / p1 + phi)
    noise = rng.normal(0, 0.1, (n_timesteps, n_features))  # drawn either way: anomaly places depend on seed only
    if noise_seed is not None:
        noise = np.random.default_rng(noise_seed).normal(0, 0.1, (n_timesteps, n_features))
    signal = first + 0.5 * np.sin(2 * np.pi * t / p2 + psi) + noise
    labels = np.zeros(n_timesteps, dtype=np.uint8)
    events = []
    if not anomalies:
        return (signal.astype(np.float32), labels, events) if return_events else (signal.astype(np.float32), labels)

    check_positive_int("n_anomalies", n_anomalies)
    check_positive_int("anomaly_length", anomaly_length)
    slot = n_timesteps // n_anomalies
    if slot < 2 * anomaly_length:
        raise ValueError(
            f"n_timesteps={n_timesteps} is too short for n_anomalies={n_anomalies} of "
            f"anomaly_length={anomaly_length}; it must be at least 2 * n_anomalies * "
            f"anomaly_length = {2 * n_anomalies * anomaly_length}."
        )
    kinds = rng.permutation(np.resize(np.array(anomalies), n_anomalies))
    half = anomaly_length // 2
    for i, kind in enumerate(kinds):
        lo, hi = i * slot + half, (i + 1) * slot - anomaly_length - half
        start = int(rng.integers(lo, hi + 1))
        seg = slice(start, start + anomaly_length)
        sign = rng.choice([-1.0, 1.0])
        events.append({"kind": str(kind), "start": start, "stop": start + anomaly_length})
        if kind == "spike":
            steps = start + rng.choice(anomaly_length, size=max(1, anomaly_length // 15), replace=False)
            signal[steps] += 4.0 * sign
            labels[steps] = 1
            continue
        if kind == "level_shift":
            signal[seg] += 1.5 * sign
        else:  # frequency
            signal[seg] += np.sin(2 * np.pi * 3 * t[seg] / p1 + phi) - first[seg]
        labels[seg] = 1
    return (signal.astype(np.float32), labels, events) if return_events else (signal.astype(np.float32), labels)
