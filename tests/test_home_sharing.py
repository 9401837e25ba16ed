"""Home's "Share a model" under AppTest: the download offers the sidebar's model (or the one picked) as
the zip `pack_bundle` makes, and an upload of it is added under the name typed, listed at once in
the Models table and the sidebar; a zip that is not a bundle, or a name in use, gets a line."""

from __future__ import annotations

import io
import zipfile

import pytest
import streamlit as st
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest
from support import APP

from vae_core.bundles.registry import PRETRAINED_DIR
from vae_core.bundles.sharing import pack_bundle

SMALLEST = "mnist-mlp-2d"  # 4 MB: the quickest shipped bundle to zip


@pytest.fixture
def offered(monkeypatch) -> dict:
    """What each download button would give when clicked, by file name: the callable Streamlit keeps
    until the browser asks for the file (AppTest has no browser to ask)."""
    callables, register = {}, MediaFileManager.add_deferred

    def recording(self, data_callable, mimetype, coordinates, file_name=None, **options):
        callables[file_name] = data_callable
        return register(self, data_callable, mimetype, coordinates, file_name, **options)

    monkeypatch.setattr(MediaFileManager, "add_deferred", recording)
    return callables


def home() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120).run()
    assert not app.exception, app.exception
    return app


def shared_model(app: AppTest):
    return next(box for box in app.selectbox if box.label == "Model to share")


def upload(app: AppTest, name: str, data: bytes) -> AppTest:
    uploader = next(up for up in app.get("file_uploader") if up.proto.label == "Add a shared model (.zip)")
    uploader.set_value((name, data, "application/zip")).run()
    assert not app.exception, app.exception
    return app


def add(app: AppTest, name: str | None = None) -> AppTest:
    if name is not None:
        app.text_input(key=next(box.key for box in app.text_input if box.label == "Name")).set_value(name)
    next(button for button in app.button if button.label == "Add the model").click().run()
    assert not app.exception, app.exception
    return app


def test_home_offers_the_sidebars_model_as_a_zip_made_when_clicked(models_dir, offered):
    app = home()
    assert "Share a model" in [header.value for header in app.subheader]
    assert shared_model(app).value == "mnist-conv-2d"  # the sidebar's
    assert [button.label for button in app.get("download_button")] == ["Download as .zip"]
    assert app.get("download_button")[0].proto.deferred_file_id  # nothing packed until asked for
    app.sidebar.selectbox[0].set_value(SMALLEST).run()
    assert shared_model(app).value == SMALLEST
    with zipfile.ZipFile(io.BytesIO(offered[f"{SMALLEST}.zip"]())) as archive:
        assert sorted(archive.namelist()) == sorted(
            f"{SMALLEST}/{path.name}" for path in (PRETRAINED_DIR / SMALLEST).iterdir()
        )


def test_an_uploaded_zip_is_added_under_the_name_typed_and_listed_at_once(models_dir):
    app = upload(home(), f"{SMALLEST}.zip", pack_bundle(PRETRAINED_DIR / SMALLEST))
    uploader = app.get("file_uploader")[0]
    assert uploader.proto.max_upload_size_mb <= st.get_option("server.maxUploadSize")  # what the server takes
    assert [box.value for box in app.text_input] == [f"{SMALLEST}-2"]  # the shipped one has its name
    add(app, "From A Friend")
    assert [line.value for line in app.success] == [
        "Added from-a-friend: it is in the Models table and the sidebar's list."
    ]
    assert "from-a-friend" in list(app.dataframe[0].value["name"])
    assert "from-a-friend" in app.sidebar.selectbox[0].options
    assert app.text_input.len == 0 and app.get("file_uploader")[0].value is None  # ready for the next one
    assert [path.name for path in models_dir.iterdir()] == ["from-a-friend"]


def test_a_zip_that_is_not_a_bundle_or_a_name_in_use_gets_a_line_and_adds_nothing(models_dir):
    app = upload(home(), "holiday.zip", b"these are photos")
    assert [error.value for error in app.error] == [
        "holiday.zip is not a zip file. Share the model again as a .zip (Home's Share a model, or vae-bundles pack)."
    ]
    app = upload(home(), "again.zip", pack_bundle(PRETRAINED_DIR / SMALLEST))
    add(app, "mine")
    app = upload(app, "again.zip", pack_bundle(PRETRAINED_DIR / SMALLEST))
    assert [box.value for box in app.text_input] == [f"{SMALLEST}-2"]
    add(app, "mine")
    assert [error.value for error in app.error] == [
        "A model named 'mine' is already in the models folder: choose another name."
    ]
    assert [path.name for path in models_dir.iterdir()] == ["mine"]
