"""Explore on a UMAP or t-SNE map of the codes, under AppTest: a kept map is drawn with what it is and
what it cannot do; one that cannot be made says why. The map being made and clicked is the browser's
to show (tests/browser/test_code_map_clicks.py)."""

from __future__ import annotations

import base64
import json
import time

import numpy as np
from odd_bundles import ODD_BUNDLES, save_odd_bundle
from streamlit.testing.v1 import AppTest
from support import app_from_link, keep_map

from vae_app.planes import PLANE_PARAM, discriminant_titles
from vae_core.bundles.bundle import load_atlas
from vae_core.bundles.registry import CACHE_DIR_ENV, PRETRAINED_DIR


def explore(model: str, plane: str) -> AppTest:
    """Explore opened from a link naming the model and the map."""
    return app_from_link("app_pages/explore.py", model, **{PLANE_PARAM: plane})


def kept_umap_map(tmp_path, monkeypatch, dimensions: int, seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """mnist-conv-16d's codes, and random coordinates kept in a fresh cache as its UMAP map."""
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "cache"))
    z = load_atlas(PRETRAINED_DIR / "mnist-conv-16d").z_mean
    coords = np.random.default_rng(0).normal(size=(len(z), dimensions)).astype(np.float32)
    keep_map(tmp_path / "cache", z, "umap", coords, seconds=seconds)
    return z, coords


def test_a_kept_umap_map_is_drawn_and_the_views_that_decode_use_the_pca_plane(models_dir, tmp_path, monkeypatch):
    z, coords = kept_umap_map(tmp_path, monkeypatch, dimensions=2, seconds=41.0)

    app = explore("mnist-conv-16d", "umap")

    assert app.radio(key="explore_view").value.startswith("UMAP") and app.query_params[PLANE_PARAM] == "umap"
    captions = [caption.value for caption in app.caption]
    assert any("cannot be decoded" in text and "use the PCA plane" in text for text in captions)
    assert "UMAP of the 10,000 test codes, made once in 41 s and kept for this model." in " ".join(captions)
    figure = json.loads(app.get("plotly_chart")[0].proto.spec)
    drawn = np.concatenate([np.stack([_values(trace["x"]), _values(trace["y"])], axis=1) for trace in figure["data"]])
    assert len(drawn) == len(z) and {tuple(p) for p in drawn.tolist()} == {tuple(p) for p in coords.tolist()}
    assert figure["layout"]["xaxis"]["title"]["text"] == "UMAP 1"
    for view in ("explore_lens", "explore_pad", "explore_replay", "explore_directions"):
        app.session_state[view] = True
    app.run()
    assert not app.exception, app.exception


def _values(axis: dict | list) -> np.ndarray:
    """A trace's coordinates as Plotly sends them: a typed array in base64, or a list."""
    if isinstance(axis, dict):
        return np.frombuffer(base64.b64decode(axis["bdata"]), dtype=axis["dtype"])
    return np.asarray(axis)


def test_a_map_of_too_few_codes_says_why_and_offers_to_try_again(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv("VAE_MODELS_DIR", str(tmp_path / "models"))
    spec = next(spec for spec in ODD_BUNDLES if spec.name == "one-image-16d")
    save_odd_bundle(tmp_path / "models", spec)

    app = explore(spec.name, "tsne")
    deadline = time.monotonic() + 60
    while not app.error and time.monotonic() < deadline:  # the making fails in its own process
        time.sleep(0.5)
        app.run()

    assert [error.value for error in app.error] == [
        "The t-SNE map could not be made: A t-SNE map needs at least 10 test images; this model has 1."
    ]
    assert [button.label for button in app.button] == ["Try again"]
    assert not app.get("plotly_chart")


def test_the_codes_in_three_dimensions_along_pca_lda_or_a_kept_3d_umap_map(models_dir, tmp_path, monkeypatch):
    z, _ = kept_umap_map(tmp_path, monkeypatch, dimensions=3, seconds=55.0)
    app = explore("mnist-conv-16d", "pca")
    app.session_state["explore_3d"] = True
    app.run()

    kinds = app.radio(key="explore_3d_kind")
    assert kinds.options == ["PCA's three directions", "LDA's three directions", "a 3-D UMAP map"]
    for kind, title in zip(kinds.options, ("principal axis 3", "discriminant axis 3", "UMAP 3"), strict=True):
        app.radio(key="explore_3d_kind").set_value(kind).run()
        assert not app.exception, app.exception
        figure = json.loads(app.get("plotly_chart")[-1].proto.spec)
        assert {trace["type"] for trace in figure["data"]} == {"scatter3d"}
        assert figure["layout"]["scene"]["zaxis"]["title"]["text"] == title
        assert sum(len(_values(trace["z"])) for trace in figure["data"]) == len(z)
    assert "UMAP in 3-D of the 10,000 test codes, made once in 55 s" in " ".join(c.value for c in app.caption)


def test_a_2d_model_has_no_third_dimension_to_show(models_dir):
    app = explore("mnist-conv-2d", "pca")
    app.session_state["explore_3d"] = True
    app.run()
    assert not app.exception
    assert "This model's codes have 2 dimensions: the map above shows them all." in [i.value for i in app.info]


def test_lda_axes_are_named_for_what_they_are_on_data_of_few_classes():
    ten, two, three = np.arange(20) % 10, np.arange(20) % 2, np.arange(20) % 3
    assert discriminant_titles(ten, 3) == ("discriminant axis 1", "discriminant axis 2", "discriminant axis 3")
    assert discriminant_titles(two, 2) == ("discriminant axis 1", "widest remaining spread")
    assert discriminant_titles(three, 3) == ("discriminant axis 1", "discriminant axis 2", "widest remaining spread")
    assert discriminant_titles(two, 3) == (
        "discriminant axis 1",
        "widest remaining spread 1",
        "widest remaining spread 2",
    )
