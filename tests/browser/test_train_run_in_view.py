"""The Train page in a real browser: the run's progress is in view the moment Start is clicked, its
end shows the test figures and opens the new model in Explore, and on a phone nothing overflows."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from browser_support import IDLE, in_view, open_page, screenshot
from playwright.sync_api import expect
from support import FILE_INPUT

PHONE = {"width": 390, "height": 844}
PROGRESS = '[data-testid="stProgress"]'
# Whether the page is wider than the window, so that it scrolls sideways.
OVERFLOWS = "() => document.documentElement.scrollWidth > window.innerWidth"


def digits_csv(path: Path, seed: int) -> Path:
    """200 random 28x28 images in Kaggle's CSV layout, labelled 0-9 in turn."""
    images = np.random.default_rng(seed).integers(0, 256, (200, 784))
    rows = [
        ["label", *(f"pixel{i}" for i in range(784))],
        *([index % 10, *pixels] for index, pixels in enumerate(images)),
    ]
    path.write_text("\n".join(",".join(map(str, row)) for row in rows) + "\n")
    return path


def start_a_run(tab, url: str, table: Path, name: str) -> None:
    """On the Train page: choose "Your own file", upload `table`, name the model, 2 epochs, Start."""
    open_page(tab, url, "train")
    tab.get_by_test_id("stSelectbox").filter(has_text="Dataset").click()
    tab.get_by_role("option", name="Your own file").click()
    tab.locator(FILE_INPUT).set_input_files(str(table))
    tab.get_by_role("button", name=f"Remove {table.name}", exact=True).wait_for()  # uploaded
    tab.get_by_label("Epochs", exact=True).fill("2")
    tab.get_by_label("Model name", exact=True).fill(name)
    tab.get_by_role("button", name="Start training").click()


def test_the_runs_progress_is_in_view_after_start_and_its_end_opens_explore(themed_page, app_url, tmp_path):
    theme, page = themed_page
    name = f"in-view-{theme}"
    start_a_run(page, app_url, digits_csv(tmp_path / "digits.csv", seed=3), name)
    progress = page.locator(PROGRESS).first
    progress.wait_for(timeout=30_000)
    assert in_view(page, progress), "Train's progress should be in view after Start"
    expect(page.get_by_text(f"Settings of {name}:", exact=False)).to_be_visible()  # the form, folded
    screenshot(page, f"train-running-{theme}")

    page.get_by_text(f"Saved as {name}").wait_for(timeout=240_000)
    page.locator(IDLE).wait_for()
    figure = page.locator('[data-testid="stMetric"]').filter(has_text="test −ELBO (nats)")
    button = page.get_by_role("button", name="Open in Explore")
    assert in_view(page, figure) and in_view(page, button), "the run's end should be in view"
    assert re.fullmatch(r"\d+\.\d", figure.locator('[data-testid="stMetricValue"]').inner_text())
    screenshot(page, f"train-finished-{theme}")

    button.click()
    page.get_by_role("heading", name="Explore the latent space").wait_for()
    expect(page).to_have_url(re.compile(rf"/explore\?model={name}$"))
    expect(page.get_by_test_id("stSidebar").get_by_role("combobox", name="Model")).to_have_value(name)


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    tab = context.new_page()
    tab.set_default_timeout(90_000)
    yield tab
    context.close()


def test_on_a_phone_the_page_fits_the_width_and_the_charts_do_not_overlap(phone, app_url, tmp_path):
    start_a_run(phone, app_url, digits_csv(tmp_path / "digits.csv", seed=4), "on-a-phone")
    progress = phone.locator(PROGRESS).first
    progress.wait_for(timeout=30_000)
    assert in_view(phone, progress), "Train's progress should be in view after Start, on a phone too"
    assert not phone.evaluate(OVERFLOWS)
    phone.get_by_text("Saved as on-a-phone").wait_for(timeout=240_000)
    phone.locator(IDLE).wait_for()
    assert not phone.evaluate(OVERFLOWS)
    charts = [phone.locator(".js-plotly-plot").nth(index).bounding_box() for index in range(2)]
    assert all(chart["width"] >= 300 for chart in charts), charts  # the width of the phone, not a third of it
    first, second = sorted(charts, key=lambda chart: chart["y"])
    assert first["y"] + first["height"] <= second["y"], f"the charts overlap: {charts}"
    screenshot(phone, "train-phone")
    phone.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
    screenshot(phone, "train-phone-curves")
