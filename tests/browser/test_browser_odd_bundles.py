"""Generate and Encode in a real browser on bundles at the edges of what the app can make, each
opened through a link that names it: the pad's slider redraws and an upload is encoded."""

from __future__ import annotations

import re

import pytest
from browser_support import IDLE, PAD, first_paint, let_go_of_pad_slider, open_page, screenshot
from odd_bundles import HOSTILE_CLASS_NAMES, ODD_BUNDLES, save_odd_bundle
from playwright.sync_api import expect
from support import upload_a_seven

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


@pytest.mark.parametrize("model", SHOWN)
def test_the_slider_redraws_and_an_upload_is_encoded(page, app_url, odd_models, model):
    open_linked(page, app_url, "generate", model)
    pad = page.locator(PAD)
    expect(pad).to_have_attribute("data-mode", re.compile("^(browser|server)$"), timeout=120_000)
    frames = first_paint(pad)
    let_go_of_pad_slider(page, pad, 0, 0.9)  # far from the middle: an untrained decoder barely changes
    expect(pad.locator("canvas.picture")).not_to_have_attribute("data-frames", str(frames))
    assert page.locator('[data-testid="stException"]').count() == 0
    screenshot(page, f"generate-{model}")

    open_linked(page, app_url, "encode", model)
    upload_a_seven(page, stroke=6)
    page.get_by_text("its reconstruction").wait_for()
    page.locator(IDLE).wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0
    screenshot(page, f"encode-{model}")


def test_class_names_from_the_data_show_as_written(page, app_url, odd_models):
    open_linked(page, app_url, "encode", "hostile-class-names")
    upload_a_seven(page, stroke=6)
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
