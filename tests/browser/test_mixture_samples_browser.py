"""Generate's "Samples from the codes' mixture" in a real browser, light and dark, and on a phone: the
decoded samples, the sentence saying what the mixture is, and on a 2-D model the map of both densities
with its lines in the theme's colours."""

from __future__ import annotations

import pytest
from browser_support import after_the_rerun, open_page, screenshot, shown_pixels
from playwright.sync_api import expect
from support import shipped_mixture_components

from vae_app.figures import class_colours

TAB = "Samples from the codes' mixture"
PICTURE = "32 samples of z from the codes' mixture"
# Each contour trace's line colour, as Plotly drew the chart.
CONTOUR_COLOURS = """() => document.querySelector('.js-plotly-plot')._fullData
    .filter((trace) => trace.type === 'contour').map((trace) => trace.line.color)"""
# How far the page, or Streamlit's main block (which scrolls on its own), reaches past the window.
OVERFLOW = """() => {
    const main = document.querySelector('[data-testid="stMain"]');
    return Math.max(document.documentElement.scrollWidth - innerWidth, main.scrollWidth - main.clientWidth);
}"""


def open_mixture_tab(tab, url: str, model: str) -> None:
    open_page(tab, url, f"generate?model={model}")
    with after_the_rerun(tab):
        tab.get_by_role("tab", name=TAB).click()
    expect(tab.get_by_role("tab", name=TAB)).to_have_attribute("aria-selected", "true")


def assert_samples_are_shown(tab) -> None:
    """The picture of decoded samples is there, and holds digits rather than a blank."""
    picture = tab.locator('[data-testid="stImage"]').filter(has_text=PICTURE)
    expect(picture).to_be_visible()
    assert shown_pixels(tab, picture.locator("img")).std() > 20


def test_a_2d_models_mixture_samples_and_both_densities_show_in_the_themes_colours(themed_page, app_url):
    theme, tab = themed_page
    open_mixture_tab(tab, app_url, "mnist-conv-2d")
    assert_samples_are_shown(tab)
    k = shipped_mixture_components("mnist-conv-2d", 2)
    expect(tab.get_by_text(f"A mixture of {k} Gaussians (full covariances; {k} has the lowest BIC")).to_be_visible()
    expect(tab.get_by_text("fitted to the latent means of 20,000 training images.")).to_be_visible()
    chart = tab.locator(".js-plotly-plot")
    expect(chart.locator(".contourlayer path").first).to_be_attached()  # the lines are drawn
    for name in ("test codes", "prior N(0, I)", "codes' mixture"):
        expect(chart.locator(".legend").get_by_text(name, exact=True)).to_be_visible()
    colours = class_colours(theme)
    assert tab.evaluate(CONTOUR_COLOURS) == [colours[0]] * 3 + [colours[1]] * 3
    expect(tab.get_by_text("Each density draws three lines")).to_be_visible()
    screenshot(tab, f"generate-mixture-{theme}")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_on_a_phone_the_tab_fits_the_width(browser, app_url, theme):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, color_scheme=theme
    )
    tab = context.new_page()
    tab.set_default_timeout(90_000)
    try:
        open_mixture_tab(tab, app_url, "mnist-conv-2d")
        assert_samples_are_shown(tab)
        chart = tab.locator(".js-plotly-plot")
        chart.locator(".contourlayer path").first.wait_for(state="attached")
        assert tab.evaluate(OVERFLOW) <= 0, "the mixture's tab is wider than a phone"
        chart.scroll_into_view_if_needed()  # below the samples on a phone: in the screenshot that follows
        screenshot(tab, f"phone-generate-mixture-{theme}")
    finally:
        context.close()
