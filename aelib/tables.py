"""Real tables for anomaly detection: the ADBench "Classical" tables and KDD Cup 1999 (10%).

Loaded the way Keras loads its data sets: found on disk, else downloaded once, checked against
its published SHA-256 and cached::

    X, y = aelib.load_adbench("wine")          # y: 1 = anomaly, 0 = normal
    X, y = aelib.load_kddcup99()               # y: "normal" or the attack's name

Files are looked for, in this order:

1. the folder in the ``AELIB_DATA_DIR`` environment variable, or its ``adbench/`` (``kddcup99/``)
   sub-folder;
2. the repository's ``data/`` folder (same sub-folders);
3. the download cache, ``$KERAS_HOME/datasets/adbench/`` (default ``~/.keras``);
4. online: the file in the ADBench repository (``Minqi824/ADBench`` on GitHub,
   ``adbench/datasets/Classical/``), saved in that cache by ``keras.utils.get_file`` with its
   SHA-256 checked; for KDD Cup 99, scikit-learn's ``fetch_kddcup99(percent10=True)``, which
   checks the same file's SHA-256 and caches it in scikit-learn's data home.

A copy whose checksum differs raises :class:`aelib.DatasetCorruptError`; a table found nowhere
raises :class:`aelib.DatasetNotFoundError` naming every place searched.

The ADBench tables (Han et al., "ADBench: Anomaly Detection Benchmark", NeurIPS 2022; BSD
2-Clause; most come from ODDS and the UCI repository) are numeric. KDD Cup 99 has three
categorical columns (``protocol_type``, ``service``, ``flag``; :data:`KDDCUP99_CATEGORICAL`);
one-hot encode them before a detector, e.g.::

    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder
    encode = ColumnTransformer(
        [("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False), list(aelib.KDDCUP99_CATEGORICAL))],
        remainder="passthrough",
    )
    X_numeric = encode.fit_transform(X).astype("float64")
"""

import gzip
import hashlib
import os
from pathlib import Path

import numpy as np

from .datasets import DatasetCorruptError, DatasetNotFoundError

__all__ = ["ADBENCH_TABLES", "KDDCUP99_COLUMNS", "KDDCUP99_CATEGORICAL", "load_adbench", "load_kddcup99"]

REPO_DATA_DIR = Path(__file__).resolve().parent.parent / "data"
ADBENCH_URL = "https://raw.githubusercontent.com/Minqi824/ADBench/main/adbench/datasets/Classical/{file}"
# SHA-256 of the published files (ADBench repository, adbench/datasets/Classical/).
ADBENCH_SHA256 = {
    "2_annthyroid": "e738f7c58a8740d2c4aac4c71ff49ce5e1d1aa16f44178135fc9c09df05fad1b",
    "4_breastw": "4f37ce07dbc25ddad8178fdc6d664ab46d2d0000ee28c2787c3c7ff3c03ef9f6",
    "12_fault": "ec27301f9a4cf7c5d8b22c360cf37ddb043b7fb062465723dfd8b34e2771e5dd",
    "14_glass": "aa7a8db1d475ba01a10488af454bc15220a3d5951b010b03b7020567d8152cdc",
    "18_Ionosphere": "bca46cb0cfd1bf9ddef6cde5ad2215d54fb0189508d0d4c4eb98e788cad69001",
    "20_letter": "f986d3da80cf1fa2aea83a5ebe73b7d4800e0d4c01fdd1ae074b58d20f10d039",
    "23_mammography": "a0308ac9712d78321073b1c2dc98dc37665c0f35c1cc33019416fe8f8d7de7ea",
    "27_PageBlocks": "10a9b4d5bb5d3b9083caab4c4062f665610eada703c3d927bf7c34b1f2d0d223",
    "29_Pima": "215454bb263a2f040945c9ea7bd7f06f1e89a61a3143bdb6f196e3887e801a7d",
    "31_satimage-2": "1b056e357f801b8b20c3f380a30224a3c4088d7ed764ec5a24828dc9b1918d6f",
    "37_Stamps": "99fe739447284f613fa54bf2dccdb51c5120175ce6260adec6dad77576c42509",
    "39_vertebral": "0816286f92b96fe6867664a41a031ac7228dcfbf1a5feefe50ca3883b2e9073d",
    "41_Waveform": "6c9d867337ad1a2f8372c1d27f4c032f0401237e2041b7c45f00de8d319ff30f",
    "43_WDBC": "78d4606a1ab516f5b60b00c196497f3bbd6bd5e4548fd04cf5f2475209b34b85",
    "45_wine": "d5ad8965d92cc57122fe1e6572bb301adbaf795b3e166d187ae00a704d8f6e20",
    "47_yeast": "bbb15c873d78a4f6a589f46d0f75814595e2282d2ae7ce7779c750f276c3770d",
}
ADBENCH_TABLES = tuple(ADBENCH_SHA256)  # file names without .npz, in ADBench's order
KDDCUP99_FILE = "kddcup.data_10_percent.gz"
KDDCUP99_SHA256 = "8045aca0d84e70e622d1148d7df782496f6333bf6eb979a1b0837c42a9fd9561"  # as fetch_kddcup99 checks
KDDCUP99_COLUMNS = (
    "duration protocol_type service flag src_bytes dst_bytes land wrong_fragment urgent hot num_failed_logins "
    "logged_in num_compromised root_shell su_attempted num_root num_file_creations num_shells num_access_files "
    "num_outbound_cmds is_host_login is_guest_login count srv_count serror_rate srv_serror_rate rerror_rate "
    "srv_rerror_rate same_srv_rate diff_srv_rate srv_diff_host_rate dst_host_count dst_host_srv_count "
    "dst_host_same_srv_rate dst_host_diff_srv_rate dst_host_same_src_port_rate dst_host_srv_diff_host_rate "
    "dst_host_serror_rate dst_host_srv_serror_rate dst_host_rerror_rate dst_host_srv_rerror_rate"
).split()
KDDCUP99_CATEGORICAL = (1, 2, 3)  # protocol_type, service, flag: strings; one-hot encode them
_CACHE = {}  # KDD Cup 99 arrays read in this process, keyed by (path, modification time)


def _table_name(name):
    """'wine', 'WINE', '45_wine' or '45_wine.npz' -> '45_wine'; ValueError listing the tables."""
    key = str(name).strip()
    key = key[:-4] if key.lower().endswith(".npz") else key
    for table in ADBENCH_TABLES:
        if key.lower() in (table.lower(), table.split("_", 1)[1].lower()):
            return table
    short = ", ".join(t.split("_", 1)[1] for t in ADBENCH_TABLES)
    raise ValueError(
        f"Unknown ADBench table {name!r}. aelib knows the checksums of these 16 'Classical' tables: {short} "
        "(a short name or the file name, e.g. 'wine' or '45_wine')."
    )


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _cache_dir():
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")).expanduser() / "datasets" / "adbench"


def _places(sub):
    """(label, folder) pairs to search, in order."""
    places = []
    env = os.environ.get("AELIB_DATA_DIR")
    if env:
        places += [("AELIB_DATA_DIR", Path(env).expanduser()), ("AELIB_DATA_DIR", Path(env).expanduser() / sub)]
    places += [("repository data/", REPO_DATA_DIR), ("repository data/", REPO_DATA_DIR / sub)]
    return places


def _checked(path, expected, what):
    got = _sha256(path)
    if got != expected:
        raise DatasetCorruptError(
            f"{path} is not the published {what}: its SHA-256 is {got}, expected {expected}. "
            "Delete it (it is truncated, damaged or another version) and load it again."
        )
    return path


def _not_found(what, searched, fixes):
    lines = [f"Could not find {what}. Searched:"] + [f"  - {s}" for s in searched] + ["Fix it with one of:"]
    return DatasetNotFoundError("\n".join(lines + [f"  * {f}" for f in fixes]))


def load_adbench(name, download=True):
    """``(X, y)`` of an ADBench "Classical" table: ``X`` float64 of shape (rows, features), ``y``
    int64, 1 for the anomalies and 0 for the normal rows.

    ``name``: a short name (``"wine"``, ``"WDBC"``, ``"satimage-2"``; case does not matter) or the
    file name (``"45_wine"``, ``"45_wine.npz"``); :data:`ADBENCH_TABLES` lists the 16 known ones.
    ``download=False`` never goes online. See the module docstring for where files are looked for.
    """
    table = _table_name(name)
    file, expected = f"{table}.npz", ADBENCH_SHA256[table]
    searched = []
    for label, folder in _places("adbench") + [("download cache", _cache_dir())]:
        searched.append(f"{folder / file} ({label})")
        if (folder / file).is_file():
            return _read_adbench(_checked(folder / file, expected, f"ADBench table {file}"))
    url = ADBENCH_URL.format(file=file)
    if not download:
        searched.append(f"{url} (download skipped: download=False)")
    else:
        import keras

        cache = _cache_dir()
        try:
            cache.mkdir(parents=True, exist_ok=True)  # else get_file falls back to /tmp/.keras
            path = keras.utils.get_file(
                file,
                origin=url,
                file_hash=expected,
                hash_algorithm="sha256",
                cache_dir=str(cache.parent.parent),
                cache_subdir="datasets/adbench",
            )
            return _read_adbench(_checked(Path(path), expected, f"ADBench table {file}"))
        except DatasetCorruptError:
            raise
        except ValueError as e:  # get_file: the downloaded file's hash differs
            raise DatasetCorruptError(f"The download of {url} is not the published {file}: {e}") from None
        except Exception as e:  # offline: URLError, HTTP errors ...
            searched.append(f"{url} (download failed: {type(e).__name__}: {e})")
    raise _not_found(
        f"the ADBench table {file}",
        searched,
        [
            "call again online with download=True (the file is cached for next time)",
            f"or put {file} (from github.com/Minqi824/ADBench, adbench/datasets/Classical/) in a folder "
            "and set AELIB_DATA_DIR to it or to its parent (as adbench/)",
        ],
    )


def _read_adbench(path):
    with np.load(path, allow_pickle=False) as d:
        X, y = np.asarray(d["X"], dtype=np.float64), np.asarray(d["y"]).astype(np.int64).ravel()
    if X.ndim != 2 or len(X) != len(y) or not set(np.unique(y)) <= {0, 1}:
        raise DatasetCorruptError(f"{path}: expected X (rows x features) and y of 0/1 with one label per row")
    return X, y


def load_kddcup99(download=True):
    """``(X, y)`` of KDD Cup 1999's 10% training file (494,021 network connections).

    ``X``: an object array of shape (494021, 41), columns :data:`KDDCUP99_COLUMNS`; the three
    columns :data:`KDDCUP99_CATEGORICAL` (protocol, service, TCP flag) hold strings, every other
    column floats. ``y``: strings, ``"normal"`` or an attack's name (``"smurf"``, ``"neptune"``,
    ...; 22 attack types). One-hot encode the categorical columns before a detector (module
    docstring). Read from ``kddcup.data_10_percent.gz`` in ``AELIB_DATA_DIR`` (or its
    ``kddcup99/``) or the repository's ``data/``; else, with ``download=True``, from
    scikit-learn's ``fetch_kddcup99(percent10=True)``.
    """
    searched = []
    for label, folder in _places("kddcup99"):
        searched.append(f"{folder / KDDCUP99_FILE} ({label})")
        if (folder / KDDCUP99_FILE).is_file():
            return _read_kddcup99(_checked(folder / KDDCUP99_FILE, KDDCUP99_SHA256, "KDD Cup 99 10% file"))
    if not download:
        searched.append("scikit-learn's fetch_kddcup99(percent10=True) (skipped: download=False)")
    else:
        from sklearn.datasets import fetch_kddcup99

        try:
            X, y = fetch_kddcup99(percent10=True, return_X_y=True)
            return _decoded(X, y)
        except Exception as e:
            searched.append(f"scikit-learn's fetch_kddcup99(percent10=True) (failed: {type(e).__name__}: {e})")
    raise _not_found(
        "the KDD Cup 99 10% file",
        searched,
        [
            "call again online with download=True (scikit-learn downloads and caches it)",
            f"or put {KDDCUP99_FILE} in a folder and set AELIB_DATA_DIR to it or to its parent (as kddcup99/)",
        ],
    )


def _read_kddcup99(path):
    key = (str(path), path.stat().st_mtime_ns)
    if key not in _CACHE:
        try:
            with gzip.open(path, "rt") as f:
                data = np.loadtxt(f, delimiter=",", dtype=str)
        except (OSError, ValueError, EOFError) as e:
            raise DatasetCorruptError(f"{path}: not the KDD Cup 99 file ({type(e).__name__}: {e})") from None
        if data.ndim != 2 or data.shape[1] != 42:
            raise DatasetCorruptError(f"{path}: expected 42 comma-separated fields per line (41 features and a label)")
        _CACHE[key] = _decoded(data[:, :41], data[:, 41])
    X, y = _CACHE[key]
    return X.copy(), y.copy()


def _decoded(X, y):
    """Object array: floats in the numeric columns, str in the categorical ones; y: str labels."""
    X = np.asarray(X)
    out = np.empty(X.shape, dtype=object)
    numeric = [c for c in range(X.shape[1]) if c not in KDDCUP99_CATEGORICAL]
    out[:, numeric] = X[:, numeric].astype(np.float64)
    for c in KDDCUP99_CATEGORICAL:
        out[:, c] = np.char.decode(X[:, c].astype(bytes)) if X.dtype.kind in "OS" else X[:, c]
    y = np.asarray(y)
    y = np.char.decode(y.astype(bytes)) if y.dtype.kind in "OS" else y
    return out, np.char.rstrip(y.astype(str), ".")
