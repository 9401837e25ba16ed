"""Pictures for people: model outputs enlarged without blur, shown and downloaded as PNG."""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st
from PIL import Image

from vae_app.messages import plain
from vae_core.data.datasets import as_uint8

if TYPE_CHECKING:
    from vae_core.model.codec import LatentCodec

DISPLAY_SIDE = 224  # a 28x28 digit shown 8x, large enough to see its pixels
SHEET_SIDE = 2048  # the widest sheet of pictures a page makes: more pixels than any screen shows


def to_uint8(image: np.ndarray) -> np.ndarray:
    """(h, w) or (h, w, 1 or 3) floats in [0, 1] or uint8, as uint8 (h, w) or (h, w, 3)."""
    image = as_uint8(image)
    return image[..., 0] if image.ndim == 3 and image.shape[2] == 1 else image


def enlarged(image: np.ndarray, side: int = DISPLAY_SIDE) -> np.ndarray:
    """The image scaled by a whole factor with nearest-neighbour, so each pixel stays a crisp square."""
    pixels = to_uint8(image)
    factor = max(1, side // max(pixels.shape[:2]))
    return np.repeat(np.repeat(pixels, factor, axis=0), factor, axis=1)


def squared(image: np.ndarray, fill: int) -> np.ndarray:
    """The image centred on a square of grey level `fill` (its background), so pictures of any shape
    show at one size side by side instead of stretching to the column."""
    pixels = to_uint8(image)
    height, width = pixels.shape[:2]
    side = max(height, width)
    square = np.full((side, side, *pixels.shape[2:]), fill, np.uint8)
    top, left = (side - height) // 2, (side - width) // 2
    square[top : top + height, left : left + width] = pixels
    return square


def png_bytes(image: np.ndarray, side: int = DISPLAY_SIDE) -> bytes:
    """The enlarged image as PNG file bytes, for `st.download_button`."""
    buffer = io.BytesIO()
    Image.fromarray(enlarged(image, side)).save(buffer, format="PNG")
    return buffer.getvalue()


def png_data_url(image: np.ndarray) -> str:
    """The image at its own size as a PNG `data:` URL, for a page element that draws it itself."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(image, side=1)).decode("ascii")


def show(
    image: np.ndarray, caption: str, side: int = DISPLAY_SIDE, container: object = st, width: int | None = None
) -> None:
    """Show an image enlarged, as PNG (JPEG would smear the square pixels), in `container`, `width`
    pixels wide if given (else its own size, within the container); the caption, which often names
    classes from the data, shows as written and is also the picture's text for screen readers."""
    container.image(
        enlarged(image, side), caption=plain(caption), output_format="PNG", alt=caption, width=width or "content"
    )


def decoded_pictures(codec: LatentCodec, z: np.ndarray, label: int | None, columns: int) -> np.ndarray:
    """uint8 pictures (n, h, w, c) of the latent points `z`, decoded a batch at a time, each thinned
    (every k-th pixel) so that `columns` of them span at most `SHEET_SIDE` pixels: a 30 x 30 grid of
    256 x 256 colour pictures would otherwise be 700 MB of floats in the server, for one look."""
    step = max(1, -(-max(codec.image_shape[:2]) * columns // SHEET_SIDE))
    return np.concatenate([as_uint8(batch[:, ::step, ::step]) for batch in codec.decode_batches(z, label)])


def show_with_download(picture: np.ndarray, caption: str, filename: str, side: int) -> None:
    """`show` the picture, with a button that downloads it as that PNG."""
    picture = to_uint8(picture)  # held until the session ends, for the download: a quarter of float32's size
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
