"""Helpers the browser tests share (a module, not conftest, so its name is unique on sys.path)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageColor

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"


def screenshot(tab, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    tab.screenshot(path=str(path), full_page=True)
    return path


# Plotly's own axis mapping, from data coordinates to page pixels.
TO_SCREEN = """([x, y]) => {
    const plot = document.querySelector('.js-plotly-plot');
    const layout = plot._fullLayout, frame = plot.getBoundingClientRect();
    return [frame.left + layout._size.l + layout.xaxis.d2p(x), frame.top + layout._size.t + layout.yaxis.d2p(y)];
}"""


def plot_to_screen(tab, x: float, y: float) -> tuple[float, float]:
    """Page pixel position of the data point (x, y) on the page's first Plotly chart."""
    return tuple(tab.evaluate(TO_SCREEN, [x, y]))


def viewport_pixels(tab) -> np.ndarray:
    """The page as now on screen, RGB, one row per CSS pixel (the contexts here use scale 1)."""
    with Image.open(io.BytesIO(tab.screenshot())) as shot:
        return np.asarray(shot.convert("RGB"))


def rgb(css_colour: str) -> tuple[int, int, int]:
    """A CSS colour (`#ff00ff`, `rgb(1, 2, 3)`, `black`) as an (r, g, b) triple."""
    return ImageColor.getrgb(css_colour)[:3]


def contrast_ratio(first: tuple[int, int, int], second: tuple[int, int, int]) -> float:
    """WCAG 2 contrast ratio of two sRGB colours, from 1 (none) to 21 (black on white)."""

    def luminance(colour):
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in np.asarray(colour) / 255]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    darker, lighter = sorted((luminance(first), luminance(second)))
    return (lighter + 0.05) / (darker + 0.05)
