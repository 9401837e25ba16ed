"""Uploads: every kind of bad picture is refused or converted with a message, never a traceback."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from vae_app.services.image_input import MAX_PIXELS, UPLOAD_EXTENSIONS, ImageRejected, open_user_image


def encoded(picture: Image.Image, image_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def digit(mode: str = "L", size: tuple[int, int] = (60, 80)) -> Image.Image:
    picture = Image.new("L", size, 255)
    picture.paste(0, (25, 10, 35, 70))
    return picture.convert(mode)


def noisy_photo() -> Image.Image:
    return Image.fromarray(np.random.default_rng(0).integers(0, 256, (200, 200), dtype=np.uint8))


@pytest.mark.parametrize("image_format", ["PNG", "JPEG", "BMP", "GIF", "WEBP", "TIFF"])
def test_supported_formats_open_without_notes(image_format):
    picture, notes = open_user_image(encoded(digit(), image_format))
    assert picture.size == (60, 80) and picture.mode in ("L", "RGB")
    assert notes == []


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "empty"),
        (b"this is text, not a picture", "not a picture"),
        (encoded(digit(), "PCX"), "PCX pictures are not supported. Upload PNG, JPEG, BMP, GIF, WebP, TIFF or ICO"),
        (encoded(noisy_photo(), "PNG")[:3000], "damaged or cut short"),
        (encoded(noisy_photo(), "JPEG")[:3000], "damaged or cut short"),
    ],
    ids=["empty", "not-an-image", "pcx", "truncated-png", "truncated-jpeg"],
)
def test_bad_files_are_refused_with_a_reason(data, expected):
    with pytest.raises(ImageRejected, match=expected):
        open_user_image(data)


def test_enormous_dimensions_are_refused_before_decoding():
    side = int(MAX_PIXELS**0.5) + 100
    data = encoded(Image.new("1", (side, side)), "PNG")  # 1-bit: a small file for a huge picture
    with pytest.raises(ImageRejected, match="too large"):
        open_user_image(data)


def test_animated_picture_uses_the_first_frame():
    frames = [digit(), Image.new("L", (60, 80), 128)]
    data = encoded(frames[0], "GIF", save_all=True, append_images=frames[1:])
    picture, notes = open_user_image(data)
    assert "animated (2 frames)" in notes[0]
    assert np.asarray(picture.convert("L"))[40, 30] < 50  # the stroke of the first frame


def test_sixteen_bit_levels_are_scaled_to_eight_bits():
    levels = (np.asarray(digit(), dtype=np.uint16) * 257).astype(np.uint16)
    picture, notes = open_user_image(encoded(Image.fromarray(levels), "PNG"))
    assert picture.mode == "L" and "16-bit" in notes[0]
    assert np.asarray(picture).max() == 255 and np.asarray(picture).min() == 0


def test_cmyk_is_converted_to_rgb():
    picture, notes = open_user_image(encoded(digit("CMYK"), "JPEG"))
    assert picture.mode == "RGB" and "CMYK" in notes[0]


def test_transparency_is_kept_and_noted():
    drawing = Image.new("RGBA", (60, 80), (0, 0, 0, 0))
    drawing.paste((0, 0, 0, 255), (25, 10, 35, 70))
    picture, notes = open_user_image(encoded(drawing, "PNG"))
    assert picture.mode == "RGBA" and "transparent" in notes[0]


def test_phone_photo_is_turned_upright_by_its_exif_orientation():
    stored = Image.new("L", (60, 80), 255)
    stored.paste(0, (0, 0, 20, 20))  # a dark corner at the stored picture's top left
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display", as phones held upright write it

    picture, notes = open_user_image(encoded(stored, "JPEG", exif=exif))

    assert picture.size == (80, 60) and notes == []
    upright = np.asarray(picture)
    assert upright[10, 70] < 50 and upright[10, 10] > 200  # the corner turned to the top right


def test_phone_jpeg_with_a_preview_frame_opens_upright_without_notes():
    """Many phones write MPO: a JPEG photo followed by a smaller preview, which Pillow sees as frame 2."""
    stored = Image.new("L", (60, 80), 255)
    stored.paste(0, (0, 0, 20, 20))
    exif = Image.Exif()
    exif[0x0112] = 6
    preview = stored.resize((30, 40))

    picture, notes = open_user_image(encoded(stored, "MPO", exif=exif, save_all=True, append_images=[preview]))

    assert picture.size == (80, 60) and notes == []
    assert np.asarray(picture)[10, 70] < 50


def test_multi_page_tiff_uses_the_first_page():
    pages = [digit(), Image.new("L", (60, 80), 128)]
    picture, notes = open_user_image(encoded(pages[0], "TIFF", save_all=True, append_images=pages[1:]))
    assert notes == ["The TIFF holds 2 pages; only the first page is used."]
    assert np.asarray(picture.convert("L"))[40, 30] < 50  # the stroke of the first page


def test_icon_file_opens_at_its_largest_size():
    picture, notes = open_user_image(encoded(digit(size=(64, 64)), "ICO", sizes=[(16, 16), (64, 64)]))
    assert picture.size == (64, 64) and notes == []
    assert np.asarray(picture.convert("L"))[40, 30] < 50


def test_uploader_accepts_every_usual_file_name_ending():
    assert {"png", "jpg", "jpeg", "bmp", "gif", "webp", "tif", "tiff", "ico"} <= set(UPLOAD_EXTENSIONS)
