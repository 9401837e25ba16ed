"""Helpers the browser tests share (a module, not conftest, so its name is unique on sys.path)."""

from __future__ import annotations

import contextlib
import io
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import numpy as np
from PIL import Image, ImageColor
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.streamlit_server import IDLE

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"


PAGES = {
    "": "VAE Explorer",
    "train": "Train a VAE",
    "explore": "Explore the latent space",
    "generate": "Generate",
    "encode": "Encode your own digit",
    "compare": "Compare models",
    "import_model": "Import a VAE",
}
PAD = ".latent-pad"
T = TypeVar("T")


def open_page(tab, url: str, path: str) -> None:
    tab.goto(f"{url}/{path}")
    tab.get_by_role("heading", name=PAGES[path.split("?")[0]]).wait_for()
    tab.locator(IDLE).wait_for()


# From now on, counts in window.__runsStarted the times the app's script state leaves notRunning (a
# run, or a fragment's, starting). The records' old values count a run that has already ended
# again by the time the observer's callback runs.
WATCH_SCRIPT_RUNS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    window.__runWatcher?.disconnect();
    window.__runsStarted = 0;
    window.__runWatcher = new MutationObserver((records) => {
        window.__runsStarted += records.filter((record) => record.oldValue === 'notRunning').length;
    });
    window.__runWatcher.observe(
        app, {attributes: true, attributeFilter: ['data-test-script-state'], attributeOldValue: true});
}"""


@contextlib.contextmanager
def after_the_rerun(tab, quick_ms: float = 10_000) -> Iterator[None]:
    """Around a gesture that starts a script run (a click on a widget, keys, an upload): the block
    returns once that run has ended. Waiting for IDLE alone is not enough: the page still says
    notRunning until the server has heard of the gesture and started the run, which on a busy
    machine can be long after the gesture. A run so quick that the page never showed it running
    (both changes painted at once) is taken as over after `quick_ms`."""
    tab.evaluate(WATCH_SCRIPT_RUNS)
    yield
    try:
        tab.wait_for_function("() => window.__runsStarted > 0", timeout=quick_ms)
    except PlaywrightTimeout:
        pass
    tab.locator(IDLE).wait_for()


def settled(tab, read: Callable[[], T], good: Callable[[T], bool], seconds: float = 30.0) -> T:
    """`read()` again every 100 ms until `good` holds for what it returns, or `seconds` have passed
    (what a page paints after a run, or after a decode in the browser, can lag on a busy machine);
    the last value read, for the caller's assertion."""
    deadline = time.monotonic() + seconds
    while True:
        value = read()
        if good(value) or time.monotonic() > deadline:
            return value
        tab.wait_for_timeout(100)


def open_pad(tab, url: str) -> object:
    """Go to `url` and wait for its latent pad to decode in the browser or say it cannot."""
    tab.goto(url)
    pad = tab.locator(PAD)  # in the component's shadow root, which locators (not querySelector) enter
    # The page's first run loads the model (TensorFlow and all, for the first one), then the
    # browser compiles ONNX Runtime's WebAssembly: slow on a busy machine.
    expect(pad).to_have_attribute("data-mode", re.compile("^(browser|server)$"), timeout=120_000)
    return pad


def first_paint(pad) -> int:
    """Once the pad (decoding in the browser) has painted its first picture: how many it has painted.
    Its mode turns to browser before the first decode has finished."""
    picture = pad.locator("canvas.picture")
    expect(picture).to_have_attribute("data-frames", re.compile(r"^[1-9][0-9]*$"))
    return int(picture.get_attribute("data-frames"))


# The caption of the nearest test images beside the pad: the place Python last answered for.
NEAREST_PLACE = re.compile(r"nearest test images to [^=]+ = (-?[0-9.]+)(?:, [^=]+ = (-?[0-9.]+))?:")


def pad_place(pad) -> list[float]:
    """Where the pad's picture is on its plane, as its readout says (two decimals)."""
    return [float(number) for number in re.findall(r"= (-?[0-9.]+)", pad.locator(".readout").inner_text())]


def answered_place(tab) -> list[float]:
    """Where the nearest test images beside the pad were found, as their caption says; [] before any."""
    caption = tab.locator('[data-testid="stImage"]').filter(has_text=NEAREST_PLACE)
    found = NEAREST_PLACE.search(caption.first.inner_text()) if caption.count() else None
    return [] if found is None else [float(number) for number in found.groups() if number is not None]


def python_follows(tab, pad) -> list[float]:
    """Once the nearest images beside the pad are those of the point the pad shows: that point. Both
    round to two decimals, from float32 in the browser and float64 on the server: a last digit may differ."""

    def agree(places: tuple[list[float], list[float]]) -> bool:
        shown, answered = places
        return len(shown) == len(answered) and all(abs(a - b) <= 0.011 for a, b in zip(shown, answered, strict=True))

    places = settled(tab, lambda: (pad_place(pad), answered_place(tab)), agree, seconds=60)
    assert agree(places), f"the pad shows {places[0]}, the server answered for {places[1]}"
    return places[1]


def let_go_of_pad_slider(tab, pad, dimension: int, share: float) -> None:
    """Drag the pad's slider for latent `dimension` to `share` of its range and let go (input events,
    then one change, as a person's drag ends), then wait for Python's answer to that release."""
    slider = pad.locator(".dimensions input[type=range]").nth(dimension)
    low, high = float(slider.get_attribute("min")), float(slider.get_attribute("max"))
    tab.locator(IDLE).wait_for()  # the page's own run over: the release is the only one on its way
    with after_the_rerun(tab):
        slider.fill(str(low + share * (high - low)))
    python_follows(tab, pad)


def open_view(tab, label: str) -> None:
    """Open the expander titled `label` (a view computed only while open) and wait for its run."""
    with after_the_rerun(tab):
        tab.locator('[data-testid="stExpander"] summary').filter(has_text=label).click()


def assert_the_lens_shows_the_posterior(tab) -> None:
    """The lens's heatmap is drawn, and its numbers hold together: ELBO <= log p(x), gap = the difference."""
    tab.get_by_text("The posterior lens").wait_for()
    tab.get_by_text("The posterior lens").scroll_into_view_if_needed()  # for the screenshot that follows
    tab.locator(".js-plotly-plot .heatmaplayer image, .js-plotly-plot .hm image").first.wait_for(state="attached")
    labels = ("ELBO (nats)", "log p(x), k=1000 (nats)", "gap = KL(q ‖ true posterior)")
    metrics = [tab.locator('[data-testid="stMetric"]', has=tab.get_by_text(label, exact=True)) for label in labels]
    elbo, log_px, gap = (float(metric.locator('[data-testid="stMetricValue"]').inner_text()) for metric in metrics)
    assert elbo <= log_px + 0.1 and abs(gap - max(log_px - elbo, 0.0)) < 0.02


def in_view(tab, locator) -> bool:
    """Whether the element's whole box lies inside the window, as the person sees it without scrolling."""
    box, size = locator.bounding_box(), tab.viewport_size
    return (
        box is not None
        and box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= size["width"]
        and box["y"] + box["height"] <= size["height"]
    )


def picture_pixels(pad) -> np.ndarray:
    """The pad's decoded picture as the person sees it: grey levels 0-255, (height, width)."""
    return canvas_grey_levels(pad.locator("canvas.picture"))


def canvas_grey_levels(canvas) -> np.ndarray:
    """A square canvas's pixels as drawn: grey levels 0-255, (height, width)."""
    rgba = canvas.evaluate("c => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)")
    size = int(np.sqrt(len(rgba) // 4))
    return np.array(rgba, np.uint8).reshape(size, size, 4)[..., 0]


def gap_to(tab, pad, expected: np.ndarray) -> float:
    """The largest difference in grey levels between the pad's picture and `expected` (0-255), once
    it is 2 or less or 30 s have passed: a decode asked earlier may paint first, the last one follows."""
    return settled(tab, lambda: np.abs(picture_pixels(pad).astype(float) - expected).max(), lambda gap: gap <= 2)


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


# Every point of the map where the page shows it: (page x, page y, test-set index) each.
ALL_POINTS = """() => {
    const plot = document.querySelector('.js-plotly-plot');
    const layout = plot._fullLayout, frame = plot.getBoundingClientRect();
    return plot._fullData.flatMap((t) => Array.from(t.x, (x, i) => [
        frame.left + layout._size.l + layout.xaxis.d2p(x), frame.top + layout._size.t + layout.yaxis.d2p(t.y[i]),
        t.customdata[i]]));
}"""


def open_map(tab, url: str, model: str | None = None) -> list[tuple[float, float, int]]:
    """Explore's map (of `model`, else the default one) drawn and the page idle; points a click picks
    for sure (no other within 3 pixels), each (page x, page y, test-set index)."""
    open_page(tab, url, "explore" if model is None else f"explore?model={model}")
    tab.locator(".js-plotly-plot").first.wait_for()
    tab.locator(IDLE).wait_for()
    wait_for_the_clicked_image(tab)
    points = np.array(tab.evaluate(ALL_POINTS))
    candidates = points[:: max(1, len(points) // 400)]  # spread over the classes
    gaps = [np.partition(np.hypot(*(points[:, :2] - point[:2]).T), 1)[1] for point in candidates]
    return [(x, y, int(index)) for (x, y, index), gap in zip(candidates, gaps, strict=True) if gap > 3]


def click_point(tab, point: tuple[float, float, int]) -> None:
    tab.mouse.click(point[0], point[1])


def wait_for_the_clicked_image(tab) -> None:
    """Until Explore's clicked-image element is listening to the map (its modules loaded: a click
    before that goes unheard, as a person's would in the page's first moments)."""
    expect(tab.locator(".clicked-image")).to_have_attribute("data-mode", re.compile("^(browser|server)$"))


def shipped_model(name: str, decode_precision: str = "float32") -> tuple[object, object]:
    """A pretrained model: its atlas and its codec, decoding in float32 as the browser does, or in
    `auto` as the server decodes pictures (mixed bfloat16 where the processor has it)."""
    from vae_core.bundles.bundle import load_bundle
    from vae_core.bundles.registry import PRETRAINED_DIR
    from vae_core.model.onnx_codec import codec_for

    bundle = load_bundle(PRETRAINED_DIR / name)
    return bundle.atlas, codec_for(bundle.model, decode_precision=decode_precision)
