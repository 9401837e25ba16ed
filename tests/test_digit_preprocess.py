"""MNIST-style preprocessing: thin pen strokes on a large, unevenly lit photo become an MNIST digit."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from vae_app.services.digit_preprocess import EmptyDrawing, preprocess_digit


def photo_of(shape: str, stroke: int, size: tuple[int, int] = (1200, 1600)) -> Image.Image:
    """Dark pen on light paper, lit unevenly from one side, with sensor noise."""
    paper = Image.new("L", size, 235)
    pen = ImageDraw.Draw(paper)
    if shape == "seven":
        pen.line([(400, 500), (800, 500), (550, 1100)], fill=30, width=stroke)
    elif shape == "zero":
        pen.ellipse([(450, 450), (750, 1100)], outline=30, width=stroke)
    else:
        pen.line([(600, 450), (600, 1150)], fill=30, width=stroke)
    levels = np.asarray(paper, dtype=np.float64) + np.linspace(-30, 15, size[0])[None, :]
    levels += np.random.default_rng(0).normal(0, 4, levels.shape)
    return Image.fromarray(np.clip(levels, 0, 255).astype(np.uint8))


def test_every_step_is_returned_ending_in_a_28x28_image_in_unit_range():
    steps = preprocess_digit(photo_of("seven", 6))
    assert [s.title.split(",")[0].split(" ")[0] for s in steps][:2] == ["grayscale", "inverted"]
    final = steps[-1].image
    assert final.shape == (28, 28) and final.min() >= 0.0 and final.max() <= 1.0
    assert steps[-2].image.shape[0] <= 20 and steps[-2].image.shape[1] <= 20
    assert max(steps[-2].image.shape) == 20


@pytest.mark.parametrize("stroke", [3, 12, 60])
def test_ink_is_centred_by_mass_with_mnist_like_weight(stroke):
    final = preprocess_digit(photo_of("zero", stroke))[-1].image
    rows, columns = np.indices(final.shape)
    centre = ((rows * final).sum() / final.sum(), (columns * final).sum() / final.sum())
    assert abs(centre[0] - 14) < 1.0 and abs(centre[1] - 14) < 1.0
    assert final[0].max() == 0 and final[:, 0].max() == 0  # a 4-pixel margin, as in MNIST
    assert 60 <= (final > 0.5).sum() <= 160  # MNIST digits have about 100 such pixels
    assert final.max() > 0.9  # thin strokes are stretched to full brightness, not left faint


def test_dark_background_is_not_inverted():
    picture = Image.fromarray(255 - np.asarray(photo_of("one", 8)))
    steps = preprocess_digit(picture)
    assert steps[1].title == "background removed"


def test_transparent_drawing_is_laid_on_white_paper():
    drawing = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    ImageDraw.Draw(drawing).line([(150, 40), (150, 260)], fill=(0, 0, 0, 255), width=20)
    final = preprocess_digit(drawing)[-1].image
    assert final[:, 12:16].max() > 0.9 and final[:, :8].max() == 0


def test_blank_picture_is_refused():
    with pytest.raises(EmptyDrawing, match="No ink"):
        preprocess_digit(Image.new("L", (400, 400), 240))


def test_photographed_digits_look_like_their_mnist_class():
    data = Path(os.environ.get("VAE_DATA_DIR", "")) / "mnist.npz"
    if not data.is_file():
        pytest.skip("needs the full dataset: set VAE_DATA_DIR to a folder holding mnist.npz")
    with np.load(data) as mnist:
        images, labels = mnist["x_train"][:20000].reshape(20000, -1) / 255.0, mnist["y_train"][:20000]
    for shape, label in (("seven", 7), ("zero", 0), ("one", 1)):
        for stroke in (3, 12, 60):
            final = preprocess_digit(photo_of(shape, stroke))[-1].image.reshape(-1)
            nearest = labels[np.argsort(((images - final) ** 2).sum(axis=1))[:10]]
            assert np.bincount(nearest, minlength=10).argmax() == label, (shape, stroke, nearest)


def test_jpeg_grain_does_not_turn_into_a_grey_background():
    buffer = io.BytesIO()
    photo_of("seven", 6).save(buffer, format="JPEG", quality=70)
    final = preprocess_digit(Image.open(io.BytesIO(buffer.getvalue())))[-1].image
    assert (final > 0).sum() < 250  # the digit's own pixels; MNIST digits light about 150
    assert final[:, :3].max() == 0 and final[:3].max() == 0  # no grey border where there is no ink
