"""The latent pad in a real browser: the digit morphs under the pointer, decoded by ONNX Runtime Web,
and Python follows on release; without WebAssembly the page says so and decodes on the server."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from browser_support import (
    IDLE,
    PAD,
    first_paint,
    gap_to,
    open_pad,
    open_page,
    open_view,
    picture_pixels,
    python_follows,
    screenshot,
    settled,
    shipped_model,
)
from playwright.sync_api import expect

from bench.pad_latency import BENCHMARK_HOOKS
from vae_core.bundles.bundle import load_atlas
from vae_core.bundles.registry import PRETRAINED_DIR


@pytest.fixture(scope="module")
def codec():
    return shipped_model("mnist-conv-2d")[1]


def test_the_digit_morphs_during_a_drag_and_python_follows_the_release(page, app_url):
    pad = open_pad(page, f"{app_url}/generate?model=mnist-conv-2d")
    assert pad.get_attribute("data-mode") == "browser"
    assert "Decoding in your browser" in pad.locator(".status").inner_text()
    before = python_follows(page, pad)
    # The nearest images are fetched after their caption: on a busy machine, during the drag, unless
    # waited for.
    page.locator(IDLE).wait_for()
    page.wait_for_function("() => [...document.images].every((image) => image.complete)")
    box = pad.locator("canvas.pad").bounding_box()
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.mouse.move(box["x"] + 40, box["y"] + 60)
    page.mouse.down()
    seen = set()
    for step in range(60):  # about a second
        page.mouse.move(box["x"] + 40 + step * 5, box["y"] + 60 + step * 4)
        page.wait_for_timeout(16)
        seen.add(picture_pixels(pad).tobytes())
    during = list(requests)
    page.mouse.up()

    assert len(seen) > 10, f"only {len(seen)} distinct pictures during the drag"
    assert during == [], f"the drag asked the server for {during}"
    released = json.loads(pad.get_attribute("data-z"))
    assert python_follows(page, pad) == pytest.approx(released, abs=0.006)  # the caption rounds to two decimals
    assert pytest.approx(before, abs=0.006) != released
    # A person's page has none of the benchmark's hooks.
    assert pad.get_attribute("data-latencies") is None and pad.get_attribute("data-ready-at") is None
    assert pad.evaluate("root => root.timeBatchDecode") is None
    screenshot(page, "generate-pad")


def test_the_benchmarks_hooks_come_only_when_the_page_asks_first(browser, app_url):
    """bench.pad_latency's hooks, on a page that set its flag before the pad mounted."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(BENCHMARK_HOOKS)
    tab = context.new_page()
    tab.set_default_timeout(90_000)
    pad = open_pad(tab, f"{app_url}/generate?model=mnist-conv-2d")
    assert pad.get_attribute("data-mode") == "browser"
    assert float(pad.get_attribute("data-ready-at")) > 0
    box = pad.locator("canvas.pad").bounding_box()
    for step in range(10):
        tab.mouse.move(box["x"] + 40 + step * 20, box["y"] + 60 + step * 15)
        tab.wait_for_timeout(30)

    expect(pad).to_have_attribute("data-latencies", re.compile(r"^[0-9.]+(,[0-9.]+){2,}$"))
    latencies = [float(ms) for ms in pad.get_attribute("data-latencies").split(",")]
    assert all(0 < ms < 10_000 for ms in latencies), latencies
    assert pad.evaluate("(root, count) => root.timeBatchDecode(count)", 9) > 0
    context.close()


def test_the_browsers_pictures_equal_the_servers(page, app_url, codec):
    pad = open_pad(page, f"{app_url}/generate?model=mnist-conv-2d")
    box = pad.locator("canvas.pad").bounding_box()
    worst = 0
    for x, y in np.random.default_rng(0).uniform(0.1, 0.9, (10, 2)):
        before = pad.get_attribute("data-z")
        page.mouse.click(box["x"] + x * box["width"], box["y"] + y * box["height"])
        expect(pad).not_to_have_attribute("data-z", before or "")  # the click committed, on a busy machine too
        z = np.array(json.loads(pad.get_attribute("data-z")), np.float32)
        expected = np.round(codec.decode(z)[0, ..., 0] * 255)
        worst = max(worst, gap_to(page, pad, expected))  # the click's decode, after any under way
    assert worst <= 2, f"browser and server pictures differ by up to {worst} grey levels"


def test_the_16d_models_dimension_sliders_move_one_dimension(page, app_url):
    pad = open_pad(page, f"{app_url}/generate?model=mnist-conv-16d")
    sliders = pad.locator(".dimensions input[type=range]")
    assert sliders.count() == 16
    # The dimension the test codes spread along most: one the decoder uses. (A slider's range is no
    # guide: an unused dimension's codes barely spread, and its slider is widened to the prior's.)
    dimension = int(np.argmax(load_atlas(PRETRAINED_DIR / "mnist-conv-16d").z_mean.std(axis=0)))
    slider = sliders.nth(dimension)
    frames = first_paint(pad)
    first = picture_pixels(pad)

    slider.fill(slider.get_attribute("max"))  # as a drag to the end does: input events, then change

    expect(pad.locator("canvas.picture")).not_to_have_attribute("data-frames", str(frames))
    change = settled(page, lambda: np.abs(picture_pixels(pad).astype(int) - first).max(), lambda gap: gap > 30)
    assert change > 30, f"moving z{dimension} did not change the picture"
    z = json.loads(pad.get_attribute("data-z"))
    assert z[dimension] == pytest.approx(float(slider.get_attribute("max")), abs=1e-4)
    screenshot(page, "generate-pad-16d")


def test_the_arrow_keys_move_the_point_and_python_follows_the_key_up(page, app_url):
    pad = open_pad(page, f"{app_url}/generate?model=mnist-conv-2d")
    before = python_follows(page, pad)
    page.locator(IDLE).wait_for()
    frames = first_paint(pad)
    pad.locator("canvas.pad").focus()

    page.keyboard.press("Shift+ArrowRight")  # a tenth of the plane's width
    page.keyboard.press("ArrowDown")  # a fiftieth of its height

    expect(pad.locator("canvas.picture")).not_to_have_attribute("data-frames", str(frames))
    after = python_follows(page, pad)
    assert after[0] > before[0] + 0.05 and after[1] < before[1]
    assert "=" in pad.locator(".readout").inner_text()
    assert pad.locator("canvas.picture").get_attribute("aria-label").endswith(pad.locator(".readout").inner_text())


@pytest.fixture
def page_without_webassembly(browser):
    """A tab whose pages have no WebAssembly, as in browsers or policies that turn it off. (Chromium's
    --js-flags=--noexpose_wasm does not take under Playwright, which passes --js-flags of its own.)"""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script("delete globalThis.WebAssembly")
    tab = context.new_page()
    tab.set_default_timeout(90_000)
    yield tab
    context.close()


def test_without_webassembly_the_page_says_so_and_decodes_on_release(page_without_webassembly, app_url):
    tab = page_without_webassembly
    pad = open_pad(tab, f"{app_url}/generate?model=mnist-conv-2d")
    assert pad.get_attribute("data-mode") == "server"
    assert "Decoding on the server" in pad.locator(".status").inner_text()
    assert "WebAssembly" in pad.locator(".status").inner_text()
    frames = first_paint(pad)  # the server's picture, drawn where the browser's would be
    box = pad.locator("canvas.pad").bounding_box()
    tab.locator(IDLE).wait_for()
    tab.mouse.click(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.3)

    python_follows(tab, pad)
    expect(pad.locator("canvas.picture")).not_to_have_attribute("data-frames", str(frames))
    assert picture_pixels(pad).max() > 100  # a digit, not the black of a canvas never painted
    screenshot(tab, "generate-pad-without-webassembly")


def test_on_explore_hover_previews_and_a_click_brings_the_nearest_test_images(page, app_url):
    open_page(page, app_url, "explore?model=mnist-conv-2d")
    open_view(page, "Decode any point (the latent pad)")
    pad = page.locator(PAD)
    expect(pad).to_have_attribute("data-mode", "browser", timeout=120_000)
    pad.locator("canvas.pad").scroll_into_view_if_needed()  # below the map
    box = pad.locator("canvas.pad").bounding_box()
    nearest = page.locator('[data-testid="stCaptionContainer"]', has_text="nearest test images to the pad's point")
    before, start = nearest.inner_text(), picture_pixels(pad)
    hovered = set()
    for step in range(20):  # no button pressed
        page.mouse.move(box["x"] + box["width"] * (0.15 + step * 0.035), box["y"] + box["height"] * 0.5)
        page.wait_for_timeout(20)
        hovered.add(picture_pixels(pad).tobytes())

    assert len(hovered - {start.tobytes()}) > 5
    assert nearest.inner_text() == before  # hovering asks nothing of Python
    page.mouse.click(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.2)
    expect(nearest).not_to_have_text(before)
    screenshot(page, "explore-pad")


def test_a_tap_on_a_touch_screen_moves_the_point(browser, app_url):
    context = browser.new_context(viewport={"width": 900, "height": 1000}, has_touch=True, is_mobile=True)
    tab = context.new_page()
    tab.set_default_timeout(90_000)
    pad = open_pad(tab, f"{app_url}/generate?model=mnist-conv-2d")
    before = python_follows(tab, pad)
    box = pad.locator("canvas.pad").bounding_box()
    tab.locator(IDLE).wait_for()

    tab.touchscreen.tap(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.75)

    assert python_follows(tab, pad) != before
    assert len(json.loads(pad.get_attribute("data-z"))) == 2
    context.close()
