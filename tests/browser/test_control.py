"""Choosing what is generated, in a real browser: the conditional model's class on the live pad and
in a class x z grid, style transfer of an upload, walks downloaded as GIF and WebP, and the
training replay's epoch slider."""

from __future__ import annotations

import io
import json
import re
import shutil

import numpy as np
import pytest
from browser_support import after_the_rerun, gap_to, open_pad, open_page, open_view, screenshot
from PIL import Image
from playwright.sync_api import expect
from support import upload_a_seven

CVAE = "mnist-cvae-2d"


@pytest.fixture(scope="module")
def codec():
    from vae_core.bundles.bundle import load_bundle
    from vae_core.bundles.registry import PRETRAINED_DIR
    from vae_core.model.codec import LatentCodec

    return LatentCodec(load_bundle(PRETRAINED_DIR / CVAE).model)


def pick(tab, group: str, option: str) -> None:
    """Click `option` in the radio group titled `group`, and wait for the rerun it starts to end."""
    with after_the_rerun(tab):
        tab.get_by_role("radiogroup", name=group).get_by_text(option, exact=True).click()


def test_the_pad_writes_the_class_picked_and_matches_the_server(themed_page, app_url, codec):
    theme, page = themed_page
    pad = open_pad(page, f"{app_url}/generate?model={CVAE}")
    assert pad.get_attribute("data-mode") == "browser"
    box = pad.locator("canvas.pad").bounding_box()
    with after_the_rerun(page):  # the release sends z to Python
        page.mouse.click(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.6)
    z = np.array(json.loads(pad.get_attribute("data-z")), np.float32)
    picture = pad.locator("canvas.picture")
    for label in (0, 3, 8):
        if label:
            frames = picture.get_attribute("data-frames")
            pick(page, "Class to generate", str(label))
            expect(picture).not_to_have_attribute("data-frames", frames)  # redrawn for the new class
        expected = np.round(codec.decode(z, label)[0, ..., 0] * 255)
        difference = gap_to(page, pad, expected)  # the pointer leaving the pad asked a decode of the old class
        assert difference <= 2, f"class {label}: browser and server differ by {difference} grey levels"
    screenshot(page, f"generate-cvae-{theme}")


def test_the_class_by_z_grid_writes_each_class_in_every_style(page, app_url):
    open_page(page, app_url, f"generate?model={CVAE}")
    page.get_by_role("tab", name="Classes × styles").click()
    grid = page.locator('[data-testid="stImage"]').filter(has_text="each row a class")
    grid.wait_for()
    with Image.open(io.BytesIO(page.request.get(grid.locator("img").evaluate("i => i.src")).body())) as shown:
        pixels = np.asarray(shown.convert("L"), float)
    height = len(pixels) // 10
    rows = [pixels[row * height : (row + 1) * height] for row in range(10)]
    assert min(np.abs(rows[i] - rows[i + 1]).mean() for i in range(9)) > 5, "rows should be different classes"
    screenshot(page, "generate-class-grid")


def test_encode_reads_the_digits_class_and_writes_its_style_as_every_class(page, app_url):
    open_page(page, app_url, f"encode?model={CVAE}")
    upload_a_seven(page, stroke=10)
    reading = page.get_by_role("radiogroup", name="Read your digit as")
    expect(reading.get_by_role("radio", checked=True)).to_have_accessible_name("7")
    strip = page.locator('[data-testid="stImage"]').filter(has_text="your 7, then its slant and stroke")
    strip.wait_for()
    page.get_by_text(re.compile(r"^The model's reading, p\(class \| your digit\).*: 7 \d")).wait_for()
    pick(page, "Read your digit as", "1")
    page.locator('[data-testid="stImage"]').filter(has_text="your 1, then its slant and stroke").wait_for()
    screenshot(page, "encode-style")


def downloaded_animation(tab, button, path):
    with tab.expect_download() as download:
        button.click()
    download.value.save_as(path)
    return Image.open(path)


def test_a_walk_downloads_as_a_gif_and_a_webp_of_the_chosen_frames(page, app_url, tmp_path):
    open_page(page, app_url, "generate?model=mnist-conv-2d")
    page.get_by_role("tab", name="Walk").click()
    page.get_by_text(re.compile(r"^24 frames, 80 ms each")).wait_for()
    with downloaded_animation(page, page.get_by_role("button", name="Download GIF"), tmp_path / "walk.gif") as gif:
        assert (gif.format, gif.n_frames, gif.size) == ("GIF", 24, (224, 224))
        first = np.asarray(gif.convert("L"), float)
        gif.seek(23)
        assert np.abs(np.asarray(gif.convert("L"), float) - first).mean() > 5, "the walk should move"
    pick(page, "Format", "WebP")
    pick(page, "Walk", "along a direction")  # the run has ended: the button is the walk's, not the last one's
    page.get_by_text(re.compile(r"^24 frames, 80 ms each, \d+ KB as WebP")).wait_for()
    with downloaded_animation(page, page.get_by_role("button", name="Download WebP"), tmp_path / "walk.webp") as webp:
        assert (webp.format, webp.n_frames) == ("WEBP", 24)
    screenshot(page, "generate-animation")


def test_the_replay_slider_shows_the_map_after_each_epoch(page, app_url):
    open_page(page, app_url, f"explore?model={CVAE}")
    open_view(page, "Training replay")
    page.get_by_test_id("stSlider").filter(has_text="After epoch").scroll_into_view_if_needed()
    title = page.locator(".js-plotly-plot .gtitle")
    expect(title.filter(has_text="after epoch 50")).to_have_count(1)
    handle = page.get_by_test_id("stSlider").filter(has_text="After epoch").get_by_role("slider")
    handle.focus()
    with after_the_rerun(page):
        handle.press("Home")
    expect(title.filter(has_text=re.compile(r"^after epoch 1$"))).to_have_count(1)
    expect(title.filter(has_text="after epoch 50")).to_have_count(0)  # the same chart, redrawn
    screenshot(page, "explore-replay-epoch-1")


def test_a_model_saved_before_replays_says_so(page, app_url, app_models_dir):
    from vae_core.bundles.files import REPLAY_FILE
    from vae_core.bundles.registry import PRETRAINED_DIR

    shutil.copytree(PRETRAINED_DIR / "mnist-conv-2d", app_models_dir / "before-replays", dirs_exist_ok=True)
    (app_models_dir / "before-replays" / REPLAY_FILE).unlink(missing_ok=True)
    open_page(page, app_url, "explore?model=before-replays")
    open_view(page, "Training replay")
    expect(page.get_by_text("This model has no training replay", exact=False)).to_be_visible()
