"""Loading, normalising, corrupting and splitting data.

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
``mnist.npz``. A file that is truncated or corrupt raises :class:`DatasetCorruptError`; a data
set found nowhere raises :class:`DatasetNotFoundError` naming every place searched and the one
command that fixes it.
"""

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

__all__ = [
    "DatasetNotFoundError",
    "DatasetCorruptError",
    "load_fashion_mnist",
    "load_mnist",
    "load_digits",
    "read_idx",
    "subset",
    "flatten",
    "add_gaussian_noise",
    "add_salt_and_pepper",
    "mask_blocks",
    "mask_pixels",
    "corrupt",
    "make_ratings",
    "split_ratings",
    "load_movielens_100k",
    "make_signals",
]

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
        "sizes": (60000, 10000),
    },
    "mnist": {
        "folders": ("mnist",),
        "npz": "mnist.npz",
        "debian": None,
        "sizes": (60000, 10000),
    },
}
_CACHE = {}


class DatasetNotFoundError(FileNotFoundError):
    """No copy of a data set was found on disk and Keras could not download one."""


class DatasetCorruptError(ValueError):
    """A data file exists but is truncated or not in the expected format."""


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
            f"{path} could not be decompressed ({e}); the file is truncated or not gzip. "
            "Delete it and download it again."
        ) from e
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise DatasetCorruptError(
            f"{path} is not an IDX file (bad magic number {raw[:4].hex() or 'empty'}). "
            "Delete it and download it again."
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
            f"{path} lacks the array {e}; expected x_train, y_train, x_test, y_test as in "
            "Keras' mnist.npz."
        ) from e
    except Exception as e:  # zipfile.BadZipFile, ValueError, EOFError ...
        raise DatasetCorruptError(f"{path} could not be read as .npz ({e}); it is corrupt.") from e
    return arrays


def _check(name, arrays, source):
    x_train, y_train, x_test, y_test = (arrays[k] for k in IDX_FILES)
    for x, y, split in ((x_train, y_train, "train"), (x_test, y_test, "test")):
        if x.ndim != 3 or x.shape[1:] != (28, 28):
            raise DatasetCorruptError(
                f"{source}: {split} images have shape {x.shape}, expected (n, 28, 28)."
            )
        if y.shape != (len(x),):
            raise DatasetCorruptError(
                f"{source}: {len(x)} {split} images but labels of shape {y.shape}."
            )
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


def _load_from_disk(name):
    """(arrays, source) from the first place holding the data set, or (None, places)."""
    spec = _SPECS[name]
    searched = []
    for label, folder in _candidate_dirs(name):
        searched.append(f"{folder} ({label})")
        if not folder.is_dir():
            continue
        npz = folder / spec["npz"]
        if npz.is_file():
            return _check(name, _read_npz(npz), npz), str(npz)
        files = _find_idx(folder)
        if files:
            arrays = {k: read_idx(p) for k, p in files.items()}
            return _check(name, arrays, folder), str(folder)
    return None, searched


def _download(name):
    import keras

    loader = {"fashion_mnist": keras.datasets.fashion_mnist, "mnist": keras.datasets.mnist}[name]
    (x_train, y_train), (x_test, y_test) = loader.load_data()
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    return _check(name, arrays, f"Keras download of {name}"), f"Keras download of {name}"


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
        "or put the four IDX files (" + ", ".join(f"{s}.gz" for s in IDX_FILES.values())
        + f") or Keras' {spec['npz']} in a folder and set AELIB_DATA_DIR to it"
    )
    lines = [f"Could not find the {name} data set. Searched:"]
    lines += [f"  - {place}" for place in searched]
    lines.append(f"  - Keras download: {error}")
    lines.append("Fix it with one of:")
    lines += [f"  * {fix}" for fix in fixes]
    return "\n".join(lines)


def _load(name, limit=None, seed=0, download=True):
    if name not in _CACHE:
        arrays, found = _load_from_disk(name)
        if arrays is None:
            if not download:
                raise DatasetNotFoundError(_not_found_message(name, found, "skipped (download=False)"))
            try:
                arrays, found = _download(name)
            except DatasetCorruptError:
                raise
            except Exception as e:  # offline: URLError, socket errors, HTTP errors ...
                raise DatasetNotFoundError(
                    _not_found_message(name, found, f"failed ({type(e).__name__}: {e})")
                ) from None
        _CACHE[name] = arrays
    a = _CACHE[name]
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
    x_tr, x_te, y_tr, y_te = train_test_split(
        x, y, test_size=test_size, random_state=seed, stratify=y
    )
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


def _rng(seed):
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def add_gaussian_noise(x, std=0.3, seed=0, clip=True):
    """``x`` plus N(0, std^2) noise, clipped to [0, 1] by default. ``x`` is left untouched."""
    if std < 0:
        raise ValueError(f"std must be >= 0, got {std}.")
    x = np.asarray(x, dtype=np.float32)
    noisy = x + _rng(seed).normal(0.0, std, size=x.shape).astype(np.float32)
    return np.clip(noisy, 0.0, 1.0) if clip else noisy


def add_salt_and_pepper(x, amount=0.2, seed=0, low=0.0, high=1.0):
    """Set a fraction ``amount`` of values to ``low`` or ``high`` (half each, on average)."""
    if not 0.0 <= amount <= 1.0:
        raise ValueError(f"amount must be in [0, 1], got {amount}.")
    x = np.asarray(x, dtype=np.float32)
    rng = _rng(seed)
    u = rng.random(x.shape)
    out = x.copy()
    out[u < amount / 2] = low
    out[(u >= amount / 2) & (u < amount)] = high
    return out


def mask_blocks(x, block_size=8, n_blocks=1, seed=0, fill=0.0, return_mask=False):
    """Blank ``n_blocks`` random square blocks of side ``block_size`` in each image.

    ``x`` has shape ``(n, height, width[, channels])``. With ``return_mask=True`` also returns a
    boolean array, True where pixels were blanked (for inpainting metrics).
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim < 3:
        raise ValueError(f"mask_blocks needs images (n, height, width[, channels]), got {x.shape}.")
    h, w = x.shape[1:3]
    if not 0 < block_size <= min(h, w):
        raise ValueError(f"block_size must be in 1..{min(h, w)} for {h}x{w} images, got {block_size}.")
    rng = _rng(seed)
    n = len(x)
    rows = rng.integers(0, h - block_size + 1, size=(n, n_blocks))
    cols = rng.integers(0, w - block_size + 1, size=(n, n_blocks))
    r = np.arange(h)[None, None, :]
    c = np.arange(w)[None, None, :]
    in_r = (r >= rows[..., None]) & (r < rows[..., None] + block_size)  # (n, blocks, h)
    in_c = (c >= cols[..., None]) & (c < cols[..., None] + block_size)  # (n, blocks, w)
    mask = (in_r[..., :, None] & in_c[..., None, :]).any(axis=1)  # (n, h, w)
    mask = mask.reshape(mask.shape + (1,) * (x.ndim - 3))
    mask = np.broadcast_to(mask, x.shape)
    out = np.where(mask, np.float32(fill), x)
    return (out, mask.copy()) if return_mask else out


def mask_pixels(x, fraction=0.25, seed=0, fill=0.0):
    """Set a random ``fraction`` of the values to ``fill`` (masking noise, Vincent et al. 2010)."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}.")
    x = np.asarray(x, dtype=np.float32)
    return np.where(_rng(seed).random(x.shape) < fraction, np.float32(fill), x)


_CORRUPTIONS = ("gaussian", "salt_and_pepper", "masking", "block")


def corrupt(x, kind="gaussian", amount=0.3, seed=0):
    """The same four corruptions as :class:`aelib.layers.Corruption`, on NumPy arrays.

    ``amount`` is the noise std (``"gaussian"``), the fraction of values set to 0 or 1
    (``"salt_and_pepper"``) or to 0 (``"masking"``), or the side in pixels of one blanked
    square per image (``"block"``). The input is never modified.
    """
    if kind not in _CORRUPTIONS:
        raise ValueError(f"Unknown corruption kind {kind!r}; use one of {_CORRUPTIONS}.")
    if kind == "gaussian":
        return add_gaussian_noise(x, std=amount, seed=seed)
    if kind == "salt_and_pepper":
        return add_salt_and_pepper(x, amount=amount, seed=seed)
    if kind == "masking":
        return mask_pixels(x, fraction=amount, seed=seed)
    return mask_blocks(x, block_size=int(amount), seed=seed)


# Generated data sets (ratings, signals) live in synthetic.py; re-exported here.
from .synthetic import load_movielens_100k, make_ratings, make_signals, split_ratings  # noqa: E402
