"""A user's own images: a Kaggle-style CSV or an .npz, checked cell by cell before training.

CSV: an optional header, then one image a row: an optional `label` column and k*k (grayscale) or
3*k*k (RGB, channels last) pixel columns with values 0-255, e.g. Kaggle's `label,pixel0..pixel783`.
NPZ: an array `x` of shape (n, h, w), (n, h, w, 1 or 3) or (n, pixels), uint8 or floats in [0, 1],
and an optional `y` of n non-negative integer labels; both are checked from their .npy headers, and
refused past `size_limits.unpack_cap` of the file's size, before either is read.
Every rejection is a `DatasetError` saying what is wrong and where (line and column, or index).
A file of 2 images trains (one to train on, one to test with). The test split, which becomes the
atlas, holds no more than an atlas may (`size_limits.most_test_images`); while it holds fewer than
10 images, the dataset carries a note that the atlas the pages draw from it will be tiny.
"""

from __future__ import annotations

import csv
import io
import math
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas

from vae_core.data.datasets import Dataset, DatasetError, held_out_split
from vae_core.size_limits import UNPACK_RULE, array_bytes, most_test_images, npz_headers, unpack_cap
from vae_core.wording import count

MIN_IMAGES = 2  # one to train on and one to test with
SMALL_TEST_SET = 10  # fewer test images than this make an atlas too small to show much
LABEL_COLUMN = "label"
SLICE_VALUES = 1 << 18  # pixels judged at once: 2 MB as float64


def load_user_dataset(data: bytes, filename: str, test_fraction: float = 0.1, seed: int = 0) -> Dataset:
    """Parse an uploaded CSV or .npz and split it into train and test images (seeded shuffle)."""
    parsers = {".csv": parse_csv, ".npz": parse_npz}
    suffix = Path(filename).suffix.lower()
    if suffix not in parsers:
        raise DatasetError(f"{filename}: expected a .csv or .npz file, got {suffix or 'no extension'!r}.")
    try:
        images, labels = parsers[suffix](data)
    except DatasetError as error:
        raise DatasetError(f"{filename}: {error}") from error
    if len(images) < MIN_IMAGES:
        raise DatasetError(
            f"{filename}: holds {count(len(images), 'image')}; at least {MIN_IMAGES} are needed, one to train on"
            " and one to test with. Add images to the file."
        )
    most = min(most_test_images(images.shape[1:]), len(images) - 1)  # no more than an atlas may hold
    test, train = held_out_split(len(images), test_fraction, seed, most)
    class_names = None if labels is None else tuple(str(c) for c in range(int(labels.max()) + 1))
    return Dataset(
        name=Path(filename).stem,
        x_train=images[train],
        y_train=None if labels is None else labels[train],
        x_test=images[test],
        y_test=None if labels is None else labels[test],
        class_names=class_names,
        source=f"uploaded file {filename}",
        notes=_small_test_set_notes(filename, len(images), len(test), test_fraction),
    )


def _small_test_set_notes(filename: str, n_images: int, n_test: int, test_fraction: float) -> tuple[str, ...]:
    """A warning when the test split, which Explore, Generate and Encode draw, will be tiny."""
    if n_test >= SMALL_TEST_SET:
        return ()
    enough = math.ceil(SMALL_TEST_SET / test_fraction)
    return (
        f"{filename} holds {count(n_images, 'image')}, so only {n_test} will be held out as the test set that"
        f" Explore, Generate and Encode show: the atlas will be tiny. With {enough} images or more it holds at"
        f" least {SMALL_TEST_SET}.",
    )


def image_shape_for(pixels: int) -> tuple[int, int, int]:
    """(k, k, 1) when `pixels` is k*k, (k, k, 3) when it is 3*k*k; anything else is an error."""
    for channels in (1, 3):
        side = math.isqrt(pixels // channels)
        if pixels % channels == 0 and side * side * channels == pixels and side >= 8:
            return side, side, channels
    raise DatasetError(
        f"{pixels} pixel values per image do not make a square image: expected k*k (grayscale, e.g. 784 for"
        f" 28x28) or 3*k*k (RGB, e.g. 3072 for 32x32x3), with k >= 8."
    )


def parse_csv(data: bytes) -> tuple[np.ndarray, np.ndarray | None]:
    """Images (n, k, k, c) uint8 and labels (n,) int64 or None from CSV bytes."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DatasetError(f"The CSV is not UTF-8 text (byte {error.start} cannot be decoded).") from error
    rows = csv.reader(io.StringIO(text))
    first = next(rows, None)
    if first is None or not any(cell.strip() for cell in first):
        raise DatasetError(
            "The CSV is empty: expected a header like 'label,pixel0,...,pixel783' and one row per image."
        )
    has_header = not _is_number(first[0])
    names = [cell.strip() for cell in first] if has_header else [f"column {i + 1}" for i in range(len(first))]
    label_index = next((i for i, n in enumerate(names) if n.lower() == LABEL_COLUMN), None)
    if not has_header and len(first) > 1 and _is_image_size(len(first) - 1) and not _is_image_size(len(first)):
        label_index = 0  # headerless Kaggle layout: label first, then k*k or 3*k*k pixels
    shape = image_shape_for(len(names) - (label_index is not None))
    values = _read_numbers(text, names, skip_header=has_header)
    first_data_line = 2 if has_header else 1
    if len(values) == 0:
        raise DatasetError("The CSV has a header but no rows of data.")
    if values.shape[1] != len(names):
        raise DatasetError(
            f"Line {first_data_line} has {count(values.shape[1], 'column')}; the first line has {len(names)}."
        )
    pixels = _as_bytes(values, lambda r, c: f"Line {r + first_data_line}, column {names[c]!r}", label_index)
    labels = None
    if label_index is not None:
        labels = _checked_labels(
            values[:, label_index], lambda r: f"Line {r + first_data_line}, column {LABEL_COLUMN!r}"
        )
        pixels = np.delete(pixels, label_index, axis=1)
    return pixels.reshape(-1, *shape), labels


def parse_npz(data: bytes) -> tuple[np.ndarray, np.ndarray | None]:
    """Images (n, h, w, c) uint8 and labels (n,) int64 or None from .npz bytes; the arrays are
    checked from their headers before they are read, and a uint8 `x` is kept as it is."""
    shape, has_labels = _checked_headers(data)
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            x = archive["x"].reshape(shape)
            y = archive["y"] if has_labels else None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise DatasetError(f"The file is not a readable .npz archive ({error}).") from error
    labels = None if y is None else _checked_labels(y.astype(np.float64), lambda r: f"'y' index {r}")
    return _as_pixels(x), labels


def _checked_headers(data: bytes) -> tuple[tuple[int, ...], bool]:
    """The (n, h, w, c) shape of `x` and whether a `y` comes with it, read from their headers and
    checked (numbers, one label per image, unpacking within `unpack_cap` of the file's size) before
    either is read: `np.load` allocates what a header claims, however small the file."""
    if not data:
        raise DatasetError("The .npz file is empty.")
    if not data.startswith(b"PK"):
        raise DatasetError("The file is not an .npz archive (it does not start like a zip file).")
    try:
        headers = npz_headers(io.BytesIO(data))
    except ValueError as error:
        raise DatasetError(f"The file is not a readable .npz archive ({error}).") from error
    if "x" not in headers:
        raise DatasetError(f"The .npz has no array 'x' (images); it has {sorted(headers)}.")
    arrays = {name: headers[name] for name in ("x", "y") if name in headers}  # what is read; the rest is not
    if any(dtype.hasobject for _, dtype in arrays.values()):
        raise DatasetError("The .npz holds Python objects; save plain numeric arrays (np.savez).")
    if arrays["x"][1].kind not in "biuf":
        raise DatasetError(f"'x' should hold numbers; found dtype {arrays['x'][1]}.")
    shape = _image_shape(arrays["x"][0])
    if "y" in arrays and arrays["y"][1].kind not in "iuf":
        raise DatasetError(f"'y' should hold integer labels; found dtype {arrays['y'][1]}.")
    if "y" in arrays and arrays["y"][0] != shape[:1]:
        raise DatasetError(f"'y' should be {count(shape[0], 'label')}, one per image; found shape {arrays['y'][0]}.")
    unpacked, cap = sum(array_bytes(header) for header in arrays.values()), unpack_cap(len(data))
    if unpacked > cap:
        raise DatasetError(
            f"its arrays unpack to {unpacked / 2**20:.0f} MB, more than the {cap // 2**20} MB a file of this size may"
            f" unpack to ({UNPACK_RULE}). Save it uncompressed (np.savez), or with fewer images."
        )
    return shape, "y" in arrays


def _image_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """(n, h, w, c) for an `x` of `shape` (n, h, w), (n, h, w, 1 or 3) or (n, pixels), else an error."""
    if len(shape) == 2:
        shape = (shape[0], *image_shape_for(shape[1]))
    elif len(shape) == 3:
        shape = (*shape, 1)
    if len(shape) != 4 or shape[3] not in (1, 3) or math.prod(shape) == 0:
        raise DatasetError(
            f"'x' should have shape (n, h, w), (n, h, w, 1 or 3) or (n, pixels) with n >= 1; found {shape}."
        )
    return shape


def _as_pixels(x: np.ndarray) -> np.ndarray:
    """`x` as uint8 pixels: values all in [0, 1] are intensities (x 255), any others must be whole
    numbers in 0-255. Judged in float64 a slice at a time, so `x` is never copied whole into a wider
    type, and uint8 beyond 0-1 is returned as it is."""
    low, high = x.min(), x.max()  # NaN in floats makes both NaN: neither intensities nor bytes
    scale = 255.0 if 0 <= low and high <= 1 else 1.0
    if x.dtype == np.uint8 and scale == 1.0:
        return x
    flat = x.reshape(len(x), -1)
    pixels = np.empty(flat.shape, np.uint8)
    rows = max(1, SLICE_VALUES // flat.shape[1])
    for start in range(0, len(flat), rows):
        values = flat[start : start + rows].astype(np.float64)
        if scale != 1.0:
            np.round(np.multiply(values, scale, out=values), out=values)
        pixels[start : start + rows] = _as_bytes(values, lambda r, c, first=start: f"'x' image {r + first}, pixel {c}")
    return pixels.reshape(x.shape)


def _is_number(cell: str) -> bool:
    return _parses(float, cell, ValueError)


def _is_image_size(pixels: int) -> bool:
    return _parses(image_shape_for, pixels, DatasetError)


def _parses(parse: Callable[[Any], object], value: Any, error: type[Exception]) -> bool:
    """Whether `parse(value)` returns rather than raising `error`."""
    try:
        parse(value)
    except error:
        return False
    return True


def _read_numbers(text: str, names: list[str], skip_header: bool) -> np.ndarray:
    """All cells as numbers (n, columns): pandas's parser for a clean file, numpy's and a scan to place any error."""
    clean = _clean_numbers(text, skip_header)
    if clean is not None:
        return clean
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data": checked by the caller
            return np.loadtxt(
                io.StringIO(text), delimiter=",", quotechar='"', skiprows=int(skip_header), dtype=np.float64, ndmin=2
            )
    except ValueError:
        pass
    for line_number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if skip_header and line_number == 1 or not row:
            continue
        if len(row) != len(names):
            raise DatasetError(f"Line {line_number} has {count(len(row), 'column')}; the first line has {len(names)}.")
        for name, cell in zip(names, row, strict=True):
            if not _is_number(cell):
                raise DatasetError(f"Line {line_number}, column {name!r}: {cell.strip()!r} is not a number.")
    raise DatasetError("The CSV could not be parsed as numbers separated by commas.")


def _clean_numbers(text: str, skip_header: bool) -> np.ndarray | None:
    """Every cell as int64 or float64 when each row is whole and each cell a number, else None.

    pandas's C parser reads a Kaggle MNIST CSV several times faster than `np.loadtxt`, but it fills
    short rows and cells like "NA" with NaN and keeps text as objects: any of those sends the file
    to the slower path, which tells them apart and names the line and column.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pandas.errors.DtypeWarning)  # mixed columns: the slow path says where
            frame = pandas.read_csv(io.StringIO(text), header=None, skiprows=int(skip_header), index_col=False)
    except ValueError:  # pandas's ParserError and EmptyDataError are ValueErrors too
        return None
    values = frame.to_numpy()
    if values.dtype.kind not in "iuf" or values.dtype.kind == "f" and np.isnan(values).any():
        return None
    return values


def _as_bytes(values: np.ndarray, where: Callable[..., str], skip_column: int | None = None) -> np.ndarray:
    """`values` (n, columns) as uint8, or a `DatasetError` at the first that is not a whole number in 0-255."""
    with np.errstate(invalid="ignore"):  # NaN, infinities and values out of range cast to junk, caught below
        as_bytes = values.astype(np.uint8)
    bad = as_bytes != values  # only whole numbers in 0-255 come back unchanged
    if skip_column is not None:
        bad[:, skip_column] = False
    if bad.any():
        row, column = (int(i) for i in np.argwhere(bad)[0])
        raise DatasetError(f"{where(row, column)}: pixel value {values[row, column]:g} is not a whole number in 0-255.")
    return as_bytes


def _checked_labels(values: np.ndarray, where: Callable[..., str]) -> np.ndarray:
    bad = ~np.isfinite(values) | (values < 0) | (values != np.round(values)) | (values > 9999)
    if bad.any():
        row = int(np.argmax(bad))
        raise DatasetError(f"{where(row)}: label {values[row]:g} is not a whole number in 0-9999.")
    return values.astype(np.int64)
