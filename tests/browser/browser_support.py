"""Helpers the browser tests share (a module, not conftest, so its name is unique on sys.path)."""

from __future__ import annotations

from pathlib import Path

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
