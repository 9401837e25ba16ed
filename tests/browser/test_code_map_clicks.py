"""Beyond PCA, in a real browser: a UMAP map made while the person watches its progress, then
clicked like any map; and the pad decoding along the plane that separates the classes (LDA)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from browser_support import (
    ALL_POINTS,
    IDLE,
    after_the_rerun,
    canvas_grey_levels,
    click_point,
    gap_to,
    in_view,
    open_pad,
    open_page,
    open_view,
    screenshot,
    shipped_model,
    wait_for_the_clicked_image,
)
from playwright.sync_api import expect

from vae_core.analysis.latent_tools import lda_plane
from vae_core.data.datasets import as_uint8

CLICKED = ".clicked-image"


@pytest.fixture(scope="module")
def sixteen_d():
    return shipped_model("mnist-conv-16d")


def test_a_umap_map_shows_its_progress_then_answers_a_click_beside_it(page, app_url, sixteen_d):
    atlas, _ = sixteen_d
    page.goto(f"{app_url}/explore?model=mnist-conv-16d&plane=umap")

    progress = page.locator('[data-testid="stProgress"]')
    expect(progress).to_contain_text("Making the UMAP map of the 10,000 test codes", timeout=120_000)
    assert in_view(page, progress)  # where the map will be
    screenshot(page, "explore-umap-progress")
    page.locator(".js-plotly-plot").first.wait_for(timeout=300_000)  # tens of seconds on a small machine
    page.locator(IDLE).wait_for()
    expect(page.get_by_text("UMAP of the 10,000 test codes, made once in")).to_be_visible()
    wait_for_the_clicked_image(page)
    points = np.array(page.evaluate(ALL_POINTS))
    assert sorted(points[:, 2].astype(int).tolist()) == list(range(len(atlas.z_mean)))  # every code, once
    gaps = [np.partition(np.hypot(*(points[:, :2] - point[:2]).T), 1)[1] for point in points[::50]]
    x, y, index = next(point for point, gap in zip(points[::50], gaps, strict=True) if gap > 3)
    index = int(index)

    click_point(page, (x, y, index))

    clicked = page.locator(f"{CLICKED} canvas.test-image")
    expect(page.locator(f"{CLICKED} canvas.reconstruction")).to_have_attribute("data-index", str(index))
    expect(page.locator(f"{CLICKED} .image-caption")).to_have_text(f"test image {index}: {atlas.labels[index]}")
    assert np.array_equal(canvas_grey_levels(clicked), as_uint8(atlas.images[index])[..., 0])
    assert in_view(page, clicked)
    screenshot(page, "explore-umap-clicked")


def test_the_pad_decodes_along_the_plane_that_separates_the_classes(page, app_url, sixteen_d):
    atlas, codec = sixteen_d
    plane = lda_plane(atlas.z_mean, atlas.labels)
    pad = open_pad(page, f"{app_url}/generate?model=mnist-conv-16d&plane=lda")
    expect(page.get_by_text("turned to set the classes apart: every point on it decodes")).to_be_visible()
    expect(pad.locator(".readout")).to_contain_text("discriminant axis 1")
    box = pad.locator("canvas.pad").bounding_box()
    places = []
    for x, y in ((0.2, 0.3), (0.8, 0.7)):
        before = pad.get_attribute("data-z")
        page.mouse.click(box["x"] + x * box["width"], box["y"] + y * box["height"])
        expect(pad).not_to_have_attribute("data-z", before or "")
        z = np.array(json.loads(pad.get_attribute("data-z")), np.float32)
        uv = plane.project(z[None, :])[0]
        np.testing.assert_allclose(plane.lift(uv[None, :])[0], z, atol=1e-4)  # z lies on the LDA plane
        assert gap_to(page, pad, np.round(codec.decode(z)[0, ..., 0] * 255)) <= 2  # and is what is shown
        places.append(uv)
    assert places[0][0] < places[1][0] and places[0][1] > places[1][1]  # right and down on the pad
    screenshot(page, "generate-pad-lda")


def test_the_codes_turn_in_three_dimensions_along_lda(page, app_url, sixteen_d):
    atlas, _ = sixteen_d
    open_page(page, app_url, "explore?model=mnist-conv-16d")
    open_view(page, "The codes in three dimensions (PCA, LDA or UMAP)")
    with after_the_rerun(page):
        page.get_by_text("LDA's three directions").click()

    view = page.locator('[data-testid="stExpander"]').filter(has_text="The codes in three dimensions")
    scene = view.locator(".js-plotly-plot")
    expect(scene.locator("#scene canvas")).not_to_have_count(0)  # the WebGL scene, drawn
    traces = scene.evaluate("(plot) => plot._fullData.map((trace) => [trace.type, trace.x.length])")
    assert {kind for kind, _ in traces} == {"scatter3d"} and sum(n for _, n in traces) == len(atlas.z_mean)
    assert scene.evaluate("(plot) => plot._fullLayout.scene.zaxis.title.text") == "discriminant axis 3"
    # The answer begins just under the choice that asked for it, where the eye is (it runs on below).
    choice, drawn = page.get_by_text("LDA's three directions").bounding_box(), scene.bounding_box()
    assert 0 <= drawn["y"] - (choice["y"] + choice["height"]) < 100 and drawn["y"] < page.viewport_size["height"]
    screenshot(page, "explore-codes-in-3d")
