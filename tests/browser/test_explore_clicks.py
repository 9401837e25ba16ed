"""Explore's map, clicked as a person does: the clicked image and its reconstruction appear beside the
map, drawn in the browser (the test image's record read from the app's static files, its z mean
decoded there) and the same as the server's; quick clicks end on the last one; and the lens opens
on the clicked image."""

from __future__ import annotations

import numpy as np
import pytest
from browser_support import (
    IDLE,
    assert_the_lens_shows_the_posterior,
    canvas_grey_levels,
    click_point,
    in_view,
    open_map,
    open_view,
    screenshot,
    shipped_model,
)
from playwright.sync_api import expect

from vae_core.data.datasets import as_uint8

CLICKED = ".clicked-image"
RECONSTRUCTION = f"{CLICKED} canvas.reconstruction"


@pytest.fixture(scope="module")
def flagship():
    """The default model, as the server loads it: its atlas and its decoder."""
    return shipped_model("mnist-conv-2d")


def test_a_click_shows_the_image_and_its_reconstruction_beside_the_map_drawn_in_the_browser(page, app_url, flagship):
    atlas, codec = flagship
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    point = open_map(page, app_url)[0]
    index = point[2]

    click_point(page, point)

    expect(page.locator(RECONSTRUCTION)).to_have_attribute("data-index", str(index))
    clicked = page.locator(f"{CLICKED} canvas.test-image")
    expect(page.locator(f"{CLICKED} .image-caption")).to_have_text(f"test image {index}: {atlas.labels[index]}")
    # The clicked point is ringed on the map, where the click was.
    ring = page.locator("[data-clicked-ring]").bounding_box()
    assert abs(ring["x"] + ring["width"] / 2 - point[0]) <= 3 and abs(ring["y"] + ring["height"] / 2 - point[1]) <= 3
    # Where the eye is: beside the map, in the window without scrolling.
    assert in_view(page, clicked) and in_view(page, page.locator(RECONSTRUCTION))
    assert in_view(page, page.locator(".js-plotly-plot").first)
    # What the person sees is the test image itself and the server's own decode of its z mean.
    assert np.array_equal(canvas_grey_levels(clicked), as_uint8(atlas.images[index])[..., 0])
    expected = np.round(codec.decode(atlas.z_mean[index])[0, ..., 0] * 255)
    assert np.abs(canvas_grey_levels(page.locator(RECONSTRUCTION)) - expected).max() <= 2
    z_mean = ", ".join(f"{value:.3f}" for value in atlas.z_mean[index])
    expect(page.locator(f"{CLICKED} .z-mean")).to_have_text(f"[{z_mean}]")
    expect(page.locator(f"{CLICKED} .error")).to_have_text(f"{atlas.reconstruction_error[index]:.4f}")
    assert any("/app/static/records/" in url for url in requests), "the records come from the app's static files"
    # The server's rerun follows and leaves the browser's answer in place, drawing no pictures of its own.
    page.locator(IDLE).wait_for()
    expect(page.locator(RECONSTRUCTION)).to_have_attribute("data-index", str(index))
    assert page.locator('[data-testid="stImage"]').count() == 0
    screenshot(page, "explore-after-click")
    open_view(page, "Lens on the selected image's posterior")
    assert_the_lens_shows_the_posterior(page)
    screenshot(page, "explore-lens")


def test_quick_clicks_end_on_the_last_one(page, app_url):
    points = open_map(page, app_url)
    for point in points[1:4]:  # three clicks, each before the last one's rerun is over
        click_point(page, point)
    last = points[3][2]
    page.locator(IDLE).wait_for()
    page.wait_for_timeout(500)  # a late rerun for an earlier click would pull the picture back now
    expect(page.locator(RECONSTRUCTION)).to_have_attribute("data-index", str(last))
    expect(page.locator(f"{CLICKED} .image-caption")).to_contain_text(f"test image {last}: ")
