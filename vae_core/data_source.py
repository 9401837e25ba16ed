"""One entry point for "the data named on the command line or in the form": built-in or a file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vae_core.datasets import SPECS, Dataset, DatasetError, load_dataset
from vae_core.user_data import load_user_dataset


@dataclass(frozen=True)
class DataSource:
    """Data to train on, not yet opened: a built-in dataset's name, or a .csv/.npz file's name and bytes.

    The app hands one to the training process, which opens it there: parsing a large upload takes
    memory that the app's server process would not give back to the system.
    """

    name: str
    data: bytes | None = None

    def open(self, seed: int = 0) -> Dataset:
        """Load the built-in dataset, or parse the file (its test split drawn with `seed`)."""
        if self.data is None:
            return load_dataset(self.name)
        return load_user_dataset(self.data, self.name, seed=seed)


def open_dataset(name_or_path: str, seed: int = 0) -> Dataset:
    """A built-in dataset by name (`mnist`, `fashion_mnist`, `cifar10`) or a user's .csv/.npz file."""
    if name_or_path in SPECS:
        return DataSource(name_or_path).open()
    path = Path(name_or_path)
    if path.suffix.lower() not in (".csv", ".npz"):
        raise DatasetError(f"Unknown dataset {name_or_path!r}: expected one of {sorted(SPECS)} or a .csv/.npz file.")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DatasetError(f"Cannot read {path}: {error.strerror}.") from error
    return DataSource(path.name, data).open(seed)
