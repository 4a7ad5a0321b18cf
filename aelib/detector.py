"""A scikit-learn novelty detector for tabular data: an ensemble of dense autoencoders.

``AutoencoderDetector`` learns to reconstruct normal rows and flags the rows it reconstructs
badly. It follows scikit-learn's conventions (``fit`` / ``score_samples`` /
``decision_function`` / ``predict``, ``get_params``, pipelines, grid search, pickling), so it
drops in where ``IsolationForest`` or ``OneClassSVM`` would go.
"""

import io
import json
import math
import os
import random
import tempfile
import zipfile
from contextlib import contextmanager
from numbers import Integral, Real

import keras
import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from .builders.dense import dense_autoencoder

MIN_ROWS = 2  # fewest rows in each part of the split (training, validation)
TINY = 1e-12  # added before taking logs of errors and distances (an exact duplicate has distance 0)
PREDICT_BATCH = 4096  # rows per forward pass at scoring time
# What ``save`` writes besides the model: numbers (JSON) and arrays (.npz)
FITTED_NUMBERS = ("latent_dim_", "offset_", "n_epochs_", "n_features_in_", "error_center_", "error_scale_")
FITTED_NUMBERS += ("n_neighbors_", "distance_center_", "distance_scale_")
FITTED_ARRAYS = ("mean_", "scale_", "columns_", "constant_columns_", "reference_")


class AutoencoderDetector(OutlierMixin, BaseEstimator):
    """Novelty detection on tabular data: the reconstruction error of dense autoencoders, combined
    with the distance to the nearest normal rows.

    Fit it on normal rows only (a clean sample of what "normal" looks like); it then scores new
    rows by two signs of abnormality. A row that breaks the relations between columns lies off the
    surface the normal rows lie near, and an ensemble of small autoencoders trained on those rows
    reconstructs it badly. A row that keeps the relations but lies where no normal row does (an
    extreme along a direction normal rows vary in, or a gap between clusters) is reconstructed
    well, and only its distance to the nearest normal rows gives it away. Each score alone wins on
    some tables and loses on others; their combination is more reliable than either (measured on
    the 16 ADBench tables below). Not for data that already contains the anomalies (outlier
    detection): every row given to ``fit``, the validation rows included, is taken as normal.

    The score. For a row ``x`` (standardised columns): ``e`` = its mean squared reconstruction
    error, averaged over the ensemble, and ``d`` = its mean Euclidean distance to the
    ``n_neighbors`` nearest fitted rows. Each is put on a common scale as a robust z-score of its
    log on normal rows the part has not seen: ``z_e = (log e - median) / IQR`` over the validation
    rows' errors, ``z_d = (log d - median) / IQR`` over every fitted row's distance to its nearest
    *other* fitted rows (leave one out). The anomaly score is ``(1 - w) z_e + w z_d`` with
    ``w = neighbor_weight``, and ``score_samples`` returns minus it (higher = more normal, as in
    scikit-learn). ``w = 0`` gives the reconstruction error alone, ``w = 1`` kNN alone.

    What ``fit`` does: set aside the columns that are constant on the rows given to it
    (``constant_columns_``; they carry no information about what is normal and are ignored when
    scoring, as a ``VarianceThreshold`` would); hold out a random ``validation_fraction`` of the
    rows; standardise every other column by the mean and standard deviation of the remaining
    training rows (a column constant on them but not on the validation rows is scaled by its std
    over all rows); train ``n_estimators`` autoencoders side by side in one Keras model (each
    ``aelib.dense_autoencoder`` with a linear output, behind its own training-only
    ``GaussianNoise(noise_std)``), with Adam on the MSE, stopping early on the validation loss and
    keeping the best weights; index the standardised rows for the neighbour search; finally set
    ``offset_`` so that a fraction ``false_positive_rate`` of the validation rows (normal rows the
    models never trained on) falls below it. Categorical (string) columns are refused with a
    message saying to one-hot encode them, e.g.::

        from sklearn.compose import ColumnTransformer
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OneHotEncoder
        onehot = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        detector = make_pipeline(
            ColumnTransformer([("onehot", onehot, categorical_columns)], remainder="passthrough"),
            AutoencoderDetector(),
        )

    Parameters
    ----------
    hidden_units : tuple of int, default=(64, 32)
        Sizes of each encoder's hidden layers (ReLU); the decoder mirrors them.
    latent_dim : int or float, default=0.5
        Code size: an int, or a float in (0, 1] for that fraction of the number of features
        (rounded up), e.g. 0.5 gives 15 codes for 30 features.
    noise_std : float, default=0.1
        Std of the Gaussian noise added to the standardised inputs during training (a denoising
        autoencoder; 0 turns it off). It keeps the models from learning the identity.
    n_estimators : int, default=5
        Number of autoencoders, each from its own random initialisation and noise; the anomaly
        score is their mean reconstruction error. They train side by side in one Keras model
        (one early stopping on their summed validation loss), so 5 cost far less than 5 fits.
    epochs : int, default=300
        Most epochs to train; early stopping usually ends training well before (50-200 epochs
        on a few hundred rows).
    patience : int, default=10
        Epochs without a better validation loss before training stops.
    batch_size : int, default=32
    learning_rate : float, default=3e-3
        Adam's learning rate.
    validation_fraction : float, default=0.2
        Fraction of the rows held out for early stopping and for the threshold. Each part needs
        at least 2 rows.
    false_positive_rate : float, default=0.05
        The threshold: the fraction of normal validation rows that ``predict`` flags as
        anomalies (-1), so about the rate of false alarms to expect on new normal data. This
        plays the role of IsolationForest's ``contamination``, but is measured on held-out
        normal rows, not on the training set.
    n_neighbors : int, default=1
        Neighbours whose mean distance is the second part of the score (fewer when fitted on
        fewer rows).
    neighbor_weight : float in [0, 1], default=0.8
        Weight ``w`` of the neighbour distance in the score (above); 0 turns the neighbour
        search off.
    random_state : int, RandomState instance or None, default=None
        Seeds the split, the weights, the noise and the shuffling: two fits with the same int
        give the same scores. ``fit`` calls ``keras.utils.set_random_seed`` (the Python and
        NumPy global states are restored afterwards, the backend's global seed is not).
    verbose : int, default=0
        Keras' progress output in ``fit`` (0 silent, 1 progress bar, 2 one line per epoch).

    Attributes
    ----------
    model_ : keras.Model
        The trained ensemble: standardised rows in, the ``n_estimators`` reconstructions side by
        side out (shape ``(n, n_estimators * n_features)``). Sub-models
        ``"autoencoder_0"``, ``"autoencoder_1"``, ... each with ``"encoder"`` and ``"decoder"``.
    mean_, scale_ : ndarray of shape (n_kept_columns,)
        Per-column mean and standard deviation of the training rows (kept columns only).
    columns_, constant_columns_ : ndarray of int
        Indices of the columns used, and of those set aside as constant on the fitted rows.
    error_center_, error_scale_, distance_center_, distance_scale_ : float
        Median and interquartile range of the log error (validation rows) and of the log
        neighbour distance (fitted rows, leave one out) that put the two parts on one scale.
    reference_ : ndarray of shape (n_samples, n_kept_columns)
        The standardised fitted rows the neighbour distances are measured to (only when
        ``neighbor_weight > 0``), indexed by ``neighbors_`` (a ``NearestNeighbors``).
    latent_dim_ : int
        The code size used.
    offset_ : float
        The threshold: ``decision_function = score_samples - offset_``.
    n_epochs_ : int
        Epochs trained (the weights are those of the best validation epoch).
    n_features_in_ : int
    feature_names_in_ : ndarray of str, only when fitted on a DataFrame with string column names

    Example::

        from aelib.detector import AutoencoderDetector
        detector = AutoencoderDetector(random_state=0).fit(X_normal)  # normal rows only
        scores = detector.score_samples(X_new)        # higher = more normal
        labels = detector.predict(X_new)              # +1 normal, -1 anomaly (5% of normal rows)
        detector.save("detector.zip"); same = AutoencoderDetector.load("detector.zip")

    Defaults and the measurements that chose them
    ---------------------------------------------
    The autoencoders' own settings (``latent_dim=0.5``, ``hidden_units=(64, 32)``,
    ``noise_std=0.1``, ``n_estimators=5``) were chosen, for the reconstruction error alone, by a
    coordinate search on validation rows of three tables scikit-learn ships (breast cancer, wine,
    digits; ``python -m benchmarks.detector_defaults``, about 75 minutes). Fixed, not searched:
    ``epochs=300, patience=10, batch_size=32, learning_rate=3e-3``.

    The score's ``neighbor_weight`` and ``n_neighbors`` were chosen by leave-one-table-out
    validation over the 16 ADBench tables (``python -m benchmarks.detector_loto``, about 20
    minutes; results in ``benchmarks/detector_loto.json``): per table, a stratified 60/40 split,
    the detector fitted on the normal rows of the 60%, ROC AUC on the 40%, for split seeds 100,
    101 and 102 (the benchmark's seeds 0-2 were not used for the choice). Both parts are read
    from one fit, so the whole grid costs one fit per table and seed. Mean ROC AUC over the tables:

    ================ ======== ======== ========
    neighbor_weight  k = 1    k = 5    k = 10
    ================ ======== ======== ========
    0 (error alone)  0.8442
    0.2              0.8487   0.8480   0.8476
    0.35             0.8510   0.8496   0.8486
    0.5              0.8520   0.8503   0.8490
    0.65             0.8522   0.8500   0.8477
    **0.8**          **0.8522** 0.8493 0.8464
    1 (kNN alone)    0.8508   0.8486   0.8452
    ================ ======== ======== ========

    Chosen on all 16 tables: ``neighbor_weight=0.8, n_neighbors=1`` (0.65 ties it to within
    2e-6). Leaving each table out in turn and choosing on the other 15 picks ``n_neighbors=1``
    every time and ``neighbor_weight`` 0.5, 0.65 or 0.8; scored on the table left out, those
    choices average 0.849, the estimate for a table the choice was not made on. The combination
    beats each part alone on the mean (0.852 against 0.844 for the error and 0.851 for the
    distance), but the margin over the distance alone is small: per table, the best weight was
    1 (the distance alone) on 8 tables, 0.35 on annthyroid, letter and wine (where the error
    carries much of the ranking), and 0 on vertebral and yeast (where every detector of the
    benchmark scores below 0.6: their anomalies lie inside the normal rows' range).
    The benchmark's ``tabular`` task compares the defaults with kNN, Isolation Forest, PCA, ECOD
    and PyOD's autoencoders on seeds 0-2 (README).

    Saving: ``pickle`` / ``joblib`` work (the Keras model travels as ``.keras`` bytes), and
    ``save(path)`` / ``AutoencoderDetector.load(path)`` write and read a zip of JSON, arrays and
    a ``.keras`` file that is loaded with ``safe_mode=True`` and no pickle, so it is safe to open
    from an untrusted source.
    """

    _parameter_constraints = {
        "hidden_units": [tuple, list],
        "latent_dim": [Interval(Integral, 1, None, closed="left"), Interval(Real, 0, 1, closed="right")],
        "noise_std": [Interval(Real, 0, None, closed="left")],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "patience": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "false_positive_rate": [Interval(Real, 0, 1, closed="neither")],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "neighbor_weight": [Interval(Real, 0, 1, closed="both")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        hidden_units=(64, 32),
        latent_dim=0.5,
        noise_std=0.1,
        n_estimators=5,
        epochs=300,
        patience=10,
        batch_size=32,
        learning_rate=3e-3,
        validation_fraction=0.2,
        false_positive_rate=0.05,
        n_neighbors=1,
        neighbor_weight=0.8,
        random_state=None,
        verbose=0,
    ):
        self.hidden_units = hidden_units
        self.latent_dim = latent_dim
        self.noise_std = noise_std
        self.n_estimators = n_estimators
        self.epochs = epochs
        self.patience = patience
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.validation_fraction = validation_fraction
        self.false_positive_rate = false_positive_rate
        self.n_neighbors = n_neighbors
        self.neighbor_weight = neighbor_weight
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ fit

    def fit(self, X, y=None):
        """Train on normal rows ``X`` (``y`` is ignored) and set the threshold ``offset_``."""
        self._validate_params()
        X = self._check_X(X, reset=True)
        rng = check_random_state(self.random_state)
        n_train, n_val = _split_sizes(len(X), self.validation_fraction)
        if min(n_train, n_val) < MIN_ROWS:
            raise ValueError(
                f"AutoencoderDetector needs at least {_min_rows(self.validation_fraction)} rows with "
                f"validation_fraction={self.validation_fraction} ({MIN_ROWS} to train on and {MIN_ROWS} held "
                f"out for early stopping and the threshold), got n_samples={len(X)}. Pass more rows "
                "(in practice a few hundred) or change validation_fraction."
            )
        order = rng.permutation(len(X))
        # Columns constant on the rows given to fit carry no information about what is normal: set aside.
        constant = X.max(axis=0) == X.min(axis=0)
        if constant.all():
            raise ValueError(
                f"Every column of X is constant (the same value in all {len(X)} rows): there is nothing to "
                "learn about what is normal. Fit on rows that vary."
            )
        self.constant_columns_ = np.flatnonzero(constant)
        self.columns_ = np.flatnonzero(~constant)
        if self.verbose and self.constant_columns_.size:
            print(f"AutoencoderDetector: set aside constant column(s) {_list(self.constant_columns_)}")
        X = X[:, self.columns_]
        train, val = X[order[n_val:]], X[order[:n_val]]
        self.mean_, self.scale_ = train.mean(axis=0), train.std(axis=0)
        # A column constant on the training rows that varies on the validation rows (a rare value):
        # scale it by its spread on all rows, so a value unseen in training reads as large, not as inf.
        self.scale_ = np.where(self.scale_ > 0, self.scale_, X.std(axis=0))
        self.latent_dim_ = self._resolve_latent_dim(X.shape[1])
        z_train, z_val = self._standardise(train), self._standardise(val)

        with _seeded(int(rng.randint(np.iinfo(np.int32).max))) as seed:
            self.model_ = self._build_model(X.shape[1], seed)
            self.model_.compile(optimizer=keras.optimizers.Adam(self.learning_rate), loss="mse")
            stop = keras.callbacks.EarlyStopping(patience=self.patience, restore_best_weights=True)
            history = self.model_.fit(
                z_train,
                np.tile(z_train, (1, self.n_estimators)),
                validation_data=(z_val, np.tile(z_val, (1, self.n_estimators))),
                epochs=self.epochs,
                batch_size=self.batch_size,
                callbacks=[stop],
                verbose=self.verbose,
            )
        self.n_epochs_ = len(history.history["loss"])
        # The two parts of the score, each as log(value) centred and scaled on normal rows the part
        # has not seen: the reconstruction error on the validation rows; the neighbour distance of
        # every fitted row to the others (leave one out).
        log_error_val = np.log(self._errors(z_val) + TINY)
        self.error_center_, self.error_scale_ = _center_scale(log_error_val)
        parts_val = [(log_error_val - self.error_center_) / self.error_scale_]
        if self.neighbor_weight > 0:
            self.reference_ = self._standardise(X)
            self.n_neighbors_ = min(self.n_neighbors, len(X) - 1)
            self.neighbors_ = NearestNeighbors(n_neighbors=self.n_neighbors_).fit(self.reference_)
            log_dist = np.log(self._distances(self.reference_, leave_one_out=True) + TINY)
            self.distance_center_, self.distance_scale_ = _center_scale(log_dist)
            parts_val.append((log_dist[order[:n_val]] - self.distance_center_) / self.distance_scale_)
        self.offset_ = float(np.quantile(-self._combine(*parts_val), self.false_positive_rate))
        return self

    def _build_model(self, n_features, seed):
        inputs = keras.Input((n_features,), name="standardised_row")
        reconstructions = []
        for i in range(self.n_estimators):
            x = inputs
            if self.noise_std:
                x = keras.layers.GaussianNoise(self.noise_std, seed=seed + i, name=f"noise_{i}")(x)
            ae = dense_autoencoder(
                input_shape=(n_features,),
                latent_dim=self.latent_dim_,
                hidden_units=tuple(self.hidden_units),
                output_activation=None,
                name=f"autoencoder_{i}",
            )
            reconstructions.append(ae(x))
        outputs = (
            keras.layers.Concatenate(name="reconstructions")(reconstructions) if self.n_estimators > 1 else reconstructions[0]
        )
        return keras.Model(inputs, outputs, name="autoencoder_detector")

    def _resolve_latent_dim(self, n_features):
        if isinstance(self.latent_dim, Integral):
            return int(self.latent_dim)
        return max(1, math.ceil(self.latent_dim * n_features))

    # ------------------------------------------------------------- scoring

    def score_samples(self, X):
        """Normality of each row, higher = more normal: minus the anomaly score (class docstring):
        the weighted sum of the row's normalised log reconstruction error and, when
        ``neighbor_weight > 0``, its normalised log mean distance to the nearest fitted rows."""
        check_is_fitted(self)
        z = self._standardise(self._check_X(X, reset=False)[:, self.columns_])
        parts = [(np.log(self._errors(z) + TINY) - self.error_center_) / self.error_scale_]
        if self.neighbor_weight > 0:
            parts.append((np.log(self._distances(z) + TINY) - self.distance_center_) / self.distance_scale_)
        return -self._combine(*parts)

    def decision_function(self, X):
        """``score_samples(X) - offset_``: negative for the rows ``predict`` flags."""
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """+1 for normal rows, -1 for anomalies (``decision_function(X) < 0``)."""
        return np.where(self.decision_function(X) >= 0, 1, -1)

    def _combine(self, error, distance=None):
        if distance is None:
            return error
        return (1 - self.neighbor_weight) * error + self.neighbor_weight * distance

    def _errors(self, z):
        """Mean squared reconstruction error of each standardised row, averaged over the ensemble."""
        parts = [
            keras.ops.convert_to_numpy(self.model_(z[i : i + PREDICT_BATCH], training=False))
            for i in range(0, len(z), PREDICT_BATCH)
        ]
        reconstructions = np.concatenate(parts).reshape(len(z), -1, z.shape[1])
        return np.mean((reconstructions - z[:, None, :].astype(np.float64)) ** 2, axis=(1, 2))

    def _distances(self, z, leave_one_out=False):
        """Mean Euclidean distance of each standardised row to its nearest fitted rows."""
        if not hasattr(self, "neighbors_"):  # loaded by ``load``: rebuild the search structure
            self.neighbors_ = NearestNeighbors(n_neighbors=self.n_neighbors_).fit(self.reference_)
        k = self.n_neighbors_
        dist, _ = self.neighbors_.kneighbors(z, n_neighbors=k + 1 if leave_one_out else k)
        return (dist[:, 1:] if leave_one_out else dist).astype(np.float64).mean(axis=1)

    def _standardise(self, X):
        return ((X - self.mean_) / self.scale_).astype(np.float32)

    # ---------------------------------------------------------- validation

    def _check_X(self, X, reset):
        shape = getattr(X, "shape", ())  # arrays and DataFrames; lists get sklearn's own message
        if not reset and len(shape) == 2 and shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {shape[1]} features, but AutoencoderDetector is expecting {self.n_features_in_} features "
                "as input: score rows with the same columns, in the same order, as the rows it was fitted on."
            )
        try:
            X = validate_data(self, X, reset=reset, dtype=np.float64, ensure_all_finite=False)
        except ValueError as e:
            bad = _non_numeric_columns(X) if "convert" in str(e) else []
            if not bad:
                raise
            raise ValueError(
                f"Column(s) {_list(bad)} of X are not numeric (e.g. {np.asarray(X, dtype=object)[0, bad[0]]!r}): "
                "AutoencoderDetector needs numbers. One-hot encode categorical columns first, e.g. "
                "make_pipeline(ColumnTransformer([('onehot', OneHotEncoder(handle_unknown='ignore', "
                f"sparse_output=False), {bad})], remainder='passthrough'), AutoencoderDetector()) "
                "(sklearn.compose.ColumnTransformer, sklearn.preprocessing.OneHotEncoder)."
            ) from None
        bad = ~np.isfinite(X)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            what = "NaN" if np.isnan(X[row, col]) else "infinity"
            raise ValueError(
                f"Input contains {what}: the first non-finite value is at row {row}, column {col} "
                f"({bad.any(axis=1).sum()} of {len(X)} rows have one). AutoencoderDetector needs finite numbers: "
                "impute them (e.g. sklearn.impute.SimpleImputer before it in a Pipeline) or drop those rows."
            )
        return X

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        return tags

    # ------------------------------------------------------- saving, pickle

    def __getstate__(self):
        state = dict(super().__getstate__())
        if "model_" in state:
            state["model_"] = _model_to_bytes(state["model_"])
        return state

    def __setstate__(self, state):
        if "model_" in state:
            state = {**state, "model_": _model_from_bytes(state["model_"])}
        super().__setstate__(state)

    def save(self, path):
        """Write a fitted detector to ``path`` (a zip: params.json, arrays.npz, model.keras)."""
        check_is_fitted(self)
        params = self.get_params()
        if not isinstance(params["random_state"], (Integral, type(None))):
            params["random_state"] = None  # a RandomState object has no JSON form
        fitted = {k: getattr(self, k) for k in FITTED_NUMBERS if hasattr(self, k)}
        names = getattr(self, "feature_names_in_", None)
        meta = {"params": params, "fitted": fitted, "feature_names_in_": None if names is None else names.tolist()}
        arrays = io.BytesIO()
        np.savez(arrays, **{k: getattr(self, k) for k in FITTED_ARRAYS if hasattr(self, k)})
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("params.json", json.dumps(meta))
            zf.writestr("arrays.npz", arrays.getvalue())
            zf.writestr("model.keras", _model_to_bytes(self.model_))

    @classmethod
    def load(cls, path):
        """Read a detector written by ``save`` (no pickle; the model loads with safe_mode=True)."""
        with zipfile.ZipFile(path) as zf:
            meta = json.loads(zf.read("params.json"))
            arrays = np.load(io.BytesIO(zf.read("arrays.npz")), allow_pickle=False)
            model_bytes = zf.read("model.keras")
        detector = cls(**{**meta["params"], "hidden_units": tuple(meta["params"]["hidden_units"])})
        vars(detector).update(meta["fitted"], **{k: arrays[k] for k in arrays.files})
        if meta["feature_names_in_"] is not None:
            detector.feature_names_in_ = np.asarray(meta["feature_names_in_"], dtype=object)
        detector.model_ = _model_from_bytes(model_bytes)
        return detector


# ------------------------------------------------------------------ helpers


def _split_sizes(n, validation_fraction):
    """(training rows, validation rows) for ``n`` rows."""
    n_val = math.ceil(validation_fraction * n)
    return n - n_val, n_val


def _min_rows(validation_fraction):
    """Fewest rows whose split leaves MIN_ROWS in each part (both parts grow with n)."""
    n = max(MIN_ROWS, int((MIN_ROWS - 1) / validation_fraction) - 1)
    while min(_split_sizes(n, validation_fraction)) < MIN_ROWS:
        n += 1
    return n


def _center_scale(values):
    """Median and interquartile range of ``values`` (the range 1 when they hardly vary)."""
    q25, q50, q75 = np.quantile(values, [0.25, 0.5, 0.75])
    return float(q50), float(q75 - q25) if q75 - q25 > 1e-6 else 1.0


def _list(columns, most=10):
    return ", ".join(str(c) for c in columns[:most]) + (", ..." if len(columns) > most else "")


def _non_numeric_columns(X):
    """Indices of the columns of a 2-D array-like whose values do not all convert to float."""
    X = np.asarray(X, dtype=object)
    bad = []
    for c in range(X.shape[1] if X.ndim == 2 else 0):
        try:
            np.asarray(X[:, c], dtype=np.float64)
        except (TypeError, ValueError):
            bad.append(c)
    return bad


@contextmanager
def _seeded(seed):
    """Seed Keras (Python, NumPy, backend) for one fit, then give Python and NumPy their state back."""
    py_state, np_state = random.getstate(), np.random.get_state()
    keras.utils.set_random_seed(seed)
    try:
        yield seed
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)


def _model_to_bytes(model):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        model.save(path)
        with open(path, "rb") as f:
            return f.read()


def _model_from_bytes(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        with open(path, "wb") as f:
            f.write(data)
        return keras.saving.load_model(path, safe_mode=True, compile=False)
