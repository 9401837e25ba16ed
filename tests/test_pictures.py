"""Pictures for people: enlarged by whole factors without blur, downloaded as PNG."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from vae_app.pictures import enlarged, png_bytes, to_uint8


def test_floats_become_rounded_grey_levels_and_one_channel_is_dropped():
    image = np.array([[[0.0], [0.5]], [[1.0], [0.002]]], np.float32)
    assert to_uint8(image).tolist() == [[0, 128], [255, 1]]


def test_enlarging_repeats_each_pixel_as_a_square():
    image = np.arange(6, dtype=np.uint8).reshape(2, 3)
    big = enlarged(image, side=9)  # 9 // 3: each pixel becomes 3x3
    assert big.shape == (6, 9)
    assert np.array_equal(big[::3, ::3], image)
    assert np.array_equal(big[:3, :3], np.zeros((3, 3), np.uint8))


def test_png_bytes_decode_to_the_enlarged_picture():
    digit = np.random.default_rng(0).random((28, 28, 1)).astype(np.float32)
    with Image.open(io.BytesIO(png_bytes(digit, 224))) as saved:
        assert (saved.format, saved.mode, saved.size) == ("PNG", "L", (224, 224))
        assert np.array_equal(np.asarray(saved), enlarged(digit, 224))


def test_colour_pictures_stay_colour():
    picture = np.random.default_rng(1).random((32, 32, 3)).astype(np.float32)
    with Image.open(io.BytesIO(png_bytes(picture, 64))) as saved:
        assert (saved.mode, saved.size) == ("RGB", (64, 64))
        assert np.array_equal(np.asarray(saved), enlarged(picture, 64))
