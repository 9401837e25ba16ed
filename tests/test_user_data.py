"""A user's own CSV / .npz: good layouts parse exactly; every malformed file says what is wrong and where."""

from __future__ import annotations

import io
import re
import tracemalloc
from collections.abc import Callable

import numpy as np
import pytest
from synthetic import synthetic_images

from vae_core.data.datasets import DatasetError
from vae_core.data.source import open_dataset
from vae_core.data.user_data import load_user_dataset, parse_csv, parse_npz

KAGGLE_HEADER = "label," + ",".join(f"pixel{i}" for i in range(784))


def csv_bytes(images: np.ndarray, labels: np.ndarray | None, header: str | None = KAGGLE_HEADER) -> bytes:
    """One image a row, label first when given, the way Kaggle's MNIST CSVs are written."""
    rows = images.reshape(len(images), -1).astype(int).tolist()
    if labels is not None:
        rows = [[int(label), *row] for label, row in zip(labels, rows, strict=True)]
    lines = ([header] if header is not None else []) + [",".join(map(str, row)) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def kaggle_csv(n: int = 3) -> bytes:
    images, labels = synthetic_images(n)
    return csv_bytes(images, labels)


def with_cell(data: bytes, line: int, column: int, value: str) -> bytes:
    """`data` with the cell at 1-based `line`, 0-based `column` replaced."""
    lines = data.decode().splitlines()
    cells = lines[line - 1].split(",")
    cells[column] = value
    lines[line - 1] = ",".join(cells)
    return ("\n".join(lines) + "\n").encode()


# Good files


def test_kaggle_csv_layout():
    images, labels = synthetic_images(12)

    x, y = parse_csv(csv_bytes(images, labels))

    assert x.shape == (12, 28, 28, 1) and x.dtype == np.uint8
    np.testing.assert_array_equal(x, images)
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y, labels)


def test_headerless_csv_with_label_first():
    images, labels = synthetic_images(5)

    x, y = parse_csv(csv_bytes(images, labels, header=None))

    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)


@pytest.mark.parametrize("header", [",".join(f"pixel{i}" for i in range(784)), None], ids=["header", "headerless"])
def test_csv_without_label_column_is_unlabelled(header):
    images, _ = synthetic_images(4)

    x, y = parse_csv(csv_bytes(images, None, header=header))

    assert y is None
    np.testing.assert_array_equal(x, images)


def test_csv_label_column_need_not_be_first():
    images, labels = synthetic_images(3)
    header = ",".join(f"pixel{i}" for i in range(784)) + ",label"
    rows = [",".join(map(str, [*image.reshape(-1), label])) for image, label in zip(images, labels, strict=True)]

    x, y = parse_csv("\n".join([header, *rows]).encode())

    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)


def test_csv_with_byte_order_mark_and_windows_line_ends():
    data = kaggle_csv(3).decode().replace("\n", "\r\n")

    x, y = parse_csv("\ufeff".encode() + data.encode())

    assert x.shape == (3, 28, 28, 1) and y.shape == (3,)


RGB_HEADER = ",".join(["label", *(f"p{i}" for i in range(3072))])


@pytest.mark.parametrize("header", [RGB_HEADER, None], ids=["header", "headerless"])
def test_rgb_csv_with_3072_columns(header):
    images, labels = synthetic_images(3, shape=(32, 32, 3))

    x, y = parse_csv(csv_bytes(images, labels, header=header))

    assert x.shape == (3, 32, 32, 3)
    np.testing.assert_array_equal(x, images)  # channels last, as the columns are written
    np.testing.assert_array_equal(y, labels)


def test_npz_floats_in_unit_interval_are_scaled_to_bytes():
    x = np.array([0.0, 0.5, 1.0, 0.25]).repeat(196).reshape(1, 28, 28).repeat(2, axis=0)

    images, labels = parse_npz(npz_bytes(x=x))

    assert images.dtype == np.uint8 and images.shape == (2, 28, 28, 1)
    assert sorted(np.unique(images).tolist()) == [0, 64, 128, 255]
    assert labels is None


def test_npz_flat_images_are_reshaped():
    images, labels = synthetic_images(4)

    x, y = parse_npz(npz_bytes(x=images.reshape(4, 784), y=labels))

    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)


def test_npz_rgb_images_keep_their_channels():
    images, _ = synthetic_images(2, shape=(32, 32, 3))

    x, _ = parse_npz(npz_bytes(x=images))

    np.testing.assert_array_equal(x, images)


def test_load_user_dataset_splits_with_a_seed():
    images, labels = synthetic_images(40)
    data = csv_bytes(images, labels)

    first = load_user_dataset(data, "digits.csv", test_fraction=0.25, seed=3)
    again = load_user_dataset(data, "digits.csv", test_fraction=0.25, seed=3)
    other = load_user_dataset(data, "digits.csv", test_fraction=0.25, seed=4)

    assert (len(first.x_train), len(first.x_test)) == (30, 10)
    np.testing.assert_array_equal(first.x_test, again.x_test)
    np.testing.assert_array_equal(first.y_train, again.y_train)
    assert not np.array_equal(first.x_test, other.x_test)
    # Disjoint and complete: every image lands in exactly one split, with its own label.
    rows = {image.tobytes(): label for image, label in zip(images, labels, strict=True)}
    split_rows = [*first.x_train, *first.x_test]
    assert len({image.tobytes() for image in split_rows}) == 40 == len(rows)
    for x, y in ((first.x_train, first.y_train), (first.x_test, first.y_test)):
        assert all(rows[image.tobytes()] == label for image, label in zip(x, y, strict=True))
    assert first.name == "digits" and first.source == "uploaded file digits.csv"
    assert first.class_names == tuple(str(c) for c in range(int(labels.max()) + 1))


def test_load_user_dataset_unlabelled_npz():
    images, _ = synthetic_images(10)

    dataset = load_user_dataset(npz_bytes(x=images), "faces.NPZ")

    assert (len(dataset.x_train), len(dataset.x_test)) == (9, 1)
    assert dataset.y_train is None and dataset.y_test is None and dataset.class_names is None


@pytest.mark.parametrize("filename", ["tiny.csv", "tiny.npz"])
def test_three_images_load_with_a_warning_that_the_atlas_will_be_tiny(filename):
    images, labels = synthetic_images(3)
    data = kaggle_csv(3) if filename.endswith(".csv") else npz_bytes(x=images, y=labels)

    dataset = load_user_dataset(data, filename)

    assert (len(dataset.x_train), len(dataset.x_test)) == (2, 1)
    assert dataset.notes == (
        f"{filename} holds 3 images, so only 1 will be held out as the test set that Explore, Generate and"
        " Encode show: the atlas will be tiny. With 100 images or more it holds at least 10.",
    )


def test_a_hundred_images_load_without_notes():
    assert load_user_dataset(kaggle_csv(100), "digits.csv").notes == ()


def test_two_images_keep_one_for_training_whatever_the_test_fraction():
    dataset = load_user_dataset(kaggle_csv(2), "pair.csv", test_fraction=0.9)
    assert (len(dataset.x_train), len(dataset.x_test)) == (1, 1)


def test_a_single_image_is_refused():
    expected = "one.csv: holds 1 image; at least 2 are needed, one to train on and one to test with."
    with pytest.raises(DatasetError, match=f"^{re.escape(expected)}"):
        load_user_dataset(kaggle_csv(1), "one.csv")


def test_errors_are_prefixed_with_the_filename():
    with pytest.raises(DatasetError, match=r"^mine\.csv: Line 3, column 'pixel5'"):
        load_user_dataset(with_cell(kaggle_csv(12), 3, 6, "300"), "mine.csv")


# Malformed CSV


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "The CSV is empty"),
        (b"\n\n", "The CSV is empty"),
        (KAGGLE_HEADER.encode() + b"\n", "has a header but no rows of data"),
        (b"\xff\xfe" + b"label,pixel0\n", "The CSV is not UTF-8 text (byte 0"),
        (b"label,pixel0\xe9\n", "The CSV is not UTF-8 text (byte 12"),
    ],
    ids=["empty", "blank-lines", "header-only", "utf16-mark", "latin1"],
)
def test_csv_without_images(data, expected):
    with pytest.raises(DatasetError, match=re.escape(expected)):
        parse_csv(data)


def test_csv_row_with_wrong_column_count_names_the_line():
    lines = kaggle_csv(4).decode().splitlines()
    lines[3] += ",0"

    with pytest.raises(DatasetError, match="Line 4 has 786 columns; the first line has 785"):
        parse_csv("\n".join(lines).encode())


def test_csv_short_row_among_whole_ones_names_the_line():
    lines = kaggle_csv(4).decode().splitlines()
    lines[2] = lines[2].rsplit(",", 1)[0]

    with pytest.raises(DatasetError, match="Line 3 has 784 columns; the first line has 785"):
        parse_csv("\n".join(lines).encode())


def test_csv_row_of_one_cell_says_column_not_columns():
    lines = kaggle_csv(4).decode().splitlines()
    lines[2] = "7"

    with pytest.raises(DatasetError, match="Line 3 has 1 column; the first line has 785"):
        parse_csv("\n".join(lines).encode())


@pytest.mark.parametrize("value", ["NA", "", "null"])
def test_csv_missing_value_names_line_and_column(value):
    with pytest.raises(DatasetError, match=re.escape(f"Line 3, column 'pixel9': {value!r} is not a number")):
        parse_csv(with_cell(kaggle_csv(), 3, 10, value))


def test_clean_csv_is_read_without_the_slow_parser(monkeypatch):
    images, labels = synthetic_images(50)
    monkeypatch.setattr(np, "loadtxt", lambda *args, **kwargs: pytest.fail("the slow parser ran on a clean file"))

    x, y = parse_csv(csv_bytes(images, labels))

    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)


def test_csv_rows_all_shorter_than_the_header():
    images, _ = synthetic_images(3)

    with pytest.raises(DatasetError, match="Line 2 has 784 columns; the first line has 785"):
        parse_csv(csv_bytes(images, None, header=KAGGLE_HEADER))


def test_csv_non_numeric_cell_names_line_and_column():
    with pytest.raises(DatasetError, match=r"Line 3, column 'pixel9': 'abc' is not a number"):
        parse_csv(with_cell(kaggle_csv(), 3, 10, "abc"))


def test_headerless_csv_non_numeric_cell_names_column_number():
    images, labels = synthetic_images(3)

    with pytest.raises(DatasetError, match=r"Line 2, column 'column 5': 'x' is not a number"):
        parse_csv(with_cell(csv_bytes(images, labels, header=None), 2, 4, "x"))


@pytest.mark.parametrize("value", ["256", "-1", "12.5", "nan"])
def test_csv_pixel_out_of_range_names_line_and_column(value):
    expected = f"Line 4, column 'pixel100': pixel value {value} is not a whole number in 0-255"
    with pytest.raises(DatasetError, match=re.escape(expected)):
        parse_csv(with_cell(kaggle_csv(), 4, 101, value))


@pytest.mark.parametrize("value", ["-1", "2.5", "1e9"])
def test_csv_bad_label_names_line(value):
    expected = f"Line 2, column 'label': label {float(value):g} is not a whole number in 0-9999"
    with pytest.raises(DatasetError, match=re.escape(expected)):
        parse_csv(with_cell(kaggle_csv(), 2, 0, value))


def test_csv_pixel_count_that_is_not_a_square_image():
    header = ",".join(["label", *(f"pixel{i}" for i in range(783))])
    row = ",".join(["1", *["0"] * 783])

    with pytest.raises(DatasetError, match="783 pixel values per image do not make a square image: expected k[*]k"):
        parse_csv(f"{header}\n{row}\n".encode())


def test_tiny_images_are_rejected():
    header = ",".join(f"pixel{i}" for i in range(49))

    with pytest.raises(DatasetError, match="49 pixel values .* with k >= 8"):
        parse_csv(f"{header}\n{','.join(['0'] * 49)}\n".encode())


def test_unsupported_extension():
    with pytest.raises(DatasetError, match=r"^digits.txt: expected a .csv or .npz file, got '.txt'"):
        load_user_dataset(kaggle_csv(12), "digits.txt")


def test_no_extension():
    with pytest.raises(DatasetError, match="got 'no extension'"):
        load_user_dataset(kaggle_csv(12), "digits")


# Malformed .npz


def test_npz_empty_bytes():
    with pytest.raises(DatasetError, match=r"The \.npz file is empty"):
        parse_npz(b"")


def test_npz_that_is_not_a_zip():
    with pytest.raises(DatasetError, match="not an .npz archive"):
        parse_npz(kaggle_csv())


def test_npz_truncated():
    with pytest.raises(DatasetError, match="not a readable .npz archive"):
        parse_npz(npz_bytes(x=synthetic_images(20)[0])[:300])


def test_npz_without_x_lists_its_keys():
    with pytest.raises(DatasetError, match=r"no array 'x' \(images\); it has \['images', 'labels'\]"):
        parse_npz(npz_bytes(images=np.zeros((2, 28, 28)), labels=np.zeros(2)))


@pytest.mark.parametrize(
    "shape",
    [(3, 28, 28, 2), (3, 4, 28, 28, 1), (28,), (0, 28, 28), (5, 0, 0)],
    ids=["two-channels", "5d", "1d", "no-images", "zero-size"],
)
def test_npz_wrong_shape(shape):
    with pytest.raises(DatasetError, match=rf"'x' should have shape .*found \({shape[0]},"):
        parse_npz(npz_bytes(x=np.zeros(shape, np.uint8)))


def test_npz_flat_images_that_are_not_square():
    with pytest.raises(DatasetError, match="50 pixel values per image do not make a square image"):
        parse_npz(npz_bytes(x=np.zeros((3, 50), np.uint8)))


def test_npz_labels_length_mismatch():
    with pytest.raises(DatasetError, match=r"'y' should be 3 labels, one per image; found shape \(4,\)"):
        parse_npz(npz_bytes(x=np.zeros((3, 28, 28), np.uint8), y=np.zeros(4, np.int64)))


def test_npz_labels_must_be_whole_and_non_negative():
    with pytest.raises(DatasetError, match=r"'y' index 1: label -2 is not a whole number"):
        parse_npz(npz_bytes(x=np.zeros((3, 28, 28), np.uint8), y=np.array([0, -2, 1])))


def test_npz_nan_pixel_names_image_and_pixel():
    x = np.full((3, 28, 28), 7.0)
    x[2, 1, 3] = np.nan

    with pytest.raises(DatasetError, match=r"'x' image 2, pixel 31: pixel value nan is not a whole number in 0-255"):
        parse_npz(npz_bytes(x=x))


def test_npz_values_above_255():
    x = np.zeros((3, 28, 28), np.int32)
    x[1, 0, 5] = 300

    with pytest.raises(DatasetError, match=r"'x' image 1, pixel 5: pixel value 300 is not a whole number in 0-255"):
        parse_npz(npz_bytes(x=x))


def test_npz_object_arrays_are_refused_without_unpickling():
    buffer = io.BytesIO()
    np.savez(buffer, x=np.array([np.zeros((28, 28)), "not an image"], dtype=object), allow_pickle=True)

    with pytest.raises(DatasetError, match="holds Python objects; save plain numeric arrays"):
        parse_npz(buffer.getvalue())


def test_npz_string_images_are_refused():
    with pytest.raises(DatasetError, match="'x' should hold numbers; found dtype <U"):
        parse_npz(npz_bytes(x=np.array(["a", "b"])))


# Files that would unpack far past their size


def traced_peak(call: Callable[[], object]) -> int:
    """The most memory `call` held at once, in bytes, as tracemalloc sees numpy's allocations."""
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_an_npz_bomb_is_refused_from_its_headers_before_anything_is_read():
    buffer = io.BytesIO()
    np.savez_compressed(buffer, x=np.zeros((128_000, 28, 28), np.uint8))  # 100 MB of zeros in 95 KB
    bomb = buffer.getvalue()
    assert len(bomb) < 100_000
    expected = "bomb.npz: its arrays unpack to 96 MB, more than the 64 MB a file of this size may"

    def load() -> None:
        with pytest.raises(DatasetError, match=f"^{re.escape(expected)}"):
            load_user_dataset(bomb, "bomb.npz")

    assert traced_peak(load) < 2**20


@pytest.mark.parametrize("dtype", [np.uint8, np.float32], ids=["bytes", "floats"])
def test_parse_npz_holds_little_more_than_the_images(dtype):
    images, _ = synthetic_images(20_000)
    x = images if dtype == np.uint8 else images.astype(np.float32) / 255
    data, limit = npz_bytes(x=x), int(1.5 * x.nbytes)

    assert traced_peak(lambda: parse_npz(data)) < limit  # no copy of x in a wider type
    np.testing.assert_array_equal(parse_npz(data)[0], images)


def test_a_big_file_holds_out_no_more_test_images_than_an_atlas_takes():
    dataset = load_user_dataset(npz_bytes(x=np.zeros((110_000, 8, 8), np.uint8)), "many.npz")
    assert (len(dataset.x_test), len(dataset.x_train)) == (10_000, 100_000)


def test_the_test_split_is_held_to_the_atlas_bytes_too(monkeypatch):
    monkeypatch.setattr("vae_core.size_limits.MAX_TEST_BYTES", 5 * 28 * 28)
    dataset = load_user_dataset(kaggle_csv(100), "digits.csv")
    assert (len(dataset.x_test), len(dataset.x_train)) == (5, 95)


# open_dataset: a name or a file path


def test_open_dataset_reads_a_csv_path(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_bytes(kaggle_csv(20))

    dataset = open_dataset(str(path), seed=1)

    assert dataset.name == "mine" and dataset.source == "uploaded file mine.csv"
    assert (len(dataset.x_train), len(dataset.x_test)) == (18, 2)
    np.testing.assert_array_equal(dataset.x_test, open_dataset(str(path), seed=1).x_test)


def test_open_dataset_missing_file(tmp_path):
    path = tmp_path / "absent.npz"

    with pytest.raises(DatasetError, match=re.escape(f"Cannot read {path}: No such file or directory.")):
        open_dataset(str(path))


def test_open_dataset_unknown_name():
    with pytest.raises(
        DatasetError, match=r"Unknown dataset 'emnist': expected one of .*, a .csv/.npz file or an image folder"
    ):
        open_dataset("emnist")


def test_open_dataset_reports_the_file_in_parse_errors(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_bytes(b"")

    with pytest.raises(DatasetError, match=r"^broken.csv: The CSV is empty"):
        open_dataset(str(path))
