"""A folder of image files as a dataset that is read from disk batch by batch, not held in memory.

    ROOT/<class>/*.png|jpg|jpeg|bmp   labelled: one subfolder per class, named as the class
    ROOT/*.png|jpg|jpeg|bmp           unlabelled

Every image is turned upright as its EXIF orientation says, converted to grayscale or RGB and
resized to the chosen side, as `keras.utils.image_dataset_from_directory` does, but with Pillow and
a `keras.utils.PyDataset` (`vae_core.data.batches`): the one input pipeline that feeds `fit` on
TensorFlow, JAX and PyTorch alike without TensorFlow installed (tf.data needs it under every
backend), with worker threads that decode while the model trains. The held-out test split becomes
the atlas and is read into memory; training images never are.

A file that is not an image Pillow can open is left out when the folder is listed, and counted; one
that opens but fails to decode during training (a truncated file) is replaced in its batch by
another image of that batch, so batch shapes never change, and counted in `FileBatches.unreadable`.
"""

from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from vae_core.config import ImageSettings
from vae_core.data.batches import Share, ShuffledBatches
from vae_core.data.datasets import Dataset, DatasetError, held_out_split
from vae_core.size_limits import most_test_images
from vae_core.wording import count

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
TEST_FRACTION = 0.1
# Training images read to fit the 5-NN label classifier, in the training process (not the server).
KNN_IMAGES, KNN_BYTES = 10_000, 256 * 2**20
READ_THREADS = min(8, os.cpu_count() or 1)
FORMATS = ("PNG", "JPEG", "BMP")  # what Pillow may decode, whatever else it knows: files are untrusted
# Far past anything this app resizes to (a 24-megapixel photo is 4000 x 6000), and refused before
# it is decoded, so a small compressed file cannot make every reading thread hold gigabytes.
MAX_IMAGE_PIXELS = 24_000_000


class ImageFiles:
    """Image files to be read as uint8 arrays (n, side, side, channels): a lazy stand-in for an
    array of images, which indexes like one and reads only when `read` is called."""

    def __init__(self, paths: tuple[str, ...], image_shape: tuple[int, int, int]) -> None:
        self.paths, self.image_shape = paths, image_shape

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.paths), *self.image_shape)

    def __getitem__(self, index: slice | np.ndarray) -> ImageFiles:
        chosen = self.paths[index] if isinstance(index, slice) else tuple(self.paths[i] for i in np.asarray(index))
        return ImageFiles(chosen, self.image_shape)

    def read(self, threads: int = READ_THREADS) -> tuple[np.ndarray, np.ndarray]:
        """(images, readable): every image, read and resized in `threads` threads (Pillow decodes
        without the GIL), and which of them could be; those that could not are left black."""
        images, readable = np.zeros(self.shape, np.uint8), np.zeros(len(self), bool)
        with ThreadPoolExecutor(threads) as pool:
            for index, image in enumerate(pool.map(self._read_or_none, self.paths)):
                if image is not None:
                    images[index], readable[index] = image, True
        return images, readable

    def _read_or_none(self, path: str) -> np.ndarray | None:
        try:
            return read_image(path, self.image_shape)
        except Exception:  # an untrusted file fails in many ways (truncated, bad chunk, bad EXIF)
            return None


def read_image(path: str | Path, image_shape: tuple[int, int, int]) -> np.ndarray:
    """One image file as uint8 (side, side, channels): upright, grayscale or RGB, resized."""
    height, width, channels = image_shape
    mode = "L" if channels == 1 else "RGB"
    with Image.open(path, formats=FORMATS) as image:
        if image.width * image.height > MAX_IMAGE_PIXELS:
            raise UnreadableImage(f"{image.width}x{image.height} pixels is more than this app reads")
        image.draft(mode, (width, height))  # a JPEG decodes straight at a fraction of its size
        image = ImageOps.exif_transpose(image).convert(mode)
        pixels = np.asarray(image.resize((width, height), Image.Resampling.BILINEAR), np.uint8)
    return pixels.reshape(image_shape)


def stand_in(images: np.ndarray, readable: np.ndarray) -> np.ndarray:
    """Which row to use for each: itself where it was read, else the first that was."""
    if not readable.any():
        raise UnreadableImage("none of these images could be read")
    return np.where(readable, np.arange(len(readable)), np.flatnonzero(readable)[0])


class UnreadableImage(ValueError):
    """An image file Pillow cannot open, or one too large to decode."""


class FileBatches(ShuffledBatches):
    """Batches of `fit` inputs read from image files: intensities in [0, 1], with the labels one-hot
    over `classes` where a conditional model takes `labels`. Reshuffled after every epoch when asked.

    Reading runs in Keras's worker threads, several batches ahead of the training step. An image
    that fails to decode is replaced by another of its batch (shapes never change), or by the first
    file that reads where none of the batch does, and counted.
    """

    def __init__(
        self,
        files: ImageFiles,
        labels: np.ndarray | None,
        classes: int,
        batch_size: int,
        shuffle_seed: int | None = None,
        share: Share = Share(),
    ) -> None:
        self.files, self.labels, self.classes = files, labels, classes
        self.unreadable: set[str] = set()
        self._lock = threading.Lock()
        self._spare_row, self._spare_image = 0, None  # the first readable file, once one was needed
        super().__init__(len(files), batch_size, shuffle_seed, share, workers=READ_THREADS)

    def _spare(self, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows, images, readable): `size` copies of the first file that reads, found once."""
        with self._lock:
            if self._spare_image is None:
                for row in range(len(self.files)):
                    image, readable = self.files[[row]].read(threads=1)
                    if readable[0]:
                        self._spare_row, self._spare_image = row, image
                        break
                else:
                    raise UnreadableImage("none of these images could be read")
        return np.full(size, self._spare_row), np.repeat(self._spare_image, size, axis=0), np.ones(size, bool)

    def batch_of(self, rows: np.ndarray) -> np.ndarray | tuple[tuple[np.ndarray, np.ndarray]]:
        images, readable = self.files[rows].read(threads=1)  # Keras's workers read batches side by side
        with self._lock:
            self.unreadable.update(self.files.paths[row] for row in rows[~readable])
        if not readable.any():  # a small share of a batch can be all damaged files
            rows, images, readable = self._spare(len(rows))
        chosen = stand_in(images, readable)
        x = images[chosen].astype(np.float32) / 255.0
        if self.labels is None:
            return x
        return ((x, np.eye(self.classes, dtype=np.float32)[self.labels[rows[chosen]]]),)


def open_image_folder(root: Path, images: ImageSettings, seed: int = 0, name: str | None = None) -> Dataset:
    """The folder as a dataset whose training images are `ImageFiles`, and whose test split is read;
    `name` is what messages call it (an unpacked upload's folder has a temporary name)."""
    root = Path(root)
    name = name or root.resolve().name
    if not root.is_dir():
        raise DatasetError(f"{name} is not a folder.")
    try:
        paths, labels, class_names = _listed(root)
    except OSError as error:
        raise DatasetError(f"{name} cannot be read ({error.strerror or type(error).__name__}).") from None
    openable = _openable(paths)
    paths, labels = [p for p, ok in zip(paths, openable, strict=True) if ok], labels[openable]
    too_few = DatasetError(
        f"{name} holds {count(len(paths), 'readable image')} (PNG, JPEG or BMP); at least 2 are needed, one to"
        " train on and one to test with."
    )
    if len(paths) < 2:
        raise too_few
    # The test split is the atlas, read into memory: no more than a bundle's atlas may hold.
    most = min(most_test_images(images.image_shape), len(paths) - 1)
    test, train = held_out_split(len(paths), TEST_FRACTION, seed, most)
    files = ImageFiles(tuple(paths), images.image_shape)
    x_test, read = files[test].read()  # the atlas keeps only the images that decode in full
    if not read.any():
        raise too_few
    test, left_out = test[read], len(openable) - len(train) - int(read.sum())
    notes = (f"Left out {count(left_out, 'file')} of {name} that could not be read as images.",) if left_out else ()
    return Dataset(
        name=name,
        x_train=files[train],
        y_train=None if class_names is None else labels[train],
        x_test=x_test[read],
        y_test=None if class_names is None else labels[test],
        class_names=class_names,
        source=f"image folder {name}",
        notes=notes,
    )


def _listed(root: Path) -> tuple[list[str], np.ndarray, tuple[str, ...] | None]:
    """Image paths under `root` and their labels: by subfolder where there are subfolders of
    images, else every image directly in `root`, unlabelled. Links are not followed."""
    folders = sorted((e for e in os.scandir(root) if e.is_dir(follow_symlinks=False)), key=lambda e: e.name)
    by_class = [(entry.name, _images_in(Path(entry.path))) for entry in folders if not entry.name.startswith(".")]
    by_class = [(name, images) for name, images in by_class if images]
    if by_class:
        paths = [path for _, images in by_class for path in images]
        labels = np.concatenate([np.full(len(images), label) for label, (_, images) in enumerate(by_class)])
        return paths, labels.astype(np.int64), tuple(name for name, _ in by_class)
    paths = _images_in(root)
    return paths, np.zeros(len(paths), np.int64), None


def _images_in(folder: Path) -> list[str]:
    return sorted(
        entry.path
        for entry in os.scandir(folder)
        if entry.is_file(follow_symlinks=False)
        and not entry.name.startswith(".")
        and entry.name.lower().endswith(IMAGE_SUFFIXES)
    )


def _openable(paths: list[str]) -> np.ndarray:
    """Which files Pillow opens as PNG, JPEG or BMP of a size it may decode, from their headers
    (fast: nothing is decoded)."""

    def openable(path: str) -> bool:
        try:
            with Image.open(path, formats=FORMATS) as image:
                return image.width * image.height <= MAX_IMAGE_PIXELS
        except Exception:  # an untrusted file fails in many ways
            return False

    with ThreadPoolExecutor(READ_THREADS) as pool:
        return np.fromiter(pool.map(openable, paths), bool, len(paths))


def knn_sample(dataset: Dataset, classes: int) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Training images and labels to fit the 5-NN classifier on: all of an in-memory dataset's; of
    an image folder, the first `KNN_IMAGES` (at most `KNN_BYTES`) that decode. None for
    unlabelled data and for a conditional model (of `classes`), which get no 5-NN accuracy."""
    if dataset.y_train is None or classes:
        return None, None
    if not isinstance(dataset.x_train, ImageFiles):
        return dataset.x_train, dataset.y_train
    most = min(KNN_IMAGES, KNN_BYTES // math.prod(dataset.x_train.image_shape))
    images, readable = dataset.x_train[:most].read()
    return images[readable], dataset.y_train[:most][readable]
