"""Latent walks as animated GIF or WebP files, written by Pillow: the file, and the choices and
download a page offers for it."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import streamlit as st
from PIL import Image

from vae_app.messages import plain
from vae_app.pictures import enlarged

FORMATS = {"GIF": "image/gif", "WebP": "image/webp"}
FRAME_COUNTS = (4, 120)
FRAME_MILLISECONDS = (20, 1000)
SIDES = (112, 224, 448)
# Past this a file is slow to make and to share; the page says so rather than writing it.
MAX_ANIMATION_BYTES = 20 * 2**20


class AnimationTooLarge(ValueError):
    """The animation would pass `MAX_ANIMATION_BYTES`; the message says what to reduce."""


def animation_bytes(frames: np.ndarray, file_format: str, frame_ms: int, side: int) -> bytes:
    """The frames (n, h, w, c) in [0, 1] as a looping animation, each enlarged to about `side` pixels."""
    if file_format not in FORMATS:
        raise ValueError(f"Expected a format in {tuple(FORMATS)}. Received: {file_format!r}")
    if not FRAME_COUNTS[0] <= len(frames) <= FRAME_COUNTS[1]:
        raise ValueError(f"Expected {FRAME_COUNTS[0]} to {FRAME_COUNTS[1]} frames. Received: {len(frames)}")
    pictures = [Image.fromarray(enlarged(frame, side)) for frame in frames]
    buffer = io.BytesIO()
    extra = {"lossless": True} if file_format == "WebP" else {"optimize": False}
    pictures[0].save(
        buffer, format=file_format, save_all=True, append_images=pictures[1:], duration=int(frame_ms), loop=0, **extra
    )
    data = buffer.getvalue()
    if len(data) > MAX_ANIMATION_BYTES:
        raise AnimationTooLarge(
            f"This animation would be {len(data) / 2**20:.0f} MB, over the {MAX_ANIMATION_BYTES // 2**20} MB cap:"
            " choose fewer frames or a smaller size."
        )
    return data


@st.cache_data(max_entries=8, show_spinner="Making the animation…")
def _animation(
    walk: str, count: int, file_format: str, frame_ms: int, side: int, _make_frames: Callable[[int], np.ndarray]
) -> tuple[bytes, bytes]:
    """(preview, file): the page shows a GIF whatever the format, as Streamlit animates no other."""
    frames = _make_frames(count)
    data = animation_bytes(frames, file_format, frame_ms, side)
    return (data if file_format == "GIF" else animation_bytes(frames, "GIF", frame_ms, side)), data


def animation_download(make_frames: Callable[[int], np.ndarray], walk: str, name: str, key: str) -> None:
    """Format, frame count, speed and size choices, then the animation shown and offered as a file.

    `make_frames(n)` decodes the walk's n frames; `walk` names what it decodes (model, path and
    class), so a page rerun that changes none of it reuses the file."""
    kind, frames, speed, size = st.columns(4)
    file_format = kind.radio("Format", list(FORMATS), horizontal=True, key=f"{key}:format")
    count = frames.slider("Frames", *FRAME_COUNTS, 24, key=f"{key}:frames")
    frame_ms = speed.slider("Milliseconds per frame", *FRAME_MILLISECONDS, 80, step=10, key=f"{key}:ms")
    side = size.select_slider("Size (pixels)", SIDES, 224, key=f"{key}:side")
    try:
        preview, data = _animation(walk, count, file_format, frame_ms, side, make_frames)
    except AnimationTooLarge as error:
        st.warning(plain(str(error)))
        return
    caption = f"{count} frames, {frame_ms} ms each, {len(data) / 1024:.0f} KB as {file_format}"
    st.image(preview, caption=caption, width=min(side, 448), alt=f"The walk as an animation: {caption}")
    st.download_button(
        f"Download {file_format}",
        data,
        file_name=f"{name}.{file_format.lower()}",
        mime=FORMATS[file_format],
        on_click="ignore",
        key=f"{key}:download",
    )
