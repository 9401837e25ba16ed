"""The Import page in a real browser, as a person uses it: a plain Keras encoder and decoder and a
data file uploaded, the progress, the figures, Open in Explore; there a click shows the imported
model's reconstruction, decoded in the browser by the decoder the import wrote, as the server's."""

from __future__ import annotations

import numpy as np
from browser_support import after_the_rerun, canvas_grey_levels, click_point, open_map, open_page, screenshot
from playwright.sync_api import expect

from tests.synthetic import synthetic_dataset
from tests.test_imports import sequential_pair
from vae_core.bundles.bundle import load_bundle
from vae_core.model.onnx_codec import codec_for

NAME = "browser-import"


def test_an_imported_model_opens_in_explore_and_its_clicks_decode_in_the_browser(
    page, app_url, app_models_dir, tmp_path
):
    encoder, decoder, *_ = sequential_pair(tmp_path)
    data = synthetic_dataset(n_train=64, n_test=40, shape=(12, 12, 1))
    np.savez(
        tmp_path / "digits.npz",
        x=np.concatenate([data.x_train, data.x_test]),
        y=np.concatenate([data.y_train, data.y_test]),
    )
    open_page(page, app_url, "import_model")
    for label, path in (("Encoder", encoder), ("Decoder", decoder), ("Your own file", tmp_path / "digits.npz")):
        # By its label: an uploader that holds a file may drop its input, moving every later one up.
        uploader = page.get_by_test_id("stFileUploader").filter(has_text=label)
        uploader.locator('input[type="file"]').set_input_files(str(path))
        expect(uploader).to_contain_text(path.name)
    page.get_by_test_id("stSelectbox").filter(has_text="Dataset").click()
    page.get_by_role("option", name="Your own file").click()
    page.get_by_role("textbox", name="Model name").fill(NAME)
    with after_the_rerun(page, quick_ms=120_000):
        page.get_by_role("button", name="Import").click()
    expect(page.get_by_text(f"Imported as {NAME}: latent size 2, its decoder gives logits.")).to_be_visible(
        timeout=120_000
    )
    expect(page.get_by_test_id("stSidebar").get_by_role("combobox", name="Model")).to_have_value(NAME)
    expect(page.get_by_test_id("stMetric").filter(has_text="test −ELBO")).to_be_visible()
    screenshot(page, "import-done")

    page.get_by_role("button", name="Open in Explore").click()
    expect(page.get_by_role("heading", name="Explore the latent space")).to_be_visible()
    expect(page.get_by_test_id("stSidebar").get_by_role("combobox", name="Model")).to_have_value(NAME)
    point = open_map(page, app_url, model=NAME)[0]  # a reload opens the model the address names
    click_point(page, point)
    reconstruction = page.locator(".clicked-image canvas.reconstruction")
    expect(reconstruction).to_have_attribute("data-index", str(point[2]))
    bundle = load_bundle(app_models_dir / NAME)
    expected = np.round(codec_for(bundle.model).decode(bundle.atlas.z_mean[point[2]])[0, ..., 0] * 255)
    assert np.abs(canvas_grey_levels(reconstruction) - expected).max() <= 2
    screenshot(page, "import-explored")
