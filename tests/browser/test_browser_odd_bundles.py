"""Generate and Encode in a real browser on bundles at the edges of what the app can make, each
opened through a link that names it: the slider redraws and an upload is encoded."""

from __future__ import annotations

import pytest
from browser_support import IDLE, open_page, screenshot
from odd_bundles import HOSTILE_CLASS_NAMES, ODD_BUNDLES, save_odd_bundle
from PIL import Image, ImageDraw
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

SHOWN = ("one-image", "line-1d", "collapsed-64d", "labels-beyond-names", "one-image-16d")


@pytest.fixture(scope="module")
def odd_models(app_models_dir):
    for spec in ODD_BUNDLES:
        if spec.name in (*SHOWN, "hostile-class-names"):
            save_odd_bundle(app_models_dir, spec)


def open_linked(tab, url: str, path: str, model: str) -> None:
    open_page(tab, url, f"{path}?model={model}")
    assert tab.locator('[data-testid="stException"]').count() == 0
    assert tab.get_by_role("combobox", name="Model").input_value() == model


CAPTION_SHOWS_THE_SLIDERS_VALUE = """() => {
    const value = Number(document.querySelector('[data-testid="stSlider"] input').value).toFixed(2);
    const captions = [...document.querySelectorAll('[data-testid="stImage"]')].map((figure) => figure.innerText);
    return captions.some((text) => text.startsWith('decoded on the server at') && text.includes(' = ' + value));
}"""


def click_near_the_end_of_the_first_slider(tab) -> None:
    """One click on the first slider's track, 90% of the way along: one value sent, one new picture."""
    # The pad above the sliders settles first (its status line can change its height, and so where
    # the track is).
    expect(tab.locator(".latent-pad")).not_to_have_attribute("data-mode", "loading", timeout=120_000)
    handle = tab.locator('[data-testid="stSlider"] input[type="range"]').first
    tab.locator('[data-testid="stSlider"]').first.scroll_into_view_if_needed()  # below the latent pad
    box = tab.locator('[data-testid="stSlider"]').first.bounding_box()
    moved = "old => document.querySelector('[data-testid=\"stSlider\"] input').value !== old"
    # A click that lands while the page is still rerunning was once lost (the slider moved, the
    # server never drew its value): another spot is tried before the test fails.
    for share in (0.9, 0.8, 0.7):
        before = handle.input_value()
        tab.mouse.click(box["x"] + share * box["width"], box["y"] + box["height"] - 12)
        tab.wait_for_function(moved, arg=before)
        try:  # the server's picture for the slider's value as it finally stands (read again, not once)
            tab.wait_for_function(CAPTION_SHOWS_THE_SLIDERS_VALUE, timeout=60_000)
            break
        except PlaywrightTimeout:
            continue
    else:
        raise AssertionError("the server never drew the picture for the slider's value")
    tab.locator(IDLE).wait_for()


@pytest.mark.parametrize("model", SHOWN)
def test_the_slider_redraws_and_an_upload_is_encoded(page, app_url, odd_models, model, tmp_path):
    open_linked(page, app_url, "generate", model)
    picture = page.locator('[data-testid="stImage"] img').first
    before = picture.get_attribute("src")
    click_near_the_end_of_the_first_slider(page)  # far from the middle: an untrained decoder barely changes
    assert picture.get_attribute("src") != before
    assert page.locator('[data-testid="stException"]').count() == 0
    screenshot(page, f"generate-{model}")

    paper = Image.new("L", (600, 800), 235)
    ImageDraw.Draw(paper).line([(150, 200), (450, 200), (250, 650)], fill=25, width=6)
    paper.save(tmp_path / "seven.png")
    open_linked(page, app_url, "encode", model)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(tmp_path / "seven.png"))
    page.get_by_text("its reconstruction").wait_for()
    page.locator(IDLE).wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0
    screenshot(page, f"encode-{model}")


def test_class_names_from_the_data_show_as_written(page, app_url, odd_models, tmp_path):
    paper = Image.new("L", (600, 800), 235)
    ImageDraw.Draw(paper).line([(150, 200), (450, 200), (250, 650)], fill=25, width=6)
    paper.save(tmp_path / "seven.png")
    open_linked(page, app_url, "encode", "hostile-class-names")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(tmp_path / "seven.png"))
    page.get_by_text("its reconstruction").wait_for()
    page.locator(IDLE).wait_for()
    scatter = page.locator(".js-plotly-plot").first
    page.wait_for_function("document.querySelectorAll('.legendtext').length > 5")  # Plotly draws after the run
    legend = scatter.locator(".legendtext").all_text_contents()  # SVG text: the classes present, then the digit
    classes = [text for text in legend if not text.startswith("your digit")]
    assert len(classes) >= 5 and classes == [name for name in HOSTILE_CLASS_NAMES if name in classes]
    nearest = page.locator('[data-testid="stImage"]').last
    nearest.scroll_into_view_if_needed()
    shown = [name for name in HOSTILE_CLASS_NAMES if name in nearest.inner_text()]
    assert shown, nearest.inner_text()  # names as written, not rendered
    assert nearest.locator("strong, em, a, code, del, .katex").count() == 0
    screenshot(page, "encode-hostile-class-names")
