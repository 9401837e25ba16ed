"""Home's "Share a model" in a real browser, as a person uses it: the flagship downloaded as a zip,
uploaded again under another name, found in the sidebar, and its card showing the original's figures."""

from __future__ import annotations

from browser_support import after_the_rerun, open_page, screenshot
from playwright.sync_api import expect
from support import FILE_INPUT

from tests.streamlit_server import REPO_ROOT

FLAGSHIP, COPY = "mnist-conv-2d", "shared-flagship"


def model_card(tab) -> str:
    """The sidebar's card of the model picked: its dataset, preset, size, epochs and test figures."""
    card = tab.get_by_test_id("stSidebar").get_by_test_id("stMarkdown").filter(has_text="test −ELBO")
    return card.inner_text()


def test_a_model_downloaded_from_home_and_added_under_another_name_shows_the_same_figures(
    page, app_url, app_models_dir, tmp_path
):
    open_page(page, app_url, "")
    original = model_card(page)
    picked = page.get_by_test_id("stSelectbox").filter(has_text="Model to share").get_by_role("combobox")
    expect(picked).to_have_value(FLAGSHIP)  # the sidebar's model
    with page.expect_download() as download:
        page.get_by_role("button", name="Download as .zip").click()
    assert download.value.suggested_filename == f"{FLAGSHIP}.zip"
    download.value.save_as(tmp_path / f"{FLAGSHIP}.zip")

    with after_the_rerun(page):
        page.locator(FILE_INPUT).set_input_files(str(tmp_path / f"{FLAGSHIP}.zip"))
    name = page.get_by_role("textbox", name="Name", exact=True)
    expect(name).to_have_value(f"{FLAGSHIP}-2")  # the shipped model has its name
    with after_the_rerun(page):
        name.fill(COPY)
        name.press("Enter")
    with after_the_rerun(page):
        page.get_by_role("button", name="Add the model").click()
    expect(page.get_by_text(f"Added {COPY}: it is in the Models table and the sidebar's list.")).to_be_visible()
    screenshot(page, "home-shared-model-added")

    with after_the_rerun(page):
        page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").click()
        page.get_by_role("option", name=COPY, exact=True).click()
    expect(page.get_by_test_id("stSidebar").get_by_role("combobox", name="Model")).to_have_value(COPY)
    assert model_card(page) == original
    for shipped in (REPO_ROOT / "pretrained" / FLAGSHIP).iterdir():  # and underneath, the same files
        assert (app_models_dir / COPY / shipped.name).read_bytes() == shipped.read_bytes(), shipped.name
