"""The bounds uploads and bundles are held to: the unpacking rule, the test split's size, and .npy
headers read without reading the arrays."""

from __future__ import annotations

import io

import numpy as np
import pytest

from vae_core.size_limits import MAX_UNPACKED_BYTES, MIN_CAP_BYTES, most_test_images, npz_headers, unpack_cap


def test_an_upload_unpacks_to_twenty_times_its_size_within_the_floor_and_ceiling():
    assert unpack_cap(1000) == MIN_CAP_BYTES == 64 * 2**20
    assert unpack_cap(10 * 2**20) == 200 * 2**20
    assert unpack_cap(2**30) == MAX_UNPACKED_BYTES == 4 * 2**30


@pytest.mark.parametrize(
    ("image_shape", "most"),
    [((28, 28, 1), 10_000), ((32, 32, 3), 10_000), ((128, 128, 1), 4096), ((256, 256, 3), 341)],
    ids=["mnist", "cifar", "gray-128", "rgb-256"],
)
def test_a_test_split_holds_at_most_ten_thousand_images_and_64_mb(image_shape, most):
    assert most_test_images(image_shape) == most


def test_npz_headers_give_shapes_and_types_without_reading_the_arrays():
    buffer = io.BytesIO()
    np.savez_compressed(buffer, x=np.zeros((128_000, 28, 28), np.uint8), y=np.zeros(3, np.int64))
    headers = npz_headers(io.BytesIO(buffer.getvalue()))
    assert headers == {"x": ((128_000, 28, 28), np.dtype(np.uint8)), "y": ((3,), np.dtype(np.int64))}
    with pytest.raises(ValueError, match="BadZipFile"):
        npz_headers(io.BytesIO(b"PK not really a zip"))
