"""Every page on bundles at the edges of what the app can make: one test image, a collapsed latent
space, one and 64 latent dimensions, no labels, labels past the class names."""

from __future__ import annotations

import re
import zipfile

import numpy as np
import pytest
from odd_bundles import HOSTILE_CLASS_NAMES, ODD_BUNDLES, OddBundle, save_odd_bundle
from streamlit.testing.v1 import AppTest
from support import app_from_link, png_of_a_seven

from vae_app.figures import latent_scatter
from vae_app.messages import plain
from vae_app.panels.explore_workspace import VIEWS
from vae_core.bundles.files import MODEL_FILE


@pytest.fixture(scope="module")
def odd_models(tmp_path_factory):
    directory = tmp_path_factory.mktemp("odd-models")
    paths = {spec.name: save_odd_bundle(directory, spec) for spec in ODD_BUNDLES}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VAE_MODELS_DIR", str(directory))
        yield paths


def app_with(path, page: str) -> AppTest:
    return app_from_link(page, path.name)


@pytest.mark.parametrize("spec", ODD_BUNDLES, ids=lambda spec: spec.name)
def test_explore_draws_the_scatter(odd_models, spec: OddBundle):
    app = app_with(odd_models[spec.name], "app_pages/explore.py")
    assert len(app.get("plotly_chart")) == 1
    assert app.metric[-1].value == str(spec.images)


@pytest.mark.parametrize("spec", ODD_BUNDLES, ids=lambda spec: spec.name)
def test_every_explore_view_opens(odd_models, spec: OddBundle):
    app = app_with(odd_models[spec.name], "app_pages/explore.py")
    for view, _ in VIEWS:
        app.session_state[view] = True
    app.run()
    assert not app.exception, app.exception
    assert [expander.label for expander in app.expander][0] == "Lens on the selected image's posterior"


@pytest.mark.parametrize("spec", ODD_BUNDLES, ids=lambda spec: spec.name)
def test_every_generate_tab_draws(odd_models, spec: OddBundle):
    app = app_with(odd_models[spec.name], "app_pages/generate.py")
    for view in [tab.label for tab in app.tabs]:
        app.session_state["generate_tab"] = view
        app.run()
        assert not app.exception, (view, app.exception)
        assert len(app.get("download_button")) == 1, view  # the open tab's picture, path or walk


@pytest.mark.parametrize("spec", ODD_BUNDLES, ids=lambda spec: spec.name)
def test_encode_places_an_uploaded_digit(odd_models, spec: OddBundle):
    app = app_with(odd_models[spec.name], "app_pages/encode.py")
    app.get("file_uploader")[0].set_value(("seven.png", png_of_a_seven(), "image/png")).run()
    assert not app.exception, app.exception
    assert not app.error
    assert any(image.proto.imgs[0].caption == "its reconstruction" for image in app.get("image"))


def test_compare_takes_every_odd_bundle(odd_models):
    app = app_with(next(iter(odd_models.values())), "app_pages/compare.py")
    names = list(odd_models)
    for picked in (names[start : start + 4] for start in range(0, len(names) - 1, 3)):  # two to four each
        app.multiselect(key="compare_models").set_value(picked).run()
        assert not app.exception, app.exception
        assert list(app.dataframe[0].value["model"]) == picked


def test_class_names_from_the_data_show_as_written(odd_models):
    app = app_with(odd_models["hostile-class-names"], "app_pages/encode.py")
    app.get("file_uploader")[0].set_value(("seven.png", png_of_a_seven(), "image/png")).run()
    assert not app.exception, app.exception
    captions = [image.proto.imgs[0].caption for image in app.get("image")]
    (nearest,) = [caption for caption in captions if any(name in unescaped(caption) for name in HOSTILE_CLASS_NAMES)]
    for name in HOSTILE_CLASS_NAMES:
        if name in unescaped(nearest):
            assert plain(name) in nearest  # escaped for Markdown: shown as written
    figure = latent_scatter(np.zeros((10, 2)), np.arange(10), HOSTILE_CLASS_NAMES, ("z0", "z1"))
    assert [trace.name for trace in figure.data][:4] == [
        "**BOLD**",
        "$x^2$",
        "[click](javascript:alert(1))",
        "&lt;b&gt;tag&lt;/b&gt;",
    ]
    assert all("%{fullData.name}" in trace.hovertemplate and "%{x}" not in trace.hovertemplate for trace in figure.data)


def unescaped(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def test_a_model_keras_cannot_load_is_named_on_every_page_without_a_traceback(tmp_path, monkeypatch):
    spec = OddBundle("weightless")
    path = save_odd_bundle(tmp_path, spec)
    with zipfile.ZipFile(path / MODEL_FILE) as archive:
        config = archive.read("config.json")
    with zipfile.ZipFile(path / MODEL_FILE, "w") as archive:  # the weights left out
        archive.writestr("config.json", config)
    monkeypatch.setenv("VAE_MODELS_DIR", str(tmp_path))
    for page in ("app_pages/explore.py", "app_pages/generate.py", "app_pages/encode.py"):
        app = app_with(path, page)
        (error,) = [error.value for error in app.error]
        assert error.startswith("weightless cannot be used: model.keras could not be loaded (")
        assert error.endswith("Train or copy the model again. Pick another model in the sidebar.")
