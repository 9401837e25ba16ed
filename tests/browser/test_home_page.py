"""Home in a real browser: on a laptop the picture of what the app does and a link to every page show
at once, in either theme; on a phone nothing is wider than the screen."""

from __future__ import annotations

from browser_support import contrast_ratio, in_view, open_page, rgb, screenshot
from playwright.sync_api import expect

from vae_app.figures import ENCODED_COLOUR, class_colours

LINKS = ["Train", "Explore", "Generate", "Encode", "Compare", "Import"]
APP_BACKGROUND = "() => getComputedStyle(document.querySelector('[data-testid=\"stApp\"]')).backgroundColor"
# The right edge of the widest thing on the page, the table's cells aside: they scroll in its frame.
WIDEST = """() => Math.max(...[...document.querySelectorAll('[data-testid="stMain"] *')]
    .filter((element) => !element.parentElement.closest('[data-testid="stDataFrame"]'))
    .map((element) => element.getBoundingClientRect().right))"""


def open_home(tab, url: str) -> None:
    open_page(tab, url, "")
    tab.locator('[data-testid="stDataFrame"] canvas').first.wait_for()  # the models table draws last


def test_home_shows_its_picture_and_every_link_at_once_in_either_theme(themed_page, app_url):
    theme, page = themed_page
    open_home(page, app_url)
    picture = page.get_by_role("img", name="A mosaic of mnist test images laid out by their latent codes", exact=False)
    expect(picture).to_be_visible()
    assert picture.evaluate("image => image.complete && image.naturalWidth > 0")
    links = page.get_by_test_id("stMain").locator('a[data-testid="stPageLink-NavLink"]')
    expect(links).to_have_count(len(LINKS))
    expect(links).to_contain_text(LINKS)  # in this order
    for shown in [picture, *(links.nth(index) for index in range(len(LINKS)))]:
        assert in_view(page, shown), shown
    # The palette is made for the background each theme really has: 3:1, WCAG's floor for graphics.
    background = rgb(page.evaluate(APP_BACKGROUND))
    assert (contrast_ratio(background, (0, 0, 0)) > 10) == (theme == "light"), f"not the {theme} theme: {background}"
    for colour in (*class_colours(theme), ENCODED_COLOUR):
        assert contrast_ratio(rgb(colour), background) >= 3, f"{colour} is faint on {background} ({theme})"
    screenshot(page, f"home-{theme}")


def test_home_fits_a_phone(browser, app_url):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        tab = context.new_page()
        tab.set_default_timeout(90_000)
        open_home(tab, app_url)
        assert tab.evaluate("() => document.documentElement.scrollWidth <= innerWidth")
        main = tab.get_by_test_id("stMain")
        assert main.evaluate("main => main.scrollWidth <= main.clientWidth")
        assert tab.evaluate(WIDEST) <= tab.evaluate("innerWidth")
        screenshot(tab, "home-phone")
        tab.get_by_test_id("stDataFrame").first.scroll_into_view_if_needed()
        screenshot(tab, "home-phone-models")
    finally:
        context.close()
