"""Every page on a phone (390 x 844): nothing wider than the window, the model picker one labelled tap
away, every tab of Generate in sight, and Explore's views (the replay's loss charts among them) open
without overflowing or squeezing into each other."""

from __future__ import annotations

import pytest
from browser_support import PAGES, after_the_rerun, in_view, open_page, open_view, screenshot, settled
from playwright.sync_api import expect

from vae_app.panels.explore_workspace import VIEWS

PHONE = {"width": 390, "height": 844}
# How far the page, and Streamlit's main block (which scrolls on its own), reach past the window.
OVERFLOW = """() => {
    const main = document.querySelector('[data-testid="stMain"]');
    return Math.max(document.documentElement.scrollWidth - innerWidth, main.scrollWidth - main.clientWidth);
}"""
# Whether the sidebar's folded button says what it holds (app.css writes it after the arrow).
LABELLED = "button => getComputedStyle(button, '::after').content.includes('Model and pages')"


def drawn(tab) -> None:
    """Wait until Streamlit has drawn every element: some show a skeleton while their code loads."""
    expect(tab.get_by_test_id("stMain").get_by_test_id("stSkeleton")).to_have_count(0)


@pytest.fixture(params=["light", "dark"])
def phone(request, browser):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, color_scheme=request.param)
    tab = context.new_page()
    tab.set_default_timeout(90_000)
    yield request.param, tab
    context.close()


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_fits_a_phones_width(phone, app_url, path):
    theme, tab = phone
    open_page(tab, app_url, path)
    drawn(tab)
    assert tab.evaluate(OVERFLOW) <= 0, f"{path or 'Home'} is wider than a phone"
    screenshot(tab, f"phone-{path or 'home'}-{theme}")


def test_on_a_phone_the_model_picker_is_one_labelled_tap_away(phone, app_url):
    theme, tab = phone
    open_page(tab, app_url, "explore")
    button = tab.get_by_test_id("stExpandSidebarButton")
    expect(button).to_be_visible()
    tab.wait_for_function(LABELLED, arg=button.element_handle())  # the app's styles arrive with its first run
    assert in_view(tab, button)
    button.click()
    picker = tab.get_by_test_id("stSidebar").get_by_role("combobox", name="Model")
    expect(picker).to_be_visible()
    # In view once the sidebar has slid open.
    assert settled(tab, lambda: in_view(tab, picker), bool, seconds=5), "the model picker should be in view"
    screenshot(tab, f"phone-sidebar-{theme}")


def test_on_a_phone_every_tab_of_generate_is_in_sight(phone, app_url):
    theme, tab = phone
    open_page(tab, app_url, "generate")
    tabs = tab.get_by_role("tab")
    assert tabs.count() >= 5
    for index in range(tabs.count()):
        assert in_view(tab, tabs.nth(index)), f"tab {tabs.nth(index).inner_text()!r} is out of sight"
    with after_the_rerun(tab):  # the last tab, on the second line, opens with one tap and is marked open
        tabs.last.click()
    expect(tabs.last).to_have_attribute("aria-selected", "true")
    drawn(tab)
    assert tab.evaluate(OVERFLOW) <= 0
    screenshot(tab, f"phone-generate-tabs-{theme}")


def test_on_a_phone_explores_views_open_within_the_width(phone, app_url):
    theme, tab = phone
    open_page(tab, app_url, "explore")
    for _, label in VIEWS:
        open_view(tab, label)
        assert tab.evaluate(OVERFLOW) <= 0, f"{label!r} is wider than a phone"
    replay = tab.locator(".st-key-explore_replay")
    replay.scroll_into_view_if_needed()
    drawn(tab)
    charts = [replay.locator(".js-plotly-plot").nth(index).bounding_box() for index in range(1, 4)]  # after the map
    assert all(chart["width"] >= 300 for chart in charts), charts  # the phone's width, not a third of it
    ordered = sorted(charts, key=lambda chart: chart["y"])
    for upper, lower in zip(ordered, ordered[1:], strict=False):
        assert upper["y"] + upper["height"] <= lower["y"], f"the replay's loss charts overlap: {charts}"
    screenshot(tab, f"phone-explore-replay-{theme}")
