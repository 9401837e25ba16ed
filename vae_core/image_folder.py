"""A folder of image files as a dataset that is read from disk batch by batch, not held in memory.

    ROOT/<class>/*.png|jpg|jpeg|bmp   labelled: one subfolder per class, named as the class
    ROOT/*.png|jpg|jpeg|bmp           unlabelled

Every image is turned upright as its EXIF orientation says, converted to grayscale or RGB and
resized to the chosen side, as `keras.utils.image_dataset_from_directory` does, but with Pillow and
a `keras.utils.PyDataset`: the one input pipeline that feeds `fit` on TensorFlow, JAX and PyTorch
alike without TensorFlow installed (tf.data needs it under every backend), with worker threads that
decode while the model trains. The held-out test split becomes the atlas and is read into memory;
training images never are.

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

import keras
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from vae_core.config import ImageSettings
from vae_core.datasets import Dataset, DatasetError
from vae_core.wording import count

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
TEST_FRACTION = 0.1
# The test split is the atlas, which every page draws from, so it is read into memory: at most
# 10,000 images and 256 MB (1,365 RGB images of 256 x 256).
MAX_TEST_IMAGES, MAX_TEST_BYTES = 10_000, 256 * 2**20
KNN_IMAGES = 10_000  # training images read to fit the 5-NN label classifier
READ_THREADS = min(8, os.cpu_count() or 1)
# Pillow's own guard against decompression bombs, made an error: a 64-megapixel image is far past
# anything this app resizes to, and is refused before it is decoded.
MAX_IMAGE_PIXELS = 64_000_000


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

    def read(self) -> np.ndarray:
        """Every image, read and resized in worker threads (Pillow decodes without the GIL)."""
        images = np.empty(self.shape, np.uint8)
        with ThreadPoolExecutor(READ_THREADS) as pool:
            for index, image in enumerate(pool.map(lambda path: read_image(path, self.image_shape), self.paths)):
                images[index] = image
        return images


def read_image(path: str | Path, image_shape: tuple[int, int, int]) -> np.ndarray:
    """One image file as uint8 (side, side, channels): upright, grayscale or RGB, resized."""
    height, width, channels = image_shape
    with Image.open(path) as image:
        if image.width * image.height > MAX_IMAGE_PIXELS:
            raise UnreadableImage(f"{image.width}x{image.height} pixels is more than this app reads")
        image = ImageOps.exif_transpose(image).convert("L" if channels == 1 else "RGB")
        pixels = np.asarray(image.resize((width, height), Image.Resampling.BILINEAR), np.uint8)
    return pixels.reshape(image_shape)


class UnreadableImage(ValueError):
    """An image file Pillow cannot open, or one too large to decode."""


class FileBatches(keras.utils.PyDataset):
    """Batches of `fit` inputs read from image files: intensities in [0, 1], with the one-hot labels
    a conditional model takes where `conditions` is given. Reshuffled after every epoch when asked.

    Reading runs in Keras's worker threads, several batches ahead of the training step.
    """

    def __init__(
        self,
        files: ImageFiles,
        conditions: np.ndarray | None,
        batch_size: int,
        shuffle_seed: int | None = None,
    ) -> None:
        super().__init__(workers=READ_THREADS, use_multiprocessing=False, max_queue_size=2 * READ_THREADS)
        self.files, self.conditions, self.batch_size = files, conditions, batch_size
        self.unreadable: set[str] = set()
        self._lock = threading.Lock()
        self.rng = None if shuffle_seed is None else np.random.default_rng(shuffle_seed)
        self.order = np.arange(len(files))
        self.on_epoch_end()

    def __len__(self) -> int:
        return math.ceil(len(self.files) / self.batch_size)

    def __getitem__(self, index: int) -> np.ndarray | tuple[tuple[np.ndarray, np.ndarray]]:
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        images, read = np.empty((len(rows), *self.files.image_shape), np.uint8), np.zeros(len(rows), bool)
        for slot, row in enumerate(rows):
            try:
                images[slot], read[slot] = read_image(self.files.paths[row], self.files.image_shape), True
            except (OSError, ValueError, Image.DecompressionBombError):  # truncated or damaged since listed
                with self._lock:
                    self.unreadable.add(self.files.paths[row])
        if not read.any():
            raise UnreadableImage(f"no image of batch {index} could be read")
        stand_ins = np.where(read, np.arange(len(rows)), np.flatnonzero(read)[0])  # the batch's first readable
        rows, images = rows[stand_ins], images[stand_ins]
        x = images.astype(np.float32) / 255.0
        # A pair would read as (inputs, targets): a conditional model's two inputs go as one element.
        return x if self.conditions is None else ((x, self.conditions[rows]),)

    def on_epoch_end(self) -> None:
        if self.rng is not None:
            self.order = self.rng.permutation(len(self.files))


def open_image_folder(root: Path, images: ImageSettings, seed: int = 0) -> Dataset:
    """The folder as a dataset whose training images are `ImageFiles`; its test split, read."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root.name or root} is not a folder.")
    paths, labels, class_names = _listed(root)
    readable = _openable(paths)
    skipped = len(paths) - int(readable.sum())
    paths, labels = [p for p, ok in zip(paths, readable, strict=True) if ok], labels[readable]
    if len(paths) < 2:
        raise DatasetError(
            f"{root.name} holds {count(len(paths), 'readable image')} (PNG, JPEG or BMP); at least 2 are needed,"
            " one to train on and one to test with."
        )
    order = np.random.default_rng(seed).permutation(len(paths))
    most = min(MAX_TEST_IMAGES, MAX_TEST_BYTES // math.prod(images.image_shape), len(paths) - 1)
    n_test = min(max(1, round(len(paths) * TEST_FRACTION)), most)
    test, train = order[:n_test], order[n_test:]
    files = ImageFiles(tuple(paths), images.image_shape)
    unread = f"{count(skipped, 'file')} in {root.name} could not be read as images and were left out."
    notes = (unread,) if skipped else ()
    return Dataset(
        name=root.name,
        x_train=files[train],
        y_train=None if class_names is None else labels[train],
        x_test=files[test].read(),
        y_test=None if class_names is None else labels[test],
        class_names=class_names,
        source=f"image folder {root.name}",
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
    """Which files Pillow recognises as images, from their headers (fast: nothing is decoded)."""

    def openable(path: str) -> bool:
        try:
            with Image.open(path) as image:
                return image.width * image.height <= MAX_IMAGE_PIXELS
        except (OSError, UnidentifiedImageError, Image.DecompressionBombError):
            return False

    with ThreadPoolExecutor(READ_THREADS) as pool:
        return np.fromiter(pool.map(openable, paths), bool, len(paths))


def in_memory(images: np.ndarray | ImageFiles, most: int = KNN_IMAGES) -> np.ndarray:
    """`images` as an array: an in-memory one as it is, image files read (the first `most`)."""
    return images[:most].read() if isinstance(images, ImageFiles) else images
