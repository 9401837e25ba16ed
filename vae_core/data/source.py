"""One entry point for "the data named on the command line or in the form": built-in, a file, or a
folder of images (on this machine, or uploaded as a .zip)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from vae_core.config import ImageSettings
from vae_core.data.datasets import SPECS, Dataset, DatasetError, load_dataset
from vae_core.data.user_data import load_user_dataset

FILE_SUFFIXES = (".csv", ".npz")


@dataclass(frozen=True)
class DataSource:
    """Data to train on, not yet opened: a built-in dataset's name; an uploaded .csv, .npz or .zip
    (an image folder) by name and bytes; or an image folder on this machine.

    The app hands one to the training process, which opens it there: parsing a large upload takes
    memory that the app's server process would not give back to the system.
    """

    name: str
    data: bytes | None = None
    folder: Path | None = None
    images: ImageSettings = ImageSettings()

    def open(self, seed: int = 0, unpack_to: Path | None = None) -> Dataset:
        """Load or list the data (a file's test split drawn with `seed`); a .zip is unpacked into
        `unpack_to`, a folder the caller removes once training is over."""
        from vae_core.data.image_folder import open_image_folder  # reads images with Keras's PyDataset

        if self.folder is not None:
            return open_image_folder(self.folder, self.images, seed)
        if self.data is None:
            return load_dataset(self.name)
        if self.name.lower().endswith(".zip"):
            from vae_core.data.image_archive import unpack_images

            if unpack_to is None:
                raise ValueError("A zip archive needs a folder to be unpacked into.")
            folder = unpack_images(self.data, self.name, unpack_to)
            dataset = open_image_folder(folder, self.images, seed, name=Path(self.name).stem)
            return dataclasses.replace(dataset, source=f"image archive {self.name}")
        return load_user_dataset(self.data, self.name, seed=seed)


def named_source(name_or_path: str, images: ImageSettings = ImageSettings()) -> DataSource:
    """Data named on the command line, not yet opened: a built-in dataset by name (`mnist`,
    `fashion_mnist`, `cifar10`), a .csv/.npz file (read here), or a folder of images read as
    `images` says."""
    if name_or_path in SPECS:
        return DataSource(name_or_path)
    path = Path(name_or_path)
    if path.is_dir():
        return DataSource(path.name, folder=path, images=images)
    if path.suffix.lower() not in FILE_SUFFIXES:
        raise DatasetError(
            f"Unknown dataset {name_or_path!r}: expected one of {sorted(SPECS)}, a .csv/.npz file or an image folder."
        )
    try:
        return DataSource(path.name, path.read_bytes())
    except OSError as error:
        raise DatasetError(f"Cannot read {path}: {error.strerror}.") from error


def open_dataset(name_or_path: str, seed: int = 0, images: ImageSettings = ImageSettings()) -> Dataset:
    """The data `named_source` names, opened (a file's test split drawn with `seed`)."""
    return named_source(name_or_path, images).open(seed)
