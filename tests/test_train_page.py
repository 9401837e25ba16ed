"""The Train page under Streamlit's AppTest: a quick run on the first images, the form folded while a
run is watched, and the end of a run with its test figures, its losses as CSV and the way into Explore."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest
from support import APP, offline_mnist, start_training

from vae_app.panels.training_progress import job_board, scoring
from vae_core.analysis import evaluation
from vae_core.bundles.files import read_meta

pytestmark = pytest.mark.slow  # training runs started from the page

TRAIN, EXPLORE = "app_pages/train.py", "app_pages/explore.py"


@pytest.fixture
def mnist_of_300(tmp_path, monkeypatch):
    """A 300-image MNIST stand-in, so a run takes seconds."""
    offline_mnist(tmp_path, monkeypatch, train_images=300)


def train_page() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120).run()
    app.switch_page(TRAIN).run()
    assert not app.exception, app.exception
    return app


def start(app: AppTest, name: str, **values: object) -> None:
    start_training(app, Preset="mlp", **{"Hidden sizes": "16", "Batch size": 32, "Model name": name}, **values)


def until_the_end(app: AppTest) -> None:
    """Wait for the run, then draw the page again, as its timer would."""
    job_board().latest().join(timeout=240)
    app.run()
    assert not app.exception, app.exception


def test_a_quick_run_trains_on_the_first_images_asked_for(models_dir, mnist_of_300):
    app = train_page()
    limit = next(box for box in app.number_input if box.label == "Train on the first N images")
    assert (limit.value, limit.min) == (0, 0)  # 0 trains on all of them
    start(app, "first-100", **{"Train on the first N images": 100, "Epochs": 1})
    until_the_end(app)
    meta = read_meta(models_dir / "first-100")
    assert (meta.config.train_limit, meta.dataset.train_images) == (100, 100)
    assert app.expander[0].label.endswith("on MNIST, first 100 images")


def test_the_form_folds_for_the_run_and_its_end_opens_the_model_in_explore(models_dir, mnist_of_300):
    app = train_page()
    assert app.expander[0].label == "Settings" and app.expander[0].proto.expanded
    start(app, "watched", Epochs=2)
    folded = app.expander[0]
    assert not folded.proto.expanded
    assert folded.label == "Settings of watched: mlp, latent size 2, 2 epochs of batch 32, on MNIST"
    assert app.subheader[0].value == "Run: watched"
    until_the_end(app)
    assert "Trained 2 epochs. Saved as watched." in app.success[0].value
    figures = {metric.label: metric.value for metric in app.metric}
    assert set(figures) == {"test −ELBO (nats)", "IW bound, k=100 (nats)", "5-NN accuracy"}
    metrics = read_meta(models_dir / "watched").test_metrics
    assert figures["test −ELBO (nats)"] == f"{metrics.neg_elbo:.1f}" and figures["5-NN accuracy"].endswith("%")
    took = next(caption.value for caption in app.caption if caption.value.startswith("Took "))
    for step in ("opening the data", "training", "importance-weighted bound", "saving the model"):
        assert step in took
    assert not app.expander[0].proto.expanded  # the browser that started it sees its end
    assert [button.proto.label for button in app.get("download_button")] == ["Download the losses per epoch (CSV)"]

    next(button for button in app.button if button.label == "Open in Explore").click().run()
    assert not app.exception, app.exception
    assert app.session_state["model_name"] == "watched" and app.query_params["model"] == "watched"
    assert app.title[0].value == "Explore the latent space"


def test_the_form_stays_open_for_another_browser_once_the_run_has_ended(models_dir, mnist_of_300):
    owner = train_page()
    start(owner, "someone-elses", Epochs=1)
    until_the_end(owner)
    other = train_page()
    assert other.expander[0].label == "Settings" and other.expander[0].proto.expanded
    assert any(button.label == "Open in Explore" for button in other.button)


def test_the_end_says_what_the_evaluation_scored():
    quick = evaluation.TestMetrics(160.0, 150.0, 10.0, 158.0, 100, 10_000, 0.7, 5, 570)
    assert scoring(quick) == (
        "The ELBO and the importance-weighted bound (k = 100) of all 10,000 test images, the bound's samples drawn"
        " for 570 of them spread evenly (the rest's follows from their ELBO) and the 5-NN accuracy on those: as many"
        " as fit in 25% of the training time."
    )
    unlabelled = evaluation.TestMetrics(160.0, 150.0, 10.0, 158.0, 100, 12, None, 5, 12)
    assert scoring(unlabelled) == "The ELBO and the importance-weighted bound (k = 100) on all 12 test images."
