"""The Import page in AppTest: a plain Keras encoder and decoder uploaded with a data file become a
model the sidebar lists, with its figures and Open in Explore; a file that will not do gets a line
and saves nothing."""

from __future__ import annotations

import io

import numpy as np
from streamlit.testing.v1 import AppTest
from support import APP

from tests.synthetic import synthetic_dataset
from tests.test_imports import sequential_pair

PAGE = "app_pages/import_model.py"


def import_page() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=180).run()
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def data_file() -> bytes:
    data = synthetic_dataset(n_train=64, n_test=24, shape=(12, 12, 1))
    buffer = io.BytesIO()
    np.savez(buffer, x=np.concatenate([data.x_train, data.x_test]), y=np.concatenate([data.y_train, data.y_test]))
    return buffer.getvalue()


def upload(app: AppTest, label_start: str, name: str, data: bytes) -> None:
    uploader = next(up for up in app.get("file_uploader") if up.proto.label.startswith(label_start))
    uploader.set_value((name, data, "application/octet-stream"))


def submit(app: AppTest, encoder: tuple[str, bytes], decoder: tuple[str, bytes], name: str) -> AppTest:
    upload(app, "Encoder", *encoder)
    upload(app, "Decoder", *decoder)
    upload(app, "Your own file", "digits.npz", data_file())
    app.selectbox(key=next(box.key for box in app.selectbox if box.label == "Dataset")).set_value("own")
    app.text_input(key=next(box.key for box in app.text_input if box.label == "Model name")).set_value(name)
    next(button for button in app.button if button.label == "Import").click().run()
    assert not app.exception, app.exception
    return app


def test_an_imported_keras_pair_is_listed_with_its_figures_and_the_way_to_explore_it(models_dir, tmp_path):
    encoder, decoder, *_ = sequential_pair(tmp_path)
    app = submit(import_page(), (encoder.name, encoder.read_bytes()), (decoder.name, decoder.read_bytes()), "My VAE")
    assert "Imported as my-vae: latent size 2" in app.success[0].value, [e.value for e in app.error]
    assert {metric.label for metric in app.metric} >= {"test −ELBO (nats)", "5-NN accuracy"}
    assert any(button.label == "Open in Explore" for button in app.button)
    picker = next(box for box in app.sidebar.selectbox if box.label == "Model")
    assert picker.value == "my-vae"  # listed, and picked: the pages that follow show it
    assert (models_dir / "my-vae" / "encoder.onnx").is_file()


def test_a_file_that_will_not_do_gets_a_line_and_saves_nothing(models_dir, tmp_path):
    encoder, *_ = sequential_pair(tmp_path)
    app = submit(import_page(), (encoder.name, encoder.read_bytes()), ("decoder.onnx", b"not a model"), "broken")
    assert "decoder.onnx is not an ONNX model" in app.error[0].value
    assert not app.success and not (models_dir / "broken").exists()
    assert str(tmp_path) not in app.error[0].value
