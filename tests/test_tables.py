"""The real-table loaders: ADBench by short or file name from AELIB_DATA_DIR (the folder or its
adbench/), the download path through a local file:// URL with its SHA-256 checked and cached,
the corrupt-copy and not-found errors, and KDD Cup 99 from its gz file."""

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest

import aelib
from aelib import DatasetCorruptError, DatasetNotFoundError, tables

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
needs_shared = pytest.mark.skipif(not (SHARED / "adbench").is_dir(), reason=f"shared data not found at {SHARED}")


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No copy anywhere: empty AELIB_DATA_DIR, repository data/ and download cache; downloads from
    a local folder through file:// URLs."""
    monkeypatch.setattr(tables, "REPO_DATA_DIR", tmp_path / "repo-data")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    monkeypatch.setenv("AELIB_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "data").mkdir()
    remote = tmp_path / "remote"
    remote.mkdir()
    monkeypatch.setattr(tables, "ADBENCH_URL", remote.as_uri() + "/{file}")
    return tmp_path


def write_table(path, seed=0):
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(20, 3)), (np.arange(20) < 4).astype(int)
    np.savez(path, X=X, y=y)
    return X, y, hashlib.sha256(Path(path).read_bytes()).hexdigest()


@needs_shared
@pytest.mark.parametrize("name", ["wine", "WINE", "45_wine", "45_wine.npz"])
def test_adbench_by_short_or_file_name_from_the_data_dir(monkeypatch, name):
    monkeypatch.setenv("AELIB_DATA_DIR", str(SHARED))  # the parent: found in its adbench/
    X, y = aelib.load_adbench(name)
    assert X.shape == (129, 13) and X.dtype == np.float64 and y.dtype == np.int64 and y.sum() == 10


@needs_shared
def test_every_shared_table_loads_from_the_folder_itself(monkeypatch):
    monkeypatch.setenv("AELIB_DATA_DIR", str(SHARED / "adbench"))
    rows = {t: aelib.load_adbench(t)[0].shape[0] for t in aelib.ADBENCH_TABLES}
    assert len(rows) == 16 and rows["23_mammography"] == 11183 and rows["2_annthyroid"] == 7200


def test_unknown_name_lists_the_tables():
    with pytest.raises(ValueError, match=r"Unknown ADBench table 'nope'.*WDBC, wine"):
        aelib.load_adbench("nope")


def test_download_by_file_url_checks_the_hash_and_caches(isolated, monkeypatch):
    X, y, sha = write_table(isolated / "remote" / "45_wine.npz")
    monkeypatch.setitem(tables.ADBENCH_SHA256, "45_wine", sha)
    got_X, got_y = aelib.load_adbench("wine")
    np.testing.assert_array_equal(got_X, X)
    np.testing.assert_array_equal(got_y, y)
    cached = isolated / "keras-home" / "datasets" / "adbench" / "45_wine.npz"
    assert cached.is_file()
    (isolated / "remote" / "45_wine.npz").unlink()  # offline from now on: the cache answers
    np.testing.assert_array_equal(aelib.load_adbench("45_wine", download=False)[0], X)


def test_download_with_another_hash_is_refused(isolated):
    write_table(isolated / "remote" / "45_wine.npz")  # not the published file
    with pytest.raises(DatasetCorruptError, match="45_wine"):
        aelib.load_adbench("wine")


def test_corrupt_local_copy_names_the_file(isolated):
    write_table(isolated / "data" / "45_wine.npz")
    with pytest.raises(DatasetCorruptError, match=r"data/45_wine.npz is not the published.*SHA-256"):
        aelib.load_adbench("wine")


def test_offline_without_a_copy_names_every_place(isolated):
    with pytest.raises(DatasetNotFoundError) as err:
        aelib.load_adbench("wine")  # the file:// "server" has no such file
    text = str(err.value)
    for place in ("AELIB_DATA_DIR", "repository data/", "download cache", "download failed", "Fix it"):
        assert place in text, text
    with pytest.raises(DatasetNotFoundError, match="download=False"):
        aelib.load_adbench("wine", download=False)


def kdd_line(label, service="http"):
    values = ["0", "tcp", service, "SF"] + ["1"] * 37 + [label]
    return ",".join(values)


def test_kddcup99_from_a_gz_file(isolated, monkeypatch):
    path = isolated / "data" / "kddcup99" / tables.KDDCUP99_FILE
    path.parent.mkdir()
    with gzip.open(path, "wt") as f:
        f.write("\n".join([kdd_line("normal."), kdd_line("smurf.", "ecr_i"), kdd_line("normal.")]) + "\n")
    monkeypatch.setattr(tables, "KDDCUP99_SHA256", hashlib.sha256(path.read_bytes()).hexdigest())
    X, y = aelib.load_kddcup99(download=False)
    assert X.shape == (3, 41) and list(y) == ["normal", "smurf", "normal"]
    assert X[1, 2] == "ecr_i" and isinstance(X[0, 0], float) and X[0, 4] == 1.0
    assert [aelib.KDDCUP99_COLUMNS[c] for c in aelib.KDDCUP99_CATEGORICAL] == ["protocol_type", "service", "flag"]


def test_kddcup99_with_another_checksum_or_nowhere(isolated):
    with pytest.raises(DatasetNotFoundError, match=r"(?s)kddcup.data_10_percent.gz.*download=False"):
        aelib.load_kddcup99(download=False)
    path = isolated / "data" / tables.KDDCUP99_FILE
    with gzip.open(path, "wt") as f:
        f.write(kdd_line("normal.") + "\n")
    with pytest.raises(DatasetCorruptError, match="not the published KDD Cup 99"):
        aelib.load_kddcup99(download=False)


@needs_shared
def test_kddcup99_shared_file(monkeypatch):
    monkeypatch.setenv("AELIB_DATA_DIR", str(SHARED))  # found in its kddcup99/
    X, y = aelib.load_kddcup99(download=False)
    assert X.shape == (494021, 41) and (y == "normal").sum() == 97278 and len(set(y)) == 23
