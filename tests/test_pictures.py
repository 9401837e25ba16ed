"""Pictures for people: enlarged by whole factors without blur, downloaded as PNG."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from vae_app.pictures import SHEET_SIDE, decoded_pictures, enlarged, png_bytes, squared, to_uint8


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


def test_a_tall_picture_is_centred_on_a_square_of_its_background():
    tall = np.full((6, 2), 200, np.uint8)
    square = squared(tall, fill=0)
    assert square.shape == (6, 6)
    assert (square[:, 2:4] == 200).all() and (square[:, :2] == 0).all() and (square[:, 4:] == 0).all()
    assert squared(np.full((3, 3, 3), 9, np.uint8), fill=255).shape == (3, 3, 3)  # square already: unchanged


def test_colour_pictures_stay_colour():
    picture = np.random.default_rng(1).random((32, 32, 3)).astype(np.float32)
    with Image.open(io.BytesIO(png_bytes(picture, 64))) as saved:
        assert (saved.mode, saved.size) == ("RGB", (64, 64))
        assert np.array_equal(np.asarray(saved), enlarged(picture, 64))


@pytest.fixture(scope="module")
def colour_codec():
    from vae_core.config import ModelConfig
    from vae_core.model.codec import LatentCodec
    from vae_core.model.vae import build_vae

    config = ModelConfig(preset="mlp", latent_dim=3, hidden_sizes=(4,), image_shape=(64, 64, 3))
    return LatentCodec(build_vae(config, seed=0))


def test_batches_hold_a_bounded_number_of_bytes_and_give_what_one_batch_would(colour_codec, monkeypatch):
    import vae_core.model.codec

    images = np.random.default_rng(0).integers(0, 256, (40, 64, 64, 3), np.uint8)
    whole = colour_codec.encode(images)
    monkeypatch.setattr(vae_core.model.codec, "BATCH_BYTES", 10 * 64 * 64 * 3 * 4)  # ten pictures of float32
    sizes = [len(batch) for batch in colour_codec.decode_batches(np.zeros((25, 3)))]
    assert sizes == [10, 10, 5]
    for batched, unbatched in zip(colour_codec.encode(images), whole, strict=True):
        np.testing.assert_allclose(batched, unbatched, rtol=1e-5, atol=1e-6)


def test_decoded_pictures_are_thinned_to_fit_the_sheet_and_kept_as_bytes(colour_codec):
    z = np.random.default_rng(1).standard_normal((60, 3))
    few = decoded_pictures(colour_codec, z[:4], None, columns=4)  # 4 x 64 pixels fit in SHEET_SIDE
    assert few.dtype == np.uint8 and few.shape == (4, 64, 64, 3)
    np.testing.assert_array_equal(few, to_uint8(colour_codec.decode(z[:4])))
    many = decoded_pictures(colour_codec, z, None, columns=60)  # 60 x 64 pixels do not: every 2nd pixel
    assert many.shape == (60, 32, 32, 3) and 60 * 32 <= SHEET_SIDE
    np.testing.assert_array_equal(many[:4], few[:, ::2, ::2])
