"""Open a user's uploaded picture safely: refuse what cannot be a digit photo, normalise the rest.

Refused with `ImageRejected` (a message a person can act on): empty files, files that are no
image, formats other than the common still-image ones in `ALLOWED_FORMATS`, truncated files, and
pictures too large to decode safely. Accepted but converted, with a note saying so: animated
pictures and multi-page TIFFs (first frame or page), 16-bit and 32-bit grayscale (scaled to 8
bits), CMYK and palette images, transparency (kept for `digit_preprocess`, which lays it on white
paper). A photo's EXIF orientation is applied, so a phone picture stands upright.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from vae_core.wording import count, one_of

# Pillow's format name -> the name people know it by: the one list of what an upload may be.
ALLOWED_FORMATS = {
    "PNG": "PNG",
    "JPEG": "JPEG",
    "MPO": "JPEG",  # many phones' JPEGs: the photo, then a preview image Pillow sees as a second frame
    "BMP": "BMP",
    "GIF": "GIF",
    "WEBP": "WebP",
    "TIFF": "TIFF",
    "ICO": "ICO",
}
FORMAT_LIST = one_of(list(dict.fromkeys(ALLOWED_FORMATS.values())))
# File name endings Pillow reads as those formats (jpg, jpeg, tif, tiff, ...), for an uploader's filter.
UPLOAD_EXTENSIONS = tuple(
    sorted(ext[1:] for ext, fmt in Image.registered_extensions().items() if fmt in ALLOWED_FORMATS)
)
MAX_PIXELS = 40_000_000  # a 40-megapixel photo; beyond that decoding costs too much memory
MAX_SIDE = 12_000


class ImageRejected(ValueError):
    """The upload cannot be used; the message says why and what to upload instead."""


def open_user_image(data: bytes) -> tuple[Image.Image, list[str]]:
    """The decoded picture, and notes on any conversion made on the way."""
    if not data:
        raise ImageRejected(f"The file is empty. Upload a {FORMAT_LIST} picture of a digit.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            picture = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageRejected(_unreadable_message(error)) from error
    if picture.format not in ALLOWED_FORMATS:
        raise ImageRejected(f"{picture.format} pictures are not supported. Upload {FORMAT_LIST} instead.")
    width, height = picture.size
    if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE or min(width, height) < 1:
        raise ImageRejected(
            f"The picture is {width} x {height} pixels, too large to open safely (at most {MAX_PIXELS // 1_000_000}"
            f" megapixels and {MAX_SIDE} pixels a side). Shrink or crop it around the digit."
        )
    notes = []
    if getattr(picture, "n_frames", 1) > 1:
        if picture.format != "MPO":  # its later frames are previews of the first, not more pictures
            notes.append(_first_frame_note(picture))
        picture.seek(0)
    try:
        picture.load()
        upright = ImageOps.exif_transpose(picture)  # phones store photos sideways with an EXIF turn
    except (OSError, SyntaxError) as error:  # PIL reports truncated or corrupt data as these
        raise ImageRejected(f"The picture's data is damaged or cut short ({error}). Upload the file again.") from error
    return _normalised_mode(upright, notes)


def _first_frame_note(picture: Image.Image) -> str:
    """Why only part of a multi-frame file is used: TIFFs hold pages, GIFs and WebPs animations."""
    if picture.format == "TIFF":
        return f"The TIFF holds {count(picture.n_frames, 'page')}; only the first page is used."
    return f"The picture is animated ({count(picture.n_frames, 'frame')}); only the first frame is used."


def _unreadable_message(error: Exception) -> str:
    if isinstance(error, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
        return "The picture is too large to open safely. Shrink or crop it around the digit."
    return f"This file is not a picture that can be read. Upload a {FORMAT_LIST} picture of a digit."


def _normalised_mode(picture: Image.Image, notes: list[str]) -> tuple[Image.Image, list[str]]:
    """8-bit grayscale, RGB or RGBA, whatever mode the file used."""
    mode = picture.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        levels = np.asarray(picture, dtype=np.float64)
        low, high = float(levels.min()), float(levels.max())
        scaled = (levels - low) / (high - low) * 255.0 if high > low else np.zeros_like(levels)
        notes.append(
            f"The picture has {'16' if mode.startswith('I;16') else '32'}-bit levels; they were scaled to 8 bits."
        )
        return Image.fromarray(scaled.astype(np.uint8), mode="L"), notes
    if mode == "CMYK":
        notes.append("The picture is in CMYK colours; it was converted to RGB.")
        return picture.convert("RGB"), notes
    if mode in ("P", "PA"):
        return picture.convert("RGBA" if "transparency" in picture.info or mode == "PA" else "RGB"), notes
    if mode in ("RGBA", "LA"):
        if np.asarray(picture.getchannel("A")).min() < 255:
            notes.append("The picture has transparent areas; they are treated as white paper.")
        return picture, notes
    if mode in ("L", "RGB"):
        return picture, notes
    return picture.convert("RGB"), notes
