"""Every page on an imported model (a plain Keras MLP pair, as ONNX in its bundle): Explore and each
of its views, each Generate tab, Encode, Compare beside a trained model; the replay says why it has
none."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest
from support import app_from_link, png_of_a_seven

from tests.synthetic import synthetic_dataset
from tests.test_imports import sequential_pair
from vae_app.panels.explore_workspace import VIEWS
from vae_core.imports.importer import ImportRequest, import_model

NAME = "imported-mlp"


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("imported")
    encoder, decoder, *_ = sequential_pair(folder, side=28)
    data = synthetic_dataset(n_train=96, n_test=48)
    import_model(ImportRequest(encoder, decoder, folder / "models" / NAME, iw_samples=4), data)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VAE_MODELS_DIR", str(folder / "models"))
        yield folder / "models" / NAME


def page_of(page: str) -> AppTest:
    return app_from_link(page, NAME)


def test_explore_and_every_view_take_an_imported_model(imported):
    app = page_of("app_pages/explore.py")
    assert len(app.get("plotly_chart")) == 1
    for view, _ in VIEWS:
        app.session_state[view] = True
    app.run()
    assert not app.exception, app.exception
    assert any("imported, trained elsewhere" in info.value for info in app.info)
    assert any("imported · latent 2 · from Keras" in text.value for text in app.sidebar.markdown)


def test_every_generate_tab_draws_an_imported_model(imported):
    app = page_of("app_pages/generate.py")
    for view in [tab.label for tab in app.tabs]:
        app.session_state["generate_tab"] = view
        app.run()
        assert not app.exception, (view, app.exception)


def test_encode_places_a_digit_with_an_imported_model(imported):
    app = page_of("app_pages/encode.py")
    app.get("file_uploader")[0].set_value(("seven.png", png_of_a_seven(), "image/png")).run()
    assert not app.exception, app.exception
    assert any(image.proto.imgs[0].caption == "its reconstruction" for image in app.get("image"))


def test_compare_takes_an_imported_model_beside_a_trained_one(imported):
    app = page_of("app_pages/compare.py")
    app.multiselect(key="compare_models").set_value([NAME, "mnist-conv-2d"]).run()
    assert not app.exception, app.exception
    assert list(app.dataframe[0].value["model"]) == [NAME, "mnist-conv-2d"]
