"""Home, the first page a new server shows: a picture of what the app does, a link to every page,
the models with their figures formatted as the sidebar formats them, and no Keras imported."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
from streamlit.testing.v1 import AppTest
from support import APP, REPO_ROOT

from vae_app.panels.home_mosaic import MAP_CELLS, atlas_map, latent_mosaic, pictured_model
from vae_core.analysis.latent_tools import plane_ranges
from vae_core.bundles.registry import PRETRAINED_DIR, scan_bundles

FLAGSHIP = "mnist-conv-2d"


def home() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120).run()
    assert not app.exception, app.exception
    return app


def test_home_lists_the_pretrained_models_and_credits_the_data(models_dir):
    app = home()
    assert app.title[0].value == "VAE Explorer"
    names = list(app.dataframe[0].value["name"])
    assert {"mnist-conv-2d", "mnist-mlp-2d", "fashion-conv-2d", "mnist-conv-16d"} <= set(names)
    assert "Zalando" in app.caption[-1].value and "LeCun" in app.caption[-1].value
    assert app.sidebar.selectbox[0].value.endswith("mnist-conv-2d")


def test_home_reports_a_broken_model_folder(models_dir):
    (models_dir / "half-saved").mkdir(parents=True)
    app = home()
    assert [warning.value for warning in app.sidebar.warning] == ["1 model cannot be used; Home says why."]
    unusable = app.dataframe[1].value
    assert list(unusable["name"]) == ["half-saved"]
    assert list(unusable["why"]) == ["not a complete model bundle: missing model.keras, meta.json, atlas.npz."]


def test_home_draws_without_importing_keras():
    """Home is the first page a new server shows: the entry point loads the model only after it."""
    script = "import runpy, sys; runpy.run_path('app_pages/home.py'); print('keras' in sys.modules)"
    shown = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip().splitlines()[-1] == "False"  # nor TensorFlow, which only Keras imports


def test_home_pictures_the_flagships_latent_space_and_links_every_page(models_dir):
    app = home()
    (picture,) = app.get("image")
    assert picture.proto.imgs[0].caption.startswith(f"{FLAGSHIP}'s latent space: each test image sits where")
    links = app.get("page_link")
    assert [link.proto.page for link in links] == ["train", "explore", "generate", "encode", "compare", "import_model"]
    assert all(link.proto.icon.startswith(":material/") for link in links)
    assert [link.proto.label for link in links][-1] == ":blue[**Import**]"  # the link colour, as links are


def test_home_formats_the_metrics_as_the_sidebar_does(models_dir):
    app = home()
    table = app.dataframe[0]
    columns = json.loads(table.proto.columns)
    knn = columns["knn"]["type_config"]
    assert (knn["format"], knn["step"]) == ("percent", 0.001)  # 0.8142 reads 81.4%
    assert columns["neg_elbo"]["type_config"]["format"] == columns["iw_bound"]["type_config"]["format"] == "%.1f"
    assert columns["conditional"]["type_config"]["type"] == "checkbox"
    assert columns["name"]["pinned"] and list(table.value.columns[:4]) == ["name", "dataset", "neg_elbo", "knn"]
    flagship = table.value.set_index("name").loc[FLAGSHIP]
    card = app.sidebar.markdown[0].value
    assert f"5-NN accuracy {flagship['knn']:.1%}" in card and f"**{flagship['neg_elbo']:.1f}** nats" in card


def test_the_mosaic_puts_each_image_in_the_cell_its_point_falls_in_nearest_its_centre():
    coords = np.random.default_rng(0).uniform(-1, 1, (3000, 2))
    images = np.arange(1, 3001, dtype=np.uint16)[:, None, None, None] * np.ones((1, 2, 2, 1), np.uint16)
    mosaic = latent_mosaic(coords, images, cells=10)
    assert mosaic.shape == (20, 20, 1)
    ranges = plane_ranges(coords)
    size = (ranges[:, 1] - ranges[:, 0]) / 10
    for row in range(10):
        for column in range(10):
            index = int(mosaic[2 * row, 2 * column, 0]) - 1
            low = ranges[:, 0] + np.array([column, 9 - row]) * size  # rows run from the top down
            inside = np.all((coords >= low) & (coords < low + size), axis=1)
            assert inside[index], (row, column)
            offsets = np.sum(((coords[inside] - (low + size / 2)) / size) ** 2, axis=1)
            assert np.isclose(np.sum(((coords[index] - (low + size / 2)) / size) ** 2), offsets.min())


def test_a_cell_no_point_falls_in_stays_black():
    coords = np.random.default_rng(1).uniform(-1, 1, (500, 2))
    coords = coords[(coords[:, 0] < 0) | (coords[:, 1] < 0)]  # the top-right quarter is empty
    mosaic = latent_mosaic(coords, np.full((len(coords), 3, 3, 1), 255, np.uint8), cells=8)
    assert mosaic[:9, -9:].max() == 0 and mosaic[-12:, :12].min() == 255


def test_home_pictures_another_model_where_the_flagship_is_missing_and_none_where_nothing_is_planar(tmp_path):
    bundles, _ = scan_bundles([PRETRAINED_DIR])
    assert pictured_model(bundles, FLAGSHIP).name == FLAGSHIP
    others = [info for info in bundles if info.name != FLAGSHIP]
    assert pictured_model(others, FLAGSHIP) == others[0]
    assert pictured_model([], FLAGSHIP) is None
    mosaic = atlas_map(str(PRETRAINED_DIR / FLAGSHIP), "key")
    assert mosaic.shape == (28 * MAP_CELLS, 28 * MAP_CELLS, 1) and mosaic.dtype == np.uint8
    (tmp_path / "atlas.npz").write_bytes(b"not a zip")
    assert atlas_map(str(tmp_path), "key") is None  # Home goes on without a picture
