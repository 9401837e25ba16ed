"""Pictures for people: model outputs enlarged without blur, shown and downloaded as PNG."""

from __future__ import annotations

import io

import numpy as np
import streamlit as st
from PIL import Image

from vae_app.messages import plain

DISPLAY_SIDE = 224  # a 28x28 digit shown 8x, large enough to see its pixels


def to_uint8(image: np.ndarray) -> np.ndarray:
    """(h, w) or (h, w, 1 or 3) floats in [0, 1] or uint8, as uint8 (h, w) or (h, w, 3)."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = np.clip(np.round(image * 255.0), 0, 255).astype(np.uint8)
    return image[..., 0] if image.ndim == 3 and image.shape[2] == 1 else image


def enlarged(image: np.ndarray, side: int = DISPLAY_SIDE) -> np.ndarray:
    """The image scaled by a whole factor with nearest-neighbour, so each pixel stays a crisp square."""
    pixels = to_uint8(image)
    factor = max(1, side // max(pixels.shape[:2]))
    return np.repeat(np.repeat(pixels, factor, axis=0), factor, axis=1)


def png_bytes(image: np.ndarray, side: int = DISPLAY_SIDE) -> bytes:
    """The enlarged image as PNG file bytes, for `st.download_button`."""
    buffer = io.BytesIO()
    Image.fromarray(enlarged(image, side)).save(buffer, format="PNG")
    return buffer.getvalue()


def show(image: np.ndarray, caption: str, side: int = DISPLAY_SIDE, container: object = st) -> None:
    """Show an image enlarged, as PNG (JPEG would smear the square pixels), in `container`; the
    caption, which often names classes from the data, shows as written and is also the picture's
    text for screen readers."""
    container.image(enlarged(image, side), caption=plain(caption), output_format="PNG", alt=caption)


def show_with_download(picture: np.ndarray, caption: str, filename: str, side: int) -> None:
    """`show` the picture, with a button that downloads it as that PNG."""
    show(picture, caption, side)
    # Encoded only when clicked, and no rerun after: a download changes nothing on the page.
    st.download_button(
        "Download PNG",
        lambda: png_bytes(picture, side),
        file_name=filename,
        mime="image/png",
        on_click="ignore",
        key=f"download:{filename}",
    )
