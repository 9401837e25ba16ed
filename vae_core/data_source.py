"""One entry point for "the data named on the command line or in the form": built-in or a file."""

from __future__ import annotations

from pathlib import Path

from vae_core.datasets import SPECS, Dataset, DatasetError, load_dataset
from vae_core.user_data import load_user_dataset


def open_dataset(name_or_path: str, seed: int = 0) -> Dataset:
    """A built-in dataset by name (`mnist`, `fashion_mnist`, `cifar10`) or a user's .csv/.npz file."""
    if name_or_path in SPECS:
        return load_dataset(name_or_path)
    path = Path(name_or_path)
    if path.suffix.lower() not in (".csv", ".npz"):
        raise DatasetError(f"Unknown dataset {name_or_path!r}: expected one of {sorted(SPECS)} or a .csv/.npz file.")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DatasetError(f"Cannot read {path}: {error.strerror}.") from error
    return load_user_dataset(data, path.name, seed=seed)
