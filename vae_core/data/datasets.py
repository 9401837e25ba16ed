"""The built-in image datasets (MNIST, Fashion-MNIST, CIFAR-10), found offline where possible.

Lookup order, first hit wins: `$VAE_DATA_DIR/<name>.npz`, the Keras cache (`$KERAS_HOME` or
`~/.keras`, `datasets/`), Debian's Fashion-MNIST package, then a `keras.datasets` download. When
all fail, `DatasetUnavailable` names every place tried and how to provide the data.
"""

from __future__ import annotations

import dataclasses
import gzip
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from vae_core.config import RANGES
from vae_core.size_limits import most_test_images
from vae_core.wording import count

if TYPE_CHECKING:  # the image folder module builds on this one
    from vae_core.data.image_folder import ImageFiles

DATA_DIR_ENV = "VAE_DATA_DIR"
DEBIAN_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}
SPLITS = ("x_train", "y_train", "x_test", "y_test")


class DatasetError(ValueError):
    """Data was found but is not what it should be; the message says what and where."""


class DatasetUnavailable(LookupError):
    """A built-in dataset was found nowhere; the message lists where it looked and what to do."""


@dataclass(frozen=True)
class DatasetSpec:
    """What a built-in dataset is: its name, picture shape, class names and credit."""

    name: str
    title: str
    image_shape: tuple[int, int, int]
    class_names: tuple[str, ...]
    credit: str


SPECS = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            "mnist",
            "MNIST",
            (28, 28, 1),
            tuple(str(d) for d in range(10)),
            "MNIST, Y. LeCun, C. Cortes, C. J. C. Burges, CC BY-SA 3.0",
        ),
        DatasetSpec(
            "fashion_mnist",
            "Fashion-MNIST",
            (28, 28, 1),
            ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
            "Fashion-MNIST, Zalando SE, MIT license",
        ),
        DatasetSpec(
            "cifar10",
            "CIFAR-10",
            (32, 32, 3),
            ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
            "CIFAR-10, A. Krizhevsky, 2009",
        ),
    )
}


@dataclass(frozen=True)
class Dataset:
    """Images as uint8 (n, height, width, channels), labels as int64 (n,) or None when unlabelled.
    An image folder's training images are `ImageFiles` instead, read from disk batch by batch.

    `notes` are what a person should know before training on it (a tiny test split, say).
    """

    name: str
    x_train: np.ndarray | ImageFiles
    y_train: np.ndarray | None
    x_test: np.ndarray
    y_test: np.ndarray | None
    class_names: tuple[str, ...] | None
    source: str
    notes: tuple[str, ...] = ()

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(int(s) for s in self.x_train.shape[1:])  # type: ignore[return-value]

    def condition_classes(self, conditional: bool) -> int:
        """How many classes a model trained on this data is conditioned on: 0 for a plain model,
        the number of classes for a conditional one, which needs labels (`DatasetError` without)."""
        if not conditional:
            return 0
        if self.y_train is None or not self.class_names:
            raise DatasetError(
                f"{self.name} has no labels, and a conditional VAE is conditioned on each image's label."
                " Train a plain VAE on it, or use labelled data."
            )
        classes = max(len(self.class_names), 2)
        if not RANGES["classes"].allows(classes):
            raise DatasetError(
                f"{self.name} has labels up to {classes - 1}; a conditional VAE takes at most"
                f" {RANGES['classes'].high} classes. Number the classes from 0, or train a plain VAE."
            )
        return classes

    def limited(self, train_images: int | None) -> Dataset:
        """The same dataset with only its first `train_images` training images (all for None), for
        quick runs: what `TrainConfig.train_limit` asks."""
        if train_images is None or train_images >= len(self.x_train):
            return self
        y_train = None if self.y_train is None else self.y_train[:train_images]
        return dataclasses.replace(self, x_train=self.x_train[:train_images], y_train=y_train)


def held_out_split(n_images: int, fraction: float, seed: int, most: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Seeded (test, train) rows of a user's images: `fraction` of them, at most `most`, held out
    for testing, and always at least one of each (callers refuse fewer than two images)."""
    order = np.random.default_rng(seed).permutation(n_images)
    n_test = min(max(1, round(n_images * fraction)), n_images - 1 if most is None else most)
    return order[:n_test], order[n_test:]


def load_dataset(name: str) -> Dataset:
    """Load built-in dataset `name` from the first place in the lookup order that has it."""
    if name not in SPECS:
        raise DatasetError(f"Unknown dataset {name!r}. Expected one of {sorted(SPECS)}.")
    tried = [] if os.environ.get(DATA_DIR_ENV) else [f"${DATA_DIR_ENV}: not set"]
    for where, reader in _candidates(name):
        try:
            arrays = reader()
        except FileNotFoundError:
            tried.append(f"{where}: not found")
            continue
        except DatasetError:
            raise
        except Exception as error:  # a download fails in many ways (DNS, HTTP, SSL, hash)
            tried.append(f"{where}: {type(error).__name__}: {error}")
            continue
        return _checked_dataset(SPECS[name], arrays, where)
    raise DatasetUnavailable(_unavailable_message(name, tried))


def keras_home() -> Path:
    """Keras's cache root: `$KERAS_HOME`, else `~/.keras`, as `keras.utils.get_file` uses it."""
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))


def _candidates(name: str) -> list[tuple[str, Callable[[], dict[str, np.ndarray]]]]:
    candidates = []
    data_dir = os.environ.get(DATA_DIR_ENV)
    if data_dir:
        path = Path(data_dir) / f"{name}.npz"
        candidates.append((f"${DATA_DIR_ENV} file {path}", lambda: read_npz_splits(path)))
    cache = keras_home() / "datasets"
    candidates.append((f"Keras cache file {cache / f'{name}.npz'}", lambda: read_npz_splits(cache / f"{name}.npz")))
    if name == "fashion_mnist":
        keras_idx = cache / "fashion-mnist"
        candidates.append((f"Keras cache folder {keras_idx}", lambda: read_idx_splits(keras_idx)))
        candidates.append(
            (f"Debian folder {DEBIAN_FASHION_MNIST_DIR}", lambda: read_idx_splits(DEBIAN_FASHION_MNIST_DIR))
        )
    candidates.append((f"keras.datasets.{name}.load_data() (cache or download)", lambda: download_with_keras(name)))
    return candidates


def read_npz_splits(path: Path) -> dict[str, np.ndarray]:
    """Read an .npz in the `keras.datasets` layout (x_train, y_train, x_test, y_test)."""
    if not path.is_file():
        raise FileNotFoundError(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in SPLITS if key not in archive.files]
            if missing:
                raise DatasetError(f"{path} lacks arrays {missing}; it has {sorted(archive.files)}.")
            return {key: archive[key] for key in SPLITS}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        if isinstance(error, DatasetError):
            raise
        raise DatasetError(f"{path} is not a readable .npz file: {error}") from error


def read_idx_splits(folder: Path) -> dict[str, np.ndarray]:
    """Read the four gzipped IDX files of (Fashion-)MNIST, the format LeCun published them in."""
    paths = {key: folder / filename for key, filename in IDX_FILES.items()}
    if not all(path.is_file() for path in paths.values()):
        raise FileNotFoundError(folder)
    return {key: read_idx(path) for key, path in paths.items()}


def read_idx(path: Path) -> np.ndarray:
    """One gzipped IDX file: magic 0x0000 0x08 (uint8) ndim, then big-endian int32 dims, then data."""
    try:
        with gzip.open(path, "rb") as stream:
            raw = stream.read()
    except (OSError, EOFError) as error:
        raise DatasetError(f"{path} is not a readable gzip file: {error}") from error
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DatasetError(f"{path} is not an IDX file of unsigned bytes (bad magic number).")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetError(f"{path} is cut short: its header needs {header} bytes, the file has {len(raw)}.")
    shape = tuple(int(d) for d in np.frombuffer(raw[4:header], dtype=">i4"))
    if len(raw) - header != int(np.prod(shape)):
        raise DatasetError(f"{path} holds {count(len(raw) - header, 'byte')} of data; its header says {shape}.")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def download_with_keras(name: str) -> dict[str, np.ndarray]:
    """`keras.datasets.<name>.load_data()`: reads Keras's cache, else downloads into it."""
    import keras  # imported here: the offline paths above need no deep-learning framework

    (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, name).load_data()
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def _checked_dataset(spec: DatasetSpec, arrays: dict[str, np.ndarray], source: str) -> Dataset:
    images, labels = {}, {}
    for split in ("train", "test"):
        x, y = np.asarray(arrays[f"x_{split}"]), np.asarray(arrays[f"y_{split}"]).reshape(-1)
        if x.ndim == 3:
            x = x[..., np.newaxis]
        if x.dtype != np.uint8 or x.shape[1:] != spec.image_shape:
            raise DatasetError(
                f"{source}: x_{split} should be uint8 images of shape (n, {', '.join(map(str, spec.image_shape))});"
                f" found {x.dtype} {x.shape}."
            )
        if len(y) != len(x) or (len(y) and (y.min() < 0 or y.max() >= len(spec.class_names))):
            raise DatasetError(
                f"{source}: y_{split} should hold {count(len(x), 'label')} in 0..{len(spec.class_names) - 1};"
                f" found {count(len(y), 'label')}."
            )
        images[split], labels[split] = x, y.astype(np.int64)
    most, notes = most_test_images(spec.image_shape), ()
    if len(images["test"]) > most:  # the official splits hold 10,000; a bundle's atlas holds no more
        notes = (f"{spec.name}: the first {most:,} of its {len(images['test']):,} test images are the test set.",)
        images["test"], labels["test"] = images["test"][:most], labels["test"][:most]
    return Dataset(
        spec.name, images["train"], labels["train"], images["test"], labels["test"], spec.class_names, source, notes
    )


def _unavailable_message(name: str, tried: list[str]) -> str:
    lines = "\n".join(f"  - {entry}" for entry in tried)
    return (
        f"Dataset {name!r} is not available. Looked in, in order:\n{lines}\n"
        f"To fix: put {name}.npz (keras.datasets layout: x_train, y_train, x_test, y_test) in a folder"
        f" and set {DATA_DIR_ENV} to that folder, or run once with network access so"
        f" keras.datasets.{name}.load_data() can download it into {keras_home() / 'datasets'}."
    )


def as_intensities(images: np.ndarray) -> np.ndarray:
    """float32 intensities in [0, 1]: uint8 images are divided by 255, floats pass unchanged."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255.0
    return images.astype(np.float32, copy=False)


def as_uint8(images: np.ndarray) -> np.ndarray:
    """Intensities in [0, 1] (or uint8, unchanged) as uint8 of the same shape: `as_intensities` undone."""
    images = np.asarray(images)
    return images if images.dtype == np.uint8 else np.clip(np.round(images * 255.0), 0, 255).astype(np.uint8)
