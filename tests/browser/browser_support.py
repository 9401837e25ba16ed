"""Helpers the browser tests share (a module, not conftest, so its name is unique on sys.path)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
from PIL import Image, ImageColor
from playwright.sync_api import expect

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"


PAGES = {
    "": "VAE Explorer",
    "train": "Train a VAE",
    "explore": "Explore the latent space",
    "generate": "Generate",
    "encode": "Encode your own digit",
    "compare": "Compare models",
}
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
PAD = ".latent-pad"


def open_page(tab, url: str, path: str) -> None:
    tab.goto(f"{url}/{path}")
    tab.get_by_role("heading", name=PAGES[path.split("?")[0]]).wait_for()
    tab.locator(IDLE).wait_for()


def open_pad(tab, url: str) -> object:
    """Go to `url` and wait for its latent pad to decode in the browser or say it cannot."""
    tab.goto(url)
    pad = tab.locator(PAD)  # in the component's shadow root, which locators (not querySelector) enter
    expect(pad).to_have_attribute("data-mode", re.compile("^(browser|server)$"), timeout=60_000)
    return pad


def picture_pixels(pad) -> np.ndarray:
    """The pad's decoded picture as the person sees it: grey levels 0-255, (height, width)."""
    rgba = pad.locator("canvas.picture").evaluate(
        "c => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)"
    )
    size = int(np.sqrt(len(rgba) // 4))
    return np.array(rgba, np.uint8).reshape(size, size, 4)[..., 0]


def shown_pixels(tab, picture) -> np.ndarray:
    """The pixels of an `<img>` on the page, fetched from the server as the browser got them."""
    answer = tab.request.get(picture.evaluate("element => element.src"))
    with Image.open(io.BytesIO(answer.body())) as shown:
        return np.asarray(shown)


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
