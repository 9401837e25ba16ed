"""Every page of the app under Streamlit's AppTest, on the shipped pretrained models.

AppTest cannot click plotly points or rerun fragments on a timer; those paths are covered by the
plain-function tests (selection parsing) and the real-browser tests.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import zipfile

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest
from support import APP, offline_mnist, png_of_a_seven, set_form, start_training, wait_until
from synthetic import synthetic_images, write_image_folder

from vae_app.figures import selected_indices
from vae_app.messages import plain
from vae_core.bundles.files import REPLAY_FILE, read_meta
from vae_core.bundles.registry import PRETRAINED_DIR
from vae_core.config import RANGES, TrainConfig

PAGES = [
    "app_pages/train.py",
    "app_pages/explore.py",
    "app_pages/generate.py",
    "app_pages/encode.py",
    "app_pages/compare.py",
]


def app_on(page: str | None = None) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120).run()
    if page:
        app.switch_page(page).run()
    assert not app.exception, app.exception
    return app


def opened(app: AppTest, *views: str) -> AppTest:
    """The app with Explore's views of these keys opened (each computes only while open)."""
    for view in views:
        app.session_state[view] = True
    app.run()
    assert not app.exception, app.exception
    return app


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_the_default_model(models_dir, page):
    app = app_on(page)
    assert app.title[0].value


def test_compare_shows_metrics_and_says_why_models_cannot_stand_side_by_side(models_dir):
    app = app_on("app_pages/compare.py")
    others = [path for path in PRETRAINED_DIR.iterdir() if path.name != "mnist-conv-2d"]
    newest = max((meta.created, path.name) for path in others if (meta := read_meta(path)).dataset.name == "mnist")
    assert list(app.dataframe[0].value["model"]) == ["mnist-conv-2d", newest[1]]  # the newest other MNIST model

    app.multiselect[0].set_value(["mnist-conv-2d", "mnist-cvae-2d"]).run()
    table = app.dataframe[0].value
    assert list(table["conditional"]) == [False, True] and list(table["active units"]) == [2, 2]
    assert not app.warning  # one latent size, one dataset: side by side
    assert any("given each image's label" in caption.value for caption in app.caption)
    captions = [image.proto.imgs[0].caption for image in app.get("image")]
    assert plain("mnist-cvae-2d: z ~ N(0, I), seed 0, as classes 0, 1, 2… in turn") in captions  # shown as written

    app.multiselect[0].set_value(["mnist-conv-2d", "mnist-conv-16d"]).run()
    assert [warning.value for warning in app.warning] == [
        "Not side by side: the same seed draws the same z only for models of one latent size."
    ]

    app.multiselect[0].set_value(["mnist-conv-2d", "fashion-conv-2d"]).run()

    assert not app.exception
    assert [warning.value for warning in app.warning] == [
        "Not side by side: mnist-conv-2d was trained on mnist and fashion-conv-2d on fashion_mnist:"
        " they have no test images in common."
    ]


def test_explore_shows_metrics_and_offers_projections_above_two_dimensions(models_dir):
    app = app_on("app_pages/explore.py")
    assert [m.label for m in app.metric][0] == "test −ELBO (nats)"
    assert [radio.label for radio in app.radio] == ["Colour by"]  # a 2-D model needs no projection choice
    app.sidebar.selectbox[0].select(next(o for o in app.sidebar.selectbox[0].options if "mnist-conv-16d" in o)).run()
    plane = app.radio(key="explore_view")
    options = [option.split(" ")[0] for option in plane.options]
    assert plane.value.startswith("PCA") and options == ["PCA", "LDA", "two", "UMAP", "t-SNE"]
    plane.set_value(plane.options[1]).run()  # the plane that separates the classes, decodable as any
    assert not app.exception and app.query_params["plane"] == "lda"
    assert any("every point on it decodes" in caption.value for caption in app.caption)
    plane = app.radio(key="explore_view")
    plane.set_value(plane.options[2]).run()
    assert not app.exception and [s.label for s in app.main.selectbox][:2] == ["Horizontal axis", "Vertical axis"]
    held = app.radio(key="explore_held")
    assert held.label == "Hold the other dimensions at"
    held.set_value("a test image's z").run()
    assert not app.exception and "Test image" in [widget.label for widget in app.number_input]


def test_selection_events_give_test_indices():
    clicked = {"selection": {"points": [{"customdata": 17, "x": 0.1}], "box": [], "lasso": []}}
    boxed = {"selection": {"points": [{"customdata": [5]}, {"customdata": 3}, {"customdata": 5}]}}
    assert selected_indices(clicked) == [17]
    assert selected_indices(boxed) == [3, 5]
    assert selected_indices({"selection": {"points": []}}) == [] and selected_indices(None) == []


def test_generate_computes_only_the_open_tab(models_dir):
    app = app_on("app_pages/generate.py")
    assert [tab.label for tab in app.tabs] == [
        "Decode a point", "Grid over the plane", "Samples from the prior", "Samples from the codes' mixture",
        "Path between two images", "Walk",
    ]  # fmt: skip
    captions = [image.proto.imgs[0].caption for image in app.get("image")]
    assert len(captions) == 1 and re.fullmatch(r"nearest test images to z0 = \S+, z1 = \S+: (\d, ){7}\d", captions[0])
    assert [button.proto.label for button in app.get("download_button")] == ["Download this picture (PNG)"]
    opened = {
        "Grid over the plane": "15 x 15 manifold, linear spacing",
        "Samples from the prior": "32 samples of z ~ N(0, I)",
        "Samples from the codes' mixture": "32 samples of z from the codes' mixture",
        "Path between two images": "7 → 2: originals at both ends, decoded path between",
    }
    for view, caption in opened.items():
        app.session_state["generate_tab"] = view
        app.run()
        assert not app.exception, view
        assert [image.proto.imgs[0].caption for image in app.get("image")] == [plain(caption)]
        assert len(app.get("download_button")) == 1  # the open tab's, and no other's
    app.session_state["generate_tab"] = "Walk"
    app.run()
    walk = [image.proto.imgs[0].caption for image in app.get("image")]
    assert not app.exception and len(walk) == 1 and walk[0].endswith(" as GIF"), walk


def test_explore_colours_by_each_score_and_shows_the_worst_modelled_images(models_dir):
    app = app_on("app_pages/explore.py")
    for colouring in ("reconstruction error", "negative ELBO", "class"):
        app.radio(key="explore_colour").set_value(colouring).run()
        assert not app.exception, colouring
    opened(app, "explore_unusual")

    captions = [image.proto.imgs[0].caption for image in app.get("image")]
    worst = next(caption for caption in captions if caption.startswith("highest negative ELBO first"))
    scores = [float(score) for score in re.findall(r"\(([0-9]+)\)", worst)]
    assert len(scores) == 24 and scores == sorted(scores, reverse=True)
    assert "their reconstructions" in captions


def test_encode_upload_shows_every_step_and_the_reconstruction(models_dir):
    app = app_on("app_pages/encode.py")
    app.get("file_uploader")[0].set_value(("seven.png", png_of_a_seven(), "image/png")).run()
    assert not app.exception and not app.error
    captions = [image.proto.imgs[0].caption for image in app.get("image")]
    assert captions[:2] == ["grayscale", "inverted, background removed"]
    assert "its reconstruction" in captions and any(c.startswith("centred by mass") for c in captions)
    score = next(markdown.value for markdown in app.markdown if markdown.value.startswith("**anomaly score**"))
    unusual = r"\*\*anomaly score\*\* \(negative ELBO\) \d+\.\d nats: more unusual than \d+\.\d% of test images"
    assert re.fullmatch(unusual, score), score


def test_encode_bad_upload_gets_a_message_and_the_app_keeps_running(models_dir):
    app = app_on("app_pages/encode.py")
    app.get("file_uploader")[0].set_value(("seven.png", b"not really a png", "image/png")).run()
    assert not app.exception
    assert "not a picture that can be read" in app.error[0].value


def offline_download(name: str) -> dict:
    raise OSError("no network in tests")


@pytest.fixture
def tiny_mnist(tmp_path, monkeypatch):
    """A 200-image MNIST stand-in, so a training run takes seconds."""
    offline_mnist(tmp_path, monkeypatch, train_images=200)
    return tmp_path


def test_the_train_form_offers_the_configs_ranges_and_defaults(models_dir):
    defaults = TrainConfig()
    fields = {
        "Latent size": ("latent_dim", defaults.model.latent_dim),
        "KL weight (beta)": ("beta", defaults.model.beta),
        "KL warm-up epochs": ("kl_warmup_epochs", defaults.kl_warmup_epochs),
        "Learning rate": ("learning_rate", defaults.learning_rate),
        "Weight decay": ("weight_decay", defaults.weight_decay),
        "Batch size": ("batch_size", defaults.batch_size),
        "Epochs": ("epochs", defaults.epochs),
        "Validation split": ("validation_split", defaults.validation_split),
        "Seed": ("seed", defaults.seed),
    }
    app = app_on("app_pages/train.py")
    shown = {widget.label: (widget.min, widget.max, widget.value) for widget in app.number_input}
    for label, (setting, default) in fields.items():
        assert shown[label] == (RANGES[setting].low, RANGES[setting].high, default), label
    choices = {widget.label: widget.value for widget in app.selectbox}
    assert (choices["Preset"], choices["Reconstruction loss"], choices["Optimizer"]) == ("conv", "bernoulli", "adam")
    assert (choices["Learning-rate schedule"], choices["Precision"]) == (defaults.lr_schedule, defaults.precision)


def test_the_train_forms_tensorboard_logs_go_to_the_runs_folder_and_nowhere_else(models_dir, tmp_path, monkeypatch):
    """The form offers no folder of its own choosing: a visitor cannot have the server write elsewhere."""
    from vae_app.services.jobs import JobBoard

    asked = []
    monkeypatch.setattr(JobBoard, "warm", lambda board: None)  # no training process for runs never started
    monkeypatch.setattr(JobBoard, "start", lambda board, request, owner="": asked.append(request))
    monkeypatch.setenv("VAE_TENSORBOARD_DIR", str(tmp_path / "runs"))
    app = app_on("app_pages/train.py")
    start_training(app, **{"Model name": "plain"})
    start_training(app, **{"Write TensorBoard logs": True, "Model name": "../logged"})
    assert [request.tensorboard for request in asked] == [None, tmp_path / "runs" / "logged"]
    assert asked[1].out_dir == models_dir / "logged"


def test_train_refuses_invalid_settings_before_starting(models_dir, tiny_mnist):
    app = app_on("app_pages/train.py")
    set_form(app, **{"Hidden sizes": "64,abc"})
    app.button[0].click().run()
    assert "hidden sizes" in app.error[0].value.lower()
    set_form(app, **{"Hidden sizes": "", "Dataset": "own"})
    app.button[0].click().run()
    assert app.error[0].value == "Choose a CSV, NPZ or zip file to train on your own data."
    assert not models_dir.exists() or not any(models_dir.iterdir())


def rerun_until_finished(app: AppTest, seconds: float = 240) -> None:
    """Wait for the run to end, then rerun the Train page, as its timer does, until it says how it ended."""
    from vae_app.panels.training_progress import job_board

    job_board().latest().join(timeout=seconds)
    for _ in range(3):
        app.run()
        if app.success or app.error or [warning for warning in app.warning if "Saved as" in warning.value]:
            break
    assert not app.exception


@pytest.mark.slow
def test_train_runs_in_the_background_streams_epochs_and_saves_a_model(models_dir, tiny_mnist):
    app = app_on("app_pages/train.py")
    start_training(
        app, **{"Preset": "mlp", "Hidden sizes": "32", "Epochs": 3, "Batch size": 32, "Model name": "tiny run"}
    )
    rerun_until_finished(app)
    assert "Trained 3 epochs" in app.success[0].value
    assert (models_dir / "tiny-run" / "model.keras").is_file()
    assert any(option.endswith("tiny-run") for option in app.sidebar.selectbox[0].options)
    assert app.get("plotly_chart"), "loss curves are drawn"


def test_encode_is_ready_to_draw_or_upload_on_arrival(models_dir):
    app = app_on("app_pages/encode.py")
    assert not app.exception
    assert app.markdown[0].value.startswith("**Draw one digit**")
    assert [uploader.proto.label for uploader in app.get("file_uploader")] == ["Or upload a picture of one digit"]


def csv_upload(pixel_columns: int, rows: int) -> tuple[str, bytes, str]:
    """An unlabelled CSV upload of `rows` synthetic images with `pixel_columns` columns each."""
    images, _ = synthetic_images(rows)
    cells = images.reshape(rows, -1)[:, :pixel_columns]
    lines = [",".join(f"pixel{i}" for i in range(pixel_columns)), *(",".join(map(str, row)) for row in cells)]
    return "mine.csv", "\n".join(lines).encode(), "text/csv"


@pytest.mark.slow
def test_train_error_about_k_star_k_shows_the_star(models_dir):
    from markdown_it import MarkdownIt

    app = app_on("app_pages/train.py")
    set_form(app, Dataset="own")
    app.get("file_uploader")[0].set_value(csv_upload(783, 3))
    app.button[0].click().run()
    rerun_until_finished(app)  # the run opens the data, and fails saying why
    shown = MarkdownIt().render(app.error[0].value)  # Streamlit renders an error's text as Markdown
    assert "expected k*k (grayscale" in shown and "3*k*k (RGB" in shown and "<em>" not in shown


@pytest.mark.slow
def test_train_on_three_images_warns_that_the_atlas_will_be_tiny_and_saves(models_dir):
    app = app_on("app_pages/train.py")
    app.get("file_uploader")[0].set_value(csv_upload(784, 3))
    start_training(app, **{"Dataset": "own", "Preset": "mlp", "Hidden sizes": "32", "Epochs": 1, "Model name": "three"})
    rerun_until_finished(app)
    assert any("the atlas will be tiny" in warning.value for warning in app.warning)
    assert "Trained 1 epoch." in app.success[0].value
    assert (models_dir / "three" / "model.keras").is_file()


@pytest.mark.slow
def test_only_the_session_that_started_a_run_can_stop_it_and_clearing_caches_keeps_it(models_dir, tiny_mnist):
    import streamlit as st

    from vae_app.panels.training_progress import job_board

    owner = app_on("app_pages/train.py")
    start_training(
        owner, **{"Preset": "mlp", "Hidden sizes": "32", "Epochs": 200, "Batch size": 8, "Model name": "shared"}
    )
    wait_until(lambda: job_board().latest().progress().stage != "starting", "the run's start")
    st.cache_resource.clear()  # what the developer menu's "Clear caches" does
    other = app_on("app_pages/train.py")
    assert other.subheader[0].value == "Run: shared"
    assert not [button for button in other.button if button.key == "stop_training"]
    assert any("only that browser can stop it" in caption.value for caption in other.caption)
    owner.run()
    (stop,) = [button for button in owner.button if button.key == "stop_training"]
    stop.click().run()
    job = job_board().latest()
    job.join(timeout=300)
    assert job.progress().status == "stopped"


def tiff_of_a_seven() -> bytes:
    buffer = io.BytesIO()
    Image.open(io.BytesIO(png_of_a_seven())).save(buffer, format="TIFF")
    return buffer.getvalue()


def test_encode_takes_tiff_and_ico_files(models_dir):
    app = app_on("app_pages/encode.py")
    assert {".tif", ".tiff", ".ico", ".jpg", ".jpeg"} <= set(app.get("file_uploader")[0].proto.type)
    app.get("file_uploader")[0].set_value(("seven.tif", tiff_of_a_seven(), "image/tiff")).run()
    assert not app.exception and not app.error
    assert "its reconstruction" in [image.proto.imgs[0].caption for image in app.get("image")]


def test_a_link_opens_the_model_and_plane_it_names_and_the_address_follows_the_view(models_dir):
    app = AppTest.from_file(APP, default_timeout=120)
    app.query_params.update({"model": "mnist-conv-16d", "plane": "z3,z5"})
    app.run()
    app.switch_page("app_pages/explore.py").run()
    assert not app.exception
    assert app.sidebar.selectbox[0].value == "mnist-conv-16d"  # bundle names, never server paths
    assert app.radio[0].value == "two latent dimensions"
    assert [box.value for box in app.main.selectbox][:2] == [3, 5]
    app.radio[0].set_value(app.radio[0].options[0]).run()
    assert app.query_params["plane"] == "pca" and app.query_params["model"] == "mnist-conv-16d"


def test_a_link_to_a_model_that_is_not_here_says_so(models_dir):
    app = AppTest.from_file(APP, default_timeout=120)
    app.query_params["model"] = "no-such-model"
    app.run()
    assert not app.exception
    assert app.sidebar.selectbox[0].value == "mnist-conv-2d"
    assert any("no-such-model" in warning.value for warning in app.sidebar.warning)


def test_a_link_with_a_very_long_model_name_is_quoted_short(models_dir):
    app = AppTest.from_file(APP, default_timeout=120)
    app.query_params["model"] = "x" * 60_000
    app.run()
    assert not app.exception
    assert app.sidebar.selectbox[0].value == "mnist-conv-2d"
    (warning,) = app.sidebar.warning
    assert "xxx…" in warning.value and len(warning.value) < 200


def test_a_browser_keeps_its_name_across_reloads_whatever_the_cookie_s_mask():
    from vae_app.panels.training_progress import _browser_token

    first = _browser_token("2|68b9e034|8bd6c510224e060db3a823c0e1a0d1f6|1796007173")  # seen in chromium
    reloaded = _browser_token("2|1390bdfb|f0ff98df59675bc2c8817e0f9a898c39|1796007173")  # the same, reloaded
    other = _browser_token("2|1390bdfb|00ff98df59675bc2c8817e0f9a898c39|1796007173")
    assert first == reloaded and first != other and len(first) == 64
    assert _browser_token(None) is None and _browser_token("2|zz|yy|1") is None and _browser_token("x") is None


@pytest.mark.parametrize("text", ["z³,z1", "z1,z1", "z1,z99", "pca", "", "z1;z2", "z-1,z2", "z" + "9" * 5000 + ",z1"])
def test_a_plane_named_oddly_in_a_link_falls_back_to_pca(text):
    from vae_app.planes import linked_dimensions

    assert linked_dimensions(text, 16) is None
    assert linked_dimensions("z3,z15", 16) == (3, 15)


def test_explore_draws_no_arrow_until_a_direction_is_made_and_each_view_opens(models_dir):
    app = app_on("app_pages/explore.py")
    assert len(app.get("plotly_chart")) == 1 and not app.get("image")  # nothing computed behind closed views
    opened(app, "explore_directions")
    assert not json.loads(app.get("plotly_chart")[0].proto.spec)["layout"].get("annotations")
    group_b = next(widget for widget in app.selectbox if widget.label == "Group B")
    app.selectbox(key=group_b.key).set_value("class 7").run()
    (arrow,) = json.loads(app.get("plotly_chart")[0].proto.spec)["layout"]["annotations"]
    assert arrow["showarrow"] and arrow["arrowcolor"] == "#FF00FF"
    opened(app, "explore_lens", "explore_unusual", "explore_pad", "explore_replay")
    assert "Click one point on the map: its posterior shows here." in [info.value for info in app.info]
    assert any(image.proto.imgs[0].caption.startswith("nearest test images to the pad") for image in app.get("image"))


def test_explore_moves_an_image_along_a_direction_between_two_classes_and_keeps_it(models_dir):
    app = opened(app_on("app_pages/explore.py"), "explore_directions")
    by_label = {widget.label: widget for widget in app.selectbox}
    by_label["Group A"].set_value("class 1").run()
    app.selectbox(key=by_label["Group B"].key).set_value("class 7").run()
    captions = [image.proto.imgs[0].caption for image in app.get("image")]
    strip = "test image 0, then moved from -2 to +2 lengths of class 1 → class 7"
    assert any(caption.startswith(strip) for caption in captions)

    name = next(widget for widget in app.text_input if widget.label == "Name for this direction")
    app.text_input(key=name.key).set_value("stroke").run()
    app.button(key=next(b.key for b in app.button if b.label == "Keep it")).click().run()

    use = next(widget for widget in app.selectbox if widget.label == "Direction to apply")
    assert use.options == ["class 1 → class 7", "kept: stroke"]
    assert next(b for b in app.get("download_button") if "Download the kept directions (1)" in b.proto.label)


HEAD = b'{"format": "vae-directions/1", "directions": '


@pytest.mark.parametrize(
    ("wrong", "expected"),
    [
        (
            HEAD + b'[{"name": "x", "vector": [1, 2, 3]}]}',
            "The direction 'x' has 3 latent dimensions, and this model has 2",
        ),
        (HEAD + b"[" * 200_000 + b"]" * 200_000 + b"}", "The file nests lists and objects more deeply than"),
        (HEAD + b'[{"name": "x", "vector": [1' + b"0" * 400 + b", 0]}]}", "The file holds a number 401 characters"),
    ],
    ids=["latent-size", "nested", "huge-integer"],
)
def test_a_directions_file_that_cannot_be_used_is_refused_plainly(models_dir, wrong, expected):
    app = opened(app_on("app_pages/explore.py"), "explore_directions")
    uploader = next(u for u in app.get("file_uploader") if u.proto.label == "Load directions (JSON)")
    uploader.set_value(("directions.json", wrong, "application/json")).run()

    assert not app.exception
    (error,) = [error.value for error in app.error]
    assert error.startswith(expected)


def test_encode_moves_the_upload_along_a_direction_kept_on_explore(models_dir):
    app = opened(app_on("app_pages/explore.py"), "explore_directions")
    app.button(key=next(b.key for b in app.button if b.label == "Keep it")).click().run()
    app.switch_page("app_pages/encode.py").run()
    app.get("file_uploader")[0].set_value(("seven.png", png_of_a_seven(), "image/png")).run()

    assert not app.exception
    assert [box.value for box in app.selectbox if box.label == "Direction"] == ["class 0 → class 1"]
    captions = [image.proto.imgs[0].caption for image in app.get("image")]
    assert "your digit moved +1.0 lengths" in captions
    assert "your digit, then moved from -2 to +2 lengths of class 0 → class 1" in captions


@pytest.mark.slow
def test_a_conditional_model_trains_from_the_form_and_replays_its_epochs_on_explore(models_dir, tiny_mnist):
    app = app_on("app_pages/train.py")
    conditional_checkbox(app).check()
    start_training(app, **{"Preset": "mlp", "Hidden sizes": "32", "Epochs": 3, "Batch size": 32, "Model name": "cvae"})
    rerun_until_finished(app)
    assert "Trained 3 epochs" in app.success[0].value
    assert read_meta(models_dir / "cvae").model.classes == 10

    app.sidebar.selectbox[0].set_value("cvae").run()
    opened(app.switch_page("app_pages/explore.py"), "explore_replay")
    assert app.metric[0].label == "test −ELBO given the label (nats)"
    epoch = app.select_slider(key=f"replay_epoch:{models_dir / 'cvae'}")
    assert (epoch.options, epoch.value) == (["1", "2", "3"], 3)
    epoch.set_value(1).run()
    first_loss = next(metric.value for metric in app.metric if metric.label == "loss (nats)")
    history = read_meta(models_dir / "cvae").training.history
    assert first_loss == f"{history[0]['loss']:.2f}"


def conditional_checkbox(app: AppTest):
    return next(box for box in app.checkbox if box.label == "Conditional on the label")


@pytest.mark.slow
def test_a_conditional_model_on_unlabelled_data_is_refused_with_a_reason(models_dir):
    app = app_on("app_pages/train.py")
    set_form(app, **{"Dataset": "own", "Preset": "mlp", "Hidden sizes": "32", "Epochs": 1, "Model name": "nolabels"})
    app.get("file_uploader")[0].set_value(csv_upload(784, 20))
    conditional_checkbox(app).check()
    app.button[0].click().run()
    rerun_until_finished(app)
    assert "has no labels, and a conditional VAE is conditioned on each image's label" in app.error[0].value
    assert not (models_dir / "nolabels").exists()


def test_the_training_replay_offers_its_losses_per_epoch_as_csv(models_dir):
    app = opened(app_on("app_pages/explore.py"), "explore_replay")
    (button,) = [button for button in app.get("download_button") if "losses per epoch" in button.proto.label]
    assert button.proto.label == "Download the losses per epoch (CSV)"


def test_explore_says_when_a_model_has_no_training_replay_or_a_damaged_one(models_dir):
    for name in ("old", "damaged"):
        shutil.copytree(PRETRAINED_DIR / "mnist-conv-2d", models_dir / name)
        (models_dir / name / REPLAY_FILE).unlink(missing_ok=True)
    (models_dir / "damaged" / REPLAY_FILE).write_bytes(b"not an npz")
    app = app_on()
    app.sidebar.selectbox[0].set_value("old").run()
    opened(app.switch_page("app_pages/explore.py"), "explore_replay")
    assert any(info.value.startswith("This model has no training replay") for info in app.info)
    app.sidebar.selectbox[0].set_value("damaged").run()
    assert any(
        warning.value
        == "This model's training replay cannot be shown: replay.npz is not a readable .npz file of arrays."
        for warning in app.warning
    )


def test_the_form_offers_data_parallel_training_only_where_several_devices_are_visible(models_dir, monkeypatch):
    app = app_on("app_pages/train.py")
    assert not [box for box in app.checkbox if box.label.startswith("Data parallel")]  # TensorFlow, one device

    monkeypatch.setattr("vae_app.panels.train_form.parallel_devices", lambda: 4)
    app.run()
    offered = next(box for box in app.checkbox if box.label == "Data parallel on 4 devices")
    offered.check()
    set_form(app, **{"Model name": "parallel", "Batch size": 130})
    app.button[0].click().run()
    assert "A batch of 130 images does not split evenly among 4 devices" in app.error[0].value
    assert not (models_dir / "parallel").exists()


@pytest.mark.slow
def test_a_folder_under_the_data_root_trains_and_none_is_offered_without_a_root(models_dir, tmp_path, monkeypatch):
    app = app_on("app_pages/train.py")
    assert "server folder" not in app.selectbox[0].options

    write_image_folder(tmp_path / "root" / "shapes", per_class=10, side=20)
    (tmp_path / "root" / "elsewhere").symlink_to(tmp_path)  # a link out of the root is not offered
    monkeypatch.setenv("VAE_DATA_ROOT", str(tmp_path / "root"))
    app.run()
    set_form(app, **{"Dataset": "server folder", "Preset": "mlp", "Hidden sizes": "16", "Epochs": 1})
    folders = next(box for box in app.selectbox if box.label == "Folder on this server")
    assert folders.options == ["shapes"]
    start_training(app, **{"Image size": 16, "Batch size": 8, "Model name": "from-folder"})
    rerun_until_finished(app)
    assert "Trained 1 epoch." in app.success[0].value
    meta = read_meta(models_dir / "from-folder")
    assert meta.dataset.name == "shapes" and meta.dataset.class_names == ("bright", "dim")
    assert meta.model.image_shape == (16, 16, 1)


@pytest.mark.slow
def test_a_zipped_image_folder_uploaded_trains(models_dir, tmp_path):
    folder = write_image_folder(tmp_path / "shapes", per_class=10, side=20)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(folder.rglob("*.png")):
            zipped.write(path, path.relative_to(tmp_path).as_posix())
    app = app_on("app_pages/train.py")
    set_form(app, **{"Dataset": "own", "Preset": "mlp", "Hidden sizes": "16", "Epochs": 1, "Batch size": 8})
    set_form(app, **{"Image size": 16, "Model name": "from-zip"})
    app.get("file_uploader")[0].set_value(("shapes.zip", archive.getvalue(), "application/zip"))
    app.button[0].click().run()
    rerun_until_finished(app)
    assert "Trained 1 epoch." in app.success[0].value
    meta = read_meta(models_dir / "from-zip")
    assert (meta.dataset.name, meta.dataset.source) == ("shapes", "image archive shapes.zip")


def unlabelled_pictures(app: AppTest) -> list[str]:
    """What a screen reader would meet without words on this run: charts and pictures with no alt text."""
    charts = [chart.proto.spec[:60] for chart in app.get("plotly_chart") if not chart.proto.alt]
    images = [image.proto.imgs[0].caption for image in app.get("image") if not image.proto.imgs[0].alt]
    return charts + images


def test_every_chart_and_picture_has_words_for_screen_readers(models_dir):
    app = opened(app_on("app_pages/explore.py"), "explore_unusual", "explore_pad", "explore_replay")
    assert unlabelled_pictures(app) == []
    samples = ("Samples from the prior", "Samples from the codes' mixture")
    for tab in ("Decode a point", "Grid over the plane", *samples, "Path between two images", "Walk"):
        app.switch_page("app_pages/generate.py")
        app.session_state["generate_tab"] = tab
        app.run()
        assert not app.exception and unlabelled_pictures(app) == [], tab
    app.switch_page("app_pages/compare.py").run()
    assert unlabelled_pictures(app) == []
    app.switch_page("app_pages/encode.py").run()
    app.get("file_uploader")[0].set_value(("seven.png", png_of_a_seven(), "image/png")).run()
    assert len(app.get("plotly_chart")) >= 2 and unlabelled_pictures(app) == []


def test_each_dimensions_story_ranks_them_by_kl_and_traverses_them_alone(models_dir):
    app = app_on("app_pages/explore.py")
    app.sidebar.selectbox[0].select(next(o for o in app.sidebar.selectbox[0].options if "mnist-conv-16d" in o)).run()
    opened(app, "explore_dimensions")
    assert not app.exception, app.exception
    from vae_core.analysis.comparison import kl_per_dimension
    from vae_core.bundles.bundle import load_atlas
    from vae_core.bundles.registry import PRETRAINED_DIR

    bars = next(json.loads(chart.proto.spec) for chart in app.get("plotly_chart") if '"type":"bar"' in chart.proto.spec)
    assert bars["data"][0]["x"] == [f"z{d}" for d in range(16)]
    assert any("active units" in caption.value for caption in app.caption)
    atlas = load_atlas(PRETRAINED_DIR / "mnist-conv-16d")
    kl = kl_per_dimension(atlas.z_mean, atlas.z_log_var)
    (grid,) = [image for image in app.get("image") if image.proto.imgs[0].caption.startswith("Rows, most KL first")]
    rows = grid.proto.imgs[0].caption.split(": ")[1].split(";")[0].split(", ")
    assert rows[0] == f"z{int(np.argmax(kl))}" and len(rows) == 16  # the dimension carrying most, first
    assert "every other held at the origin" in grid.proto.imgs[0].caption
    assert {button.label for button in app.get("download_button")} >= {"Download PNG", "Download GIF"}
