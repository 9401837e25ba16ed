"""Turn a user's picture of a digit into a 28x28 MNIST-style image, keeping every step to show.

MNIST's digits were size-normalised into a 20x20 box keeping their aspect ratio, anti-aliased, and
centred by centre of mass in a 28x28 field, white ink on black (LeCun et al.). A photo or scan
differs: dark ink on light paper, uneven lighting, a digit that is small in a large frame, strokes
far thinner than MNIST's once shrunk. Each step below undoes one of those differences.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

FIELD, BOX = 28, 20
WORKING_SIDE = 80  # the ink crop is handled at this size before the final shrink to BOX
MNIST_STROKE = 0.12  # typical MNIST stroke width as a share of the 20-pixel box side
INK_THRESHOLD = 0.35  # share of the brightest ink level that counts as ink
NOISE_FLOOR = 0.2  # levels below this share of full ink, once the paper is removed, are not ink


class EmptyDrawing(ValueError):
    """The picture has no ink to speak of: nothing differs enough from the background."""


@dataclass(frozen=True)
class PreprocessStep:
    """One stage of the pipeline: a title for the page and the image as floats in [0, 1]."""

    title: str
    image: np.ndarray


def preprocess_digit(picture: Image.Image) -> list[PreprocessStep]:
    """All steps from the picture to the 28x28 input; the last step's image is what gets encoded."""
    gray = np.asarray(_flatten_alpha(picture).convert("L"), dtype=np.float64) / 255.0
    steps = [PreprocessStep("grayscale", gray)]
    ink = _ink_bright(gray)
    steps.append(
        PreprocessStep("inverted, background removed" if _is_light_background(gray) else "background removed", ink)
    )
    crop = _crop_to_ink(ink)
    steps.append(PreprocessStep("cropped to the ink", crop))
    thickened = _thicken_strokes(crop)
    boxed = _fit_in_box(thickened)
    steps.append(PreprocessStep(f"scaled into {BOX}x{BOX}, aspect kept", boxed))
    centred = _centre_by_mass(boxed)
    steps.append(PreprocessStep(f"centred by mass in {FIELD}x{FIELD}", centred))
    return steps


def _flatten_alpha(picture: Image.Image) -> Image.Image:
    """Transparent pixels become white paper, as a drawing app's transparent canvas means."""
    if picture.mode in ("RGBA", "LA", "PA") or (picture.mode == "P" and "transparency" in picture.info):
        rgba = picture.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(paper, rgba).convert("RGB")
    return picture


def _is_light_background(gray: np.ndarray) -> bool:
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return float(np.median(border)) > 0.5


def _ink_bright(gray: np.ndarray) -> np.ndarray:
    """White ink on black: invert light backgrounds, subtract the paper level, stretch to 1."""
    ink = 1.0 - gray if _is_light_background(gray) else gray.copy()
    # The paper's level is the border's typical value; uneven lighting leaves it above zero.
    border = np.concatenate([ink[0], ink[-1], ink[:, 0], ink[:, -1]])
    ink = np.clip(ink - np.percentile(border, 90), 0.0, None)
    peak = float(ink.max())
    if peak < 0.08:
        raise EmptyDrawing("No ink found: the picture is almost uniform. Draw or photograph a darker, larger digit.")
    ink = np.clip(ink / np.percentile(ink[ink > 0], 99), 0.0, 1.0)
    ink[ink < NOISE_FLOOR] = 0.0  # paper grain and JPEG ringing, which dilation would otherwise grow
    return ink


def _crop_to_ink(ink: np.ndarray) -> np.ndarray:
    rows, columns = np.nonzero(ink >= INK_THRESHOLD)
    return ink[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1]


def _stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width of a binary mask: area over half the perimeter, for long thin strokes."""
    padded = np.pad(mask, 1)
    interior = padded[1:-1, 1:-1] & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    boundary = int(mask.sum() - interior.sum())
    return 2.0 * float(mask.sum()) / max(boundary, 1)


def _thicken_strokes(crop: np.ndarray) -> np.ndarray:
    """Widen strokes that would vanish when shrunk: pen lines on a photo are far thinner than MNIST's.

    At the working size the strokes should be MNIST_STROKE of the side wide; thinner ones are
    dilated (a max filter) by the difference, then their faint anti-aliased levels are stretched
    back to full brightness.
    """
    scale = WORKING_SIDE / max(crop.shape)
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    work = Image.fromarray((crop * 255).astype(np.uint8)).resize(size, Image.Resampling.LANCZOS)
    levels = np.asarray(work, dtype=np.float64)
    target = MNIST_STROKE * WORKING_SIDE
    grow = int(round(target - _stroke_width(levels >= INK_THRESHOLD * levels.max())))
    if grow >= 2:
        margin = grow // 2 + 1
        padded = Image.fromarray(np.pad(levels, margin).astype(np.uint8))
        levels = np.asarray(padded.filter(ImageFilter.MaxFilter(grow | 1)), dtype=np.float64)
    strokes = levels[levels >= INK_THRESHOLD * levels.max()]
    return np.clip(levels / np.percentile(strokes, 95), 0.0, 1.0)


def _fit_in_box(ink: np.ndarray) -> np.ndarray:
    scale = BOX / max(ink.shape)
    size = (max(1, round(ink.shape[1] * scale)), max(1, round(ink.shape[0] * scale)))
    image = Image.fromarray((ink * 255).astype(np.uint8)).resize(size, Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.float64) / 255.0


def _centre_by_mass(boxed: np.ndarray) -> np.ndarray:
    """Place the box in a 28x28 field so the ink's centre of mass sits at the centre."""
    rows, columns = np.indices(boxed.shape)
    total = boxed.sum()
    centre_row, centre_column = (rows * boxed).sum() / total, (columns * boxed).sum() / total
    top = int(round(FIELD / 2 - centre_row))
    left = int(round(FIELD / 2 - centre_column))
    top = min(max(top, 0), FIELD - boxed.shape[0])
    left = min(max(left, 0), FIELD - boxed.shape[1])
    field = np.zeros((FIELD, FIELD))
    field[top : top + boxed.shape[0], left : left + boxed.shape[1]] = boxed
    return field
