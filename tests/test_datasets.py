"""The data layer: real Fashion-MNIST, the IDX and .npz readers on files written here, the
not-found and corrupt-file errors, and the corruption helpers."""
import gzip
import struct
import urllib.error
from pathlib import Path

import numpy as np
import pytest

import aelib
from aelib import datasets

SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def write_idx(path, array, compress=True):
    array = np.asarray(array, dtype=np.uint8)
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.tobytes()
    path = Path(path)
    if compress:
        with gzip.open(f"{path}.gz", "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)


def tiny_arrays(seed=0):
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, (12, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, 12, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, 5, dtype=np.uint8),
    }


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No data anywhere: empty AELIB_DATA_DIR, repo data/ and Keras cache; fresh cache."""
    monkeypatch.setattr(datasets, "_CACHE", {})
    monkeypatch.setattr(datasets, "REPO_DATA_DIR", tmp_path / "repo-data")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    monkeypatch.setenv("AELIB_DATA_DIR", str(data_dir))
    return data_dir


# ---- real data -------------------------------------------------------------------------------
def test_real_fashion_mnist_shapes_ranges_and_labels():
    try:
        (x, y), (xt, yt) = aelib.load_fashion_mnist(download=False)
    except aelib.DatasetNotFoundError:
        pytest.skip("Fashion-MNIST not installed (apt-get install -y dataset-fashion-mnist)")
    assert x.shape == (60000, 28, 28, 1) and xt.shape == (10000, 28, 28, 1)
    assert x.dtype == np.float32 and y.dtype == np.uint8
    assert x.min() == 0.0 and x.max() == 1.0
    assert np.bincount(y).tolist() == [6000] * 10
    assert np.bincount(yt).tolist() == [1000] * 10
    assert 0.27 < x.mean() < 0.30  # Fashion-MNIST's mean pixel is 0.286


def test_limit_gives_a_seeded_subset():
    try:
        (a, ya), (at, _) = aelib.load_fashion_mnist(limit=600, seed=1, download=False)
        (b, yb), _ = aelib.load_fashion_mnist(limit=600, seed=1, download=False)
        (c, _), _ = aelib.load_fashion_mnist(limit=600, seed=2, download=False)
    except aelib.DatasetNotFoundError:
        pytest.skip("Fashion-MNIST not installed")
    assert a.shape == (600, 28, 28, 1) and at.shape == (100, 28, 28, 1)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ya, yb)
    assert not np.array_equal(a, c)


@pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason="../shared/data/mnist not beside the repo")
def test_idx_reader_on_the_official_mnist_test_set():
    x = aelib.read_idx(SHARED_MNIST / "t10k-images-idx3-ubyte.gz")
    y = aelib.read_idx(SHARED_MNIST / "t10k-labels-idx1-ubyte.gz")
    assert x.shape == (10000, 28, 28) and x.dtype == np.uint8
    assert np.bincount(y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert abs(x.mean() - 33.79) < 0.01


def test_load_digits_is_a_fixed_stratified_split():
    (x, y), (xt, yt) = aelib.load_digits()
    assert x.shape[1:] == (8, 8, 1) and len(x) + len(xt) == 1797
    assert x.dtype == np.float32 and 0.0 <= x.min() and x.max() == 1.0
    (x2, _), _ = aelib.load_digits()
    np.testing.assert_array_equal(x, x2)
    assert set(np.unique(yt)) == set(range(10))


# ---- readers on files written here -------------------------------------------------------------
@pytest.mark.parametrize("compress", [True, False])
def test_idx_files_found_through_aelib_data_dir(isolated, compress):
    arrays = tiny_arrays()
    for key, stem in datasets.IDX_FILES.items():
        write_idx(isolated / stem, arrays[key], compress=compress)
    (x, y), (xt, yt) = aelib.load_mnist(download=False)
    np.testing.assert_allclose(x[..., 0], arrays["x_train"] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y, arrays["y_train"])
    assert xt.shape == (5, 28, 28, 1) and yt.dtype == np.uint8


def test_npz_in_a_named_subfolder(isolated):
    arrays = tiny_arrays(1)
    (isolated / "mnist").mkdir()
    np.savez(isolated / "mnist" / "mnist.npz", **arrays)
    (x, y), (xt, yt) = aelib.load_mnist(download=False)
    np.testing.assert_array_equal(yt, arrays["y_test"])
    assert x.shape == (12, 28, 28, 1) and x.max() <= 1.0


def test_keras_cache_is_searched(isolated, monkeypatch, tmp_path):
    cache = tmp_path / "keras-home" / "datasets"
    cache.mkdir(parents=True)
    np.savez(cache / "mnist.npz", **tiny_arrays(2))
    monkeypatch.delenv("AELIB_DATA_DIR")
    (x, _), _ = aelib.load_mnist(download=False)
    assert x.shape == (12, 28, 28, 1)


# ---- errors ------------------------------------------------------------------------------------
def test_not_found_names_every_place_and_the_fix(isolated):
    with pytest.raises(aelib.DatasetNotFoundError) as err:
        aelib.load_mnist(download=False)
    msg = str(err.value)
    assert str(isolated) in msg and "repo-data" in msg and "keras-home" in msg
    assert "AELIB_DATA_DIR" in msg and "download=True" in msg


def test_offline_download_failure_becomes_the_helpful_error(isolated, monkeypatch):
    def offline(name):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(datasets, "_download", offline)
    with pytest.raises(aelib.DatasetNotFoundError) as err:
        aelib.load_mnist()
    assert "URLError" in str(err.value) and "Searched" in str(err.value)
    assert isinstance(err.value, FileNotFoundError)


def test_truncated_gzip_is_reported(isolated):
    arrays = tiny_arrays()
    for key, stem in datasets.IDX_FILES.items():
        write_idx(isolated / stem, arrays[key])
    path = isolated / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(aelib.DatasetCorruptError, match="truncated"):
        aelib.load_mnist(download=False)


def test_truncated_idx_data_is_reported(tmp_path):
    write_idx(tmp_path / "x", np.zeros((3, 28, 28)), compress=False)
    (tmp_path / "x").write_bytes((tmp_path / "x").read_bytes()[:-5])
    with pytest.raises(aelib.DatasetCorruptError, match=r"shape \(3, 28, 28\)"):
        aelib.read_idx(tmp_path / "x")


def test_not_an_idx_file(tmp_path):
    (tmp_path / "x").write_bytes(b"<html>404 Not Found</html>")
    with pytest.raises(aelib.DatasetCorruptError, match="not an IDX file"):
        aelib.read_idx(tmp_path / "x")


def test_labels_that_do_not_match_images(isolated):
    arrays = tiny_arrays()
    arrays["y_train"] = arrays["y_train"][:-1]
    np.savez(isolated / "mnist.npz", **arrays)
    with pytest.raises(aelib.DatasetCorruptError, match="labels"):
        aelib.load_mnist(download=False)


def test_corrupt_npz(isolated):
    (isolated / "mnist.npz").write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(aelib.DatasetCorruptError):
        aelib.load_mnist(download=False)


def test_unknown_dataset_name():
    with pytest.raises(ValueError, match="fashion_mnist"):
        aelib.load_dataset("cifar")


# ---- helpers -----------------------------------------------------------------------------------
def test_gaussian_noise_statistics_and_input_untouched():
    x = np.full((200, 28, 28, 1), 0.5, np.float32)
    before = x.copy()
    noisy = aelib.add_gaussian_noise(x, std=0.1, seed=0, clip=False)
    np.testing.assert_array_equal(x, before)
    assert abs((noisy - x).std() - 0.1) < 0.002 and abs((noisy - x).mean()) < 0.002
    clipped = aelib.add_gaussian_noise(x, std=1.0, seed=0)
    assert clipped.min() == 0.0 and clipped.max() == 1.0
    np.testing.assert_array_equal(aelib.add_gaussian_noise(x, 0.1, seed=3), aelib.add_gaussian_noise(x, 0.1, seed=3))


def test_salt_and_pepper_fraction():
    x = np.full((100, 28, 28, 1), 0.5, np.float32)
    noisy = aelib.add_salt_and_pepper(x, amount=0.2, seed=0)
    assert abs((noisy == 0).mean() - 0.1) < 0.005 and abs((noisy == 1).mean() - 0.1) < 0.005
    assert (x == 0.5).all()


def test_mask_blocks_blanks_exactly_one_block_per_image():
    x = np.ones((50, 28, 28, 1), np.float32)
    out, mask = aelib.mask_blocks(x, block_size=6, seed=0, return_mask=True)
    assert (mask.reshape(50, -1).sum(axis=1) == 36).all()
    assert (out[mask] == 0).all() and (out[~mask] == 1).all() and (x == 1).all()
    with pytest.raises(ValueError, match="block_size"):
        aelib.mask_blocks(x, block_size=40)


def test_mask_pixels_and_corrupt_dispatch():
    x = np.full((100, 28, 28, 1), 0.5, np.float32)
    assert abs((aelib.corrupt(x, "masking", 0.3) == 0).mean() - 0.3) < 0.01
    assert ((aelib.corrupt(x, "block", 5) == 0).reshape(100, -1).sum(axis=1) == 25).all()
    with pytest.raises(ValueError, match="block"):
        aelib.corrupt(x, "speckle")


def test_subset_and_flatten():
    x = np.arange(100).reshape(100, 1)
    y = np.arange(100)
    xs, ys = aelib.subset(x, y, limit=10, seed=0)
    np.testing.assert_array_equal(xs[:, 0], ys)
    assert aelib.subset(x, limit=1000).shape == (100, 1)
    with pytest.raises(ValueError, match="limit"):
        aelib.subset(x, limit=0)
    assert aelib.flatten(np.zeros((3, 28, 28, 1))).shape == (3, 784)
