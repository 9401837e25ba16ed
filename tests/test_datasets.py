"""Built-in datasets: the offline lookup order, the messages when data is missing or broken, real data counts."""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np
import pytest
from synthetic import synthetic_images

from vae_core.data import datasets
from vae_core.data.datasets import DatasetError, DatasetUnavailable, load_dataset

# Read before any fixture clears it: CI points this at the real MNIST / Fashion-MNIST files.
REAL_DATA_DIR = os.environ.get(datasets.DATA_DIR_ENV)
SOURCES = ("data_dir", "keras_npz", "keras_idx", "debian", "download")


def splits(n_train: int, n_test: int = 10, shape: tuple[int, int, int] = (28, 28, 1)) -> dict[str, np.ndarray]:
    """keras.datasets-style arrays: (n, h, w) images for one channel, as Keras ships them."""
    x_train, y_train = synthetic_images(n_train, shape, seed=n_train)
    x_test, y_test = synthetic_images(n_test, shape, seed=n_test + 1)
    if shape[2] == 1:
        x_train, x_test = x_train[..., 0], x_test[..., 0]
    y_train, y_test = y_train.astype(np.uint8), y_test.astype(np.uint8)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def idx_bytes(array: np.ndarray) -> bytes:
    """LeCun's IDX format: magic 0x0000 0x08 (unsigned bytes) ndim, big-endian int32 dims, the data."""
    return bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape) + array.tobytes()


def write_idx_folder(folder: Path, arrays: dict[str, np.ndarray]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for key, filename in datasets.IDX_FILES.items():
        (folder / filename).write_bytes(gzip.compress(idx_bytes(np.asarray(arrays[key], np.uint8))))
    return folder


@pytest.fixture
def places(tmp_path, monkeypatch):
    """Every lookup place moved into tmp_path and empty; the download is a stub that fails like no network."""
    keras_home = tmp_path / "keras-home"
    monkeypatch.delenv(datasets.DATA_DIR_ENV, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    monkeypatch.setattr(datasets, "DEBIAN_FASHION_MNIST_DIR", tmp_path / "debian")
    downloads = []

    def no_network(name):
        downloads.append(name)
        raise ConnectionError("no network in tests")

    monkeypatch.setattr(datasets, "download_with_keras", no_network)
    return {
        "data_dir": tmp_path / "data",
        "keras_npz": keras_home / "datasets",
        "keras_idx": keras_home / "datasets" / "fashion-mnist",
        "debian": tmp_path / "debian",
        "downloads": downloads,
    }


def provide(source: str, name: str, arrays: dict[str, np.ndarray], places, monkeypatch) -> None:
    """Put `arrays` where lookup place `source` expects dataset `name`."""
    if source == "data_dir":
        places["data_dir"].mkdir(parents=True, exist_ok=True)
        np.savez(places["data_dir"] / f"{name}.npz", **arrays)
        monkeypatch.setenv(datasets.DATA_DIR_ENV, str(places["data_dir"]))
    elif source == "keras_npz":
        places["keras_npz"].mkdir(parents=True, exist_ok=True)
        np.savez(places["keras_npz"] / f"{name}.npz", **arrays)
    elif source in ("keras_idx", "debian"):
        write_idx_folder(places[source], arrays)
    else:
        monkeypatch.setattr(datasets, "download_with_keras", lambda requested: arrays)


@pytest.mark.parametrize("first", range(len(SOURCES)), ids=SOURCES)
def test_first_place_that_has_the_data_wins(first, places, monkeypatch):
    # Each place holds a different number of training images, so the count tells which one was read.
    for index in range(first, len(SOURCES)):
        provide(SOURCES[index], "fashion_mnist", splits(20 + index), places, monkeypatch)

    dataset = load_dataset("fashion_mnist")

    assert len(dataset.x_train) == 20 + first
    assert dataset.source.startswith(
        ("$VAE_DATA_DIR file", "Keras cache file", "Keras cache folder", "Debian folder", "keras.datasets")[first]
    )
    assert dataset.x_train.shape[1:] == (28, 28, 1) and dataset.x_train.dtype == np.uint8
    assert dataset.y_train.dtype == np.int64 and dataset.y_test.shape == (10,)
    assert dataset.class_names[0] == "T-shirt/top"


def test_idx_folder_is_read_exactly(places, monkeypatch):
    arrays = splits(20)
    provide("debian", "fashion_mnist", arrays, places, monkeypatch)

    dataset = load_dataset("fashion_mnist")

    np.testing.assert_array_equal(dataset.x_train[..., 0], arrays["x_train"])
    np.testing.assert_array_equal(dataset.y_test, arrays["y_test"])
    assert str(places["debian"]) in dataset.source


def test_mnist_does_not_look_in_fashion_mnist_folders(places, monkeypatch):
    provide("debian", "mnist", splits(20), places, monkeypatch)

    with pytest.raises(DatasetUnavailable) as raised:
        load_dataset("mnist")

    assert "Debian folder" not in str(raised.value)
    assert places["downloads"] == ["mnist"]


def test_nothing_found_names_every_place_and_the_fix(places):
    with pytest.raises(DatasetUnavailable) as raised:
        load_dataset("fashion_mnist")

    message = str(raised.value)
    assert "$VAE_DATA_DIR: not set" in message
    assert str(places["keras_npz"] / "fashion_mnist.npz") in message
    assert str(places["keras_idx"]) in message
    assert f"Debian folder {places['debian']}" in message
    assert "keras.datasets.fashion_mnist.load_data()" in message
    assert "ConnectionError: no network in tests" in message
    assert "set VAE_DATA_DIR" in message and "fashion_mnist.npz" in message
    # Listed in lookup order.
    positions = [message.index(str(p)) for p in (places["keras_npz"], places["keras_idx"], places["debian"])]
    assert positions == sorted(positions)
    assert places["downloads"] == ["fashion_mnist"]


def test_nothing_found_names_the_vae_data_dir_file(places, monkeypatch):
    places["data_dir"].mkdir()
    monkeypatch.setenv(datasets.DATA_DIR_ENV, str(places["data_dir"]))

    with pytest.raises(DatasetUnavailable) as raised:
        load_dataset("mnist")

    assert f"$VAE_DATA_DIR file {places['data_dir'] / 'mnist.npz'}: not found" in str(raised.value)
    assert "not set" not in str(raised.value)


def test_unknown_dataset_name(places):
    with pytest.raises(DatasetError, match=r"Unknown dataset 'svhn'.*cifar10.*fashion_mnist.*mnist"):
        load_dataset("svhn")


def test_wrongly_shaped_npz_is_an_error_not_skipped(places, monkeypatch):
    arrays = splits(20) | {"x_train": np.zeros((20, 32, 32), np.uint8)}
    provide("data_dir", "mnist", arrays, places, monkeypatch)
    provide("keras_npz", "mnist", splits(21), places, monkeypatch)  # a good copy further down must not hide it

    with pytest.raises(DatasetError) as raised:
        load_dataset("mnist")

    message = str(raised.value)
    assert str(places["data_dir"] / "mnist.npz") in message
    assert "x_train should be uint8 images of shape (n, 28, 28, 1)" in message and "(20, 32, 32, 1)" in message


def test_a_test_split_larger_than_an_atlas_takes_is_cut_to_its_first_images(places, monkeypatch):
    monkeypatch.setattr(datasets, "most_test_images", lambda shape: 4)
    provide("data_dir", "mnist", splits(20, n_test=10), places, monkeypatch)
    dataset = load_dataset("mnist")
    assert len(dataset.x_test) == len(dataset.y_test) == 4 and len(dataset.x_train) == 20
    np.testing.assert_array_equal(dataset.x_test[..., 0], splits(20, n_test=10)["x_test"][:4])
    assert dataset.notes == ("mnist: the first 4 of its 10 test images are the test set.",)


@pytest.mark.parametrize(
    ("arrays", "expected"),
    [
        ({"x_train": np.zeros((20, 28, 28), np.float32)}, "found float32"),
        ({"y_train": np.full(20, 10, np.uint8)}, "y_train should hold 20 labels in 0..9"),
        ({"y_test": np.zeros(3, np.uint8)}, "y_test should hold 10 labels in 0..9; found 3 labels"),
    ],
    ids=["float-images", "label-out-of-range", "label-count"],
)
def test_npz_with_bad_contents(arrays, expected, places, monkeypatch):
    provide("keras_npz", "mnist", splits(20) | arrays, places, monkeypatch)

    with pytest.raises(DatasetError, match=expected):
        load_dataset("mnist")


def test_npz_missing_an_array_lists_what_it_has(places, monkeypatch):
    arrays = splits(20)
    del arrays["y_test"]
    provide("data_dir", "mnist", arrays, places, monkeypatch)

    with pytest.raises(DatasetError, match=r"lacks arrays \['y_test'\]; it has \['x_test', 'x_train', 'y_train'\]"):
        load_dataset("mnist")


@pytest.mark.parametrize("content", [b"", b"not a zip file at all", "truncated"], ids=["empty", "junk", "truncated"])
def test_unreadable_npz_is_an_error_not_skipped(content, places, monkeypatch):
    provide("data_dir", "mnist", splits(20), places, monkeypatch)
    path = places["data_dir"] / "mnist.npz"
    path.write_bytes(path.read_bytes()[:200] if content == "truncated" else content)

    with pytest.raises(DatasetError, match="is not a readable .npz file") as raised:
        load_dataset("mnist")

    assert str(path) in str(raised.value)
    assert places["downloads"] == []


def truncate_gzip(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-20])


def drop_last_image(path: Path) -> None:
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes())[: -28 * 28]))


def bad_magic(path: Path) -> None:
    raw = bytearray(gzip.decompress(path.read_bytes()))
    raw[2] = 0x0D  # float32 instead of unsigned bytes
    path.write_bytes(gzip.compress(bytes(raw)))


def cut_header(path: Path) -> None:
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes())[:10]))


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (truncate_gzip, "is not a readable gzip file"),
        (drop_last_image, r"holds 14,896 bytes of data; its header says \(20, 28, 28\)"),
        (bad_magic, "bad magic number"),
        (cut_header, "is cut short: its header needs 16 bytes"),
    ],
    ids=["truncated-gzip", "missing-data", "bad-magic", "cut-header"],
)
@pytest.mark.parametrize("source", ["keras_idx", "debian"])
def test_damaged_idx_file_is_an_error_naming_it(source, damage, expected, places, monkeypatch):
    provide(source, "fashion_mnist", splits(20), places, monkeypatch)
    provide("debian" if source == "keras_idx" else "download", "fashion_mnist", splits(21), places, monkeypatch)
    path = places[source] / datasets.IDX_FILES["x_train"]
    damage(path)

    with pytest.raises(DatasetError, match=expected) as raised:
        load_dataset("fashion_mnist")

    assert str(path) in str(raised.value)


def test_idx_folder_missing_a_file_is_skipped(places, monkeypatch):
    provide("keras_idx", "fashion_mnist", splits(20), places, monkeypatch)
    (places["keras_idx"] / datasets.IDX_FILES["y_test"]).unlink()
    provide("debian", "fashion_mnist", splits(23), places, monkeypatch)

    dataset = load_dataset("fashion_mnist")

    assert len(dataset.x_train) == 23 and dataset.source.startswith("Debian folder")


def test_cifar10_labels_are_flattened(places, monkeypatch):
    arrays = splits(20, 10, shape=(32, 32, 3))
    arrays["y_train"], arrays["y_test"] = arrays["y_train"].reshape(-1, 1), arrays["y_test"].reshape(-1, 1)
    provide("download", "cifar10", arrays, places, monkeypatch)

    dataset = load_dataset("cifar10")

    assert dataset.x_train.shape == (20, 32, 32, 3) and dataset.x_test.shape == (10, 32, 32, 3)
    assert dataset.y_train.shape == (20,) and dataset.y_test.shape == (10,)
    np.testing.assert_array_equal(dataset.y_train, arrays["y_train"][:, 0])
    assert dataset.image_shape == (32, 32, 3)
    assert dataset.class_names[:2] == ("airplane", "automobile")


def test_limited_keeps_the_first_training_images_and_all_test_images(tiny_dataset):
    limited = tiny_dataset.limited(10)

    np.testing.assert_array_equal(limited.x_train, tiny_dataset.x_train[:10])
    np.testing.assert_array_equal(limited.y_train, tiny_dataset.y_train[:10])
    assert limited.x_test is tiny_dataset.x_test and limited.y_test is tiny_dataset.y_test
    assert limited.name == tiny_dataset.name and limited.source == tiny_dataset.source
    assert len(tiny_dataset.x_train) == 256  # the original is untouched


def test_limited_on_unlabelled_data(tiny_dataset):
    unlabelled = datasets.Dataset("u", tiny_dataset.x_train, None, tiny_dataset.x_test, None, None, "test")

    limited = unlabelled.limited(5)

    assert limited.y_train is None and limited.x_train.shape == (5, 28, 28, 1)


def real_data_dir(filename: str) -> Path:
    if not REAL_DATA_DIR:
        pytest.skip(f"real data test: set {datasets.DATA_DIR_ENV} to a folder holding {filename}")
    if not (Path(REAL_DATA_DIR) / filename).is_file():
        pytest.skip(f"real data test: {Path(REAL_DATA_DIR) / filename} is absent")
    return Path(REAL_DATA_DIR)


def test_real_mnist(places, monkeypatch):
    monkeypatch.setenv(datasets.DATA_DIR_ENV, str(real_data_dir("mnist.npz")))

    dataset = load_dataset("mnist")

    assert dataset.x_train.shape == (60000, 28, 28, 1) and dataset.x_test.shape == (10000, 28, 28, 1)
    assert dataset.x_train.dtype == np.uint8 and dataset.x_train.max() == 255
    assert np.bincount(dataset.y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert dataset.source.startswith("$VAE_DATA_DIR file")


def test_real_fashion_mnist(places, monkeypatch):
    monkeypatch.setenv(datasets.DATA_DIR_ENV, str(real_data_dir("fashion_mnist.npz")))

    dataset = load_dataset("fashion_mnist")

    assert dataset.x_train.shape == (60000, 28, 28, 1) and dataset.x_test.shape == (10000, 28, 28, 1)
    assert np.bincount(dataset.y_test).tolist() == [1000] * 10
    assert np.bincount(dataset.y_train).tolist() == [6000] * 10
    assert dataset.class_names[0] == "T-shirt/top" and dataset.class_names[-1] == "Ankle boot"
