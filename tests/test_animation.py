"""Animations of latent walks: GIF and WebP files read back with Pillow (frames, timing, size), and
the size cap."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from vae_app.panels.animation import AnimationTooLarge, animation_bytes


def frames(count: int, shape: tuple[int, int, int] = (28, 28, 1)) -> np.ndarray:
    """A bright bar moving down the picture, one row per frame."""
    pictures = np.zeros((count, *shape), np.float32)
    for index in range(count):
        pictures[index, index % shape[0], :, :] = 1.0
    return pictures


@pytest.mark.parametrize("file_format", ["GIF", "WebP"])
def test_the_file_holds_every_frame_at_the_chosen_speed_and_size(file_format):
    data = animation_bytes(frames(12), file_format, 90, 224)
    with Image.open(io.BytesIO(data)) as animation:
        assert animation.format == file_format.upper()
        assert animation.n_frames == 12
        assert animation.size == (224, 224)
        assert animation.info["loop"] == 0
        animation.seek(5)
        animation.load()  # WebP states a frame's duration once the frame is read
        assert animation.info["duration"] == 90
        row = np.asarray(animation.convert("L"))[:, 100]
        assert row[5 * 8 : 6 * 8].min() > 200 and row[7 * 8 :].max() < 50  # frame 5's bar, 8x enlarged


def test_colour_frames_animate_in_colour():
    colour = frames(4, (32, 32, 3))
    colour[..., 1:] = 0.0  # the bar is red
    with Image.open(io.BytesIO(animation_bytes(colour, "WebP", 50, 224))) as animation:
        red, green, _ = animation.convert("RGB").getpixel((10, 3))
        assert red > 200 and green < 50


def test_an_animation_over_the_cap_is_refused_with_advice(monkeypatch):
    monkeypatch.setattr("vae_app.panels.animation.MAX_ANIMATION_BYTES", 1000)
    with pytest.raises(AnimationTooLarge, match="fewer frames or a smaller size"):
        animation_bytes(frames(30), "GIF", 50, 448)


@pytest.mark.parametrize(("count", "file_format"), [(3, "GIF"), (121, "GIF"), (10, "MP4")])
def test_frame_counts_and_formats_outside_the_choices_are_refused(count, file_format):
    with pytest.raises(ValueError, match="Expected"):
        animation_bytes(frames(count), file_format, 50, 112)
