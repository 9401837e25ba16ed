"""The app's entry page renders with and without models, and lists what the registry finds."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")


def test_home_page_without_user_models_renders(models_dir):
    app = AppTest.from_file(APP).run(timeout=60)
    assert not app.exception
    assert app.title[0].value == "VAE Explorer"
    assert "MNIST" in app.caption[-1].value and "Zalando" in app.caption[-1].value


def test_home_page_reports_a_broken_model_folder(models_dir):
    (models_dir / "half-saved").mkdir(parents=True)
    app = AppTest.from_file(APP).run(timeout=60)
    assert not app.exception
    assert any("missing model.keras" in warning.value for warning in app.warning)
