"""A real `streamlit run` server and headless Debian chromium driven by Playwright.

Skipped, with the reason, where chromium or Playwright is missing; `.ci/run` installs both.
Screenshots of every page land in `test-output/screenshots/` to be looked at.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.streamlit_server import CHROMIUM, CHROMIUM_ARGS, streamlit_server

# How long an `expect` waits for what a person would see: a rerun's answer can take longer than
# Playwright's 5 s when the tests share two cores with the server (the waits end as soon as it shows).
EXPECT_TIMEOUT_MS = 30_000


@pytest.fixture(scope="session", autouse=True)
def patient_expectations():
    sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright (requirements-dev.txt)")
    sync_api.expect.set_options(timeout=EXPECT_TIMEOUT_MS)


@pytest.fixture(scope="session")
def app_models_dir(tmp_path_factory) -> Path:
    """The served app's models directory: tests may save bundles into it while the server runs."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def app_data_root(tmp_path_factory) -> Path:
    """The served app's `VAE_DATA_ROOT`: tests may put image folders in it while the server runs."""
    return tmp_path_factory.mktemp("data-root")


@pytest.fixture(scope="session")
def app_url(tmp_path_factory, app_models_dir, app_data_root):
    if not Path(CHROMIUM).is_file():
        pytest.skip("browser tests need Debian's chromium (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="browser tests need playwright (requirements-dev.txt)")
    env = {"VAE_MODELS_DIR": str(app_models_dir), "VAE_DATA_ROOT": str(app_data_root)}
    with streamlit_server("streamlit_app.py", tmp_path_factory.mktemp("server") / "streamlit.log", env) as server:
        yield server.url


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(90_000)
    yield tab
    context.close()


@pytest.fixture(params=["light", "dark"])
def themed_page(request, browser):
    """A tab whose system colour scheme is light or dark; Streamlit's theme follows it."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, color_scheme=request.param)
    tab = context.new_page()
    tab.set_default_timeout(90_000)
    yield request.param, tab
    context.close()
