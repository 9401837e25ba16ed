"""Generate's "Samples from the codes' mixture" under AppTest: the shipped models' own mixtures (with the
map of both densities on a 2-D model, without it on the 16-D one), a conditional model's class, and a
bundle saved without a mixture, or with one that cannot be read, fitted to its test codes and said so."""

from __future__ import annotations

import json
import shutil

import pytest
from streamlit.testing.v1 import AppTest
from support import APP, shipped_mixture_components

from vae_app.model_picker import MODEL_PARAM
from vae_core.bundles.files import CODE_MIXTURE_FILE
from vae_core.bundles.registry import PRETRAINED_DIR

TAB = "Samples from the codes' mixture"
PICTURE = "32 samples of z from the codes' mixture"
SAID_TO_BE_FITTED_HERE = (
    "fitted to the latent means of 10,000 test images, here: the bundle holds no usable mixture of its training"
    " codes (it was saved by an older version of the app, or imported); `vae-bundles mixture` adds one."
)


def mixture_tab(name: str) -> AppTest:
    """Generate on the model of that name, its mixture tab open."""
    app = AppTest.from_file(APP, default_timeout=120)
    app.query_params[MODEL_PARAM] = name
    app.run()
    app.switch_page("app_pages/generate.py").run()
    assert TAB in [tab.label for tab in app.tabs]
    app.session_state["generate_tab"] = TAB
    app.run()
    assert not app.exception, app.exception
    return app


def pictures(app: AppTest) -> list[str]:
    return [image.proto.imgs[0].caption for image in app.get("image")]


def said(app: AppTest) -> str:
    """What the tab says of its mixture: the caption that begins "A mixture of"."""
    return next(caption.value for caption in app.caption if caption.value.startswith("A mixture of"))


def drawn_traces(app: AppTest) -> list[tuple[str, str]]:
    """Each trace of the tab's one chart, as (type, legend name)."""
    (chart,) = app.get("plotly_chart")
    return [(trace["type"], trace.get("name")) for trace in json.loads(chart.proto.spec)["data"]]


def test_a_2d_model_samples_its_training_codes_mixture_beside_both_densities(models_dir):
    app = mixture_tab("mnist-conv-2d")
    assert pictures(app) == [PICTURE] and [b.proto.label for b in app.get("download_button")] == ["Download PNG"]
    k = shipped_mixture_components("mnist-conv-2d", 2)
    assert said(app) == (
        f"A mixture of {k} Gaussians (full covariances; {k} has the lowest BIC of 1, 2, 5, 10, 15, 20 components),"
        " fitted to the latent means of 20,000 training images."
    )
    traces = drawn_traces(app)
    assert traces[0] == ("scatter", "test codes")
    assert traces[1:] == [("contour", "prior N(0, I)")] * 3 + [("contour", "codes' mixture")] * 3
    assert app.get("plotly_chart")[0].proto.alt  # words for screen readers
    assert any(caption.value.startswith("Grey: the latent means of 2,500 test images.") for caption in app.caption)

    app.number_input(key="mixture_sample_seed").set_value(7).run()
    app.slider(key="mixture_sample_count").set_value(16).run()
    assert not app.exception and pictures(app) == ["16 samples of z from the codes' mixture"]


def test_a_16d_model_samples_its_mixture_without_a_map(models_dir):
    app = mixture_tab("mnist-conv-16d")
    assert pictures(app) == [PICTURE] and not app.get("plotly_chart")
    k = shipped_mixture_components("mnist-conv-16d", 16)
    assert said(app).startswith(f"A mixture of {k} Gaussians (full covariances; {k} has the lowest BIC of")
    assert said(app).endswith("fitted to the latent means of 20,000 training images.")


def test_a_conditional_model_writes_the_picked_class_from_a_mixture_of_every_class(models_dir):
    app = mixture_tab("mnist-cvae-2d")
    app.radio(key=f"generate_class:{PRETRAINED_DIR / 'mnist-cvae-2d'}").set_value(3).run()
    assert not app.exception and pictures(app) == [PICTURE]
    assert said(app).endswith("training images of every class; each sample is written as 3.")


@pytest.fixture
def without_mixture(models_dir):
    """A copy of the smallest shipped bundle, as an older version saved it: no code_mixture.npz."""
    bundle = shutil.copytree(PRETRAINED_DIR / "mnist-mlp-2d", models_dir / "older")
    (bundle / CODE_MIXTURE_FILE).unlink(missing_ok=True)
    return bundle


def test_a_bundle_without_a_mixture_gets_one_fitted_to_its_test_codes_and_says_so(without_mixture):
    app = mixture_tab("older")
    assert pictures(app) == [PICTURE] and len(app.get("plotly_chart")) == 1 and not app.warning
    assert said(app).endswith(SAID_TO_BE_FITTED_HERE)


def test_a_mixture_that_cannot_be_read_is_said_in_a_line_and_the_test_codes_fitted_instead(without_mixture):
    (without_mixture / CODE_MIXTURE_FILE).write_bytes(b"not an npz")
    app = mixture_tab("older")
    assert [warning.value for warning in app.warning] == [
        "This model's mixture of its training codes cannot be used: code_mixture.npz is not a readable .npz file"
        " of arrays. Fitted to its test codes instead."
    ]
    assert pictures(app) == [PICTURE] and said(app).endswith(SAID_TO_BE_FITTED_HERE)
    assert str(without_mixture.parent) not in app.warning[0].value  # no server path
