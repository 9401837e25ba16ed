"""The shipped bundles in pretrained/: they load safely, their atlases match their models, their
metrics are recorded, they are what their recipes build, and the folder stays small enough to ship."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from scripts.build_pretrained import RECIPES
from vae_core.bundles.bundle import load_bundle
from vae_core.bundles.registry import PRETRAINED_DIR, scan_bundles
from vae_core.bundles.replay import read_replay
from vae_core.model.codec import LatentCodec
from vae_core.model.vae import build_vae

EXPECTED = {
    "mnist-conv-2d": ("mnist", 2),
    "mnist-mlp-2d": ("mnist", 2),
    "fashion-conv-2d": ("fashion_mnist", 2),
    "mnist-conv-16d": ("mnist", 16),
    "mnist-cvae-2d": ("mnist", 2),
}
# Five bundles, each with its model, its test set, its browser decoder (about 3.4 MB for a conv
# model) and its training replay: 57 MB.
MAX_FOLDER_BYTES = 64 * 1024 * 1024


@pytest.fixture(scope="module", params=sorted(EXPECTED))
def bundle(request):
    return load_bundle(PRETRAINED_DIR / request.param)


def test_every_expected_bundle_is_listed_without_problems():
    found, problems = scan_bundles([PRETRAINED_DIR])
    assert problems == []
    assert set(EXPECTED) <= {info.name for info in found}
    assert all(info.pretrained for info in found)


def test_pretrained_folder_is_under_64_mb():
    size = sum(path.stat().st_size for path in PRETRAINED_DIR.rglob("*") if path.is_file())
    assert size < MAX_FOLDER_BYTES, f"pretrained/ holds {size / 2**20:.1f} MiB"


def test_bundle_describes_its_dataset_and_model(bundle):
    dataset, latent_dim = EXPECTED[bundle.path.name]
    assert bundle.meta.dataset.name == dataset
    assert bundle.model.latent_dim == latent_dim == bundle.meta.model.latent_dim
    assert len(bundle.meta.dataset.class_names) == 10
    if dataset == "fashion_mnist":
        assert bundle.meta.dataset.class_names[0] == "T-shirt/top"


def test_atlas_carries_the_whole_test_set_offline(bundle):
    atlas = bundle.atlas
    assert atlas.images.dtype == np.uint8 and atlas.images.shape == (10000, 28, 28, 1)
    assert atlas.labels is not None and np.bincount(atlas.labels).min() > 800
    assert atlas.z_mean.shape == atlas.z_log_var.shape == (10000, bundle.model.latent_dim)
    assert np.isfinite(atlas.reconstruction_error).all() and (atlas.reconstruction_error >= 0).all()


def test_re_encoding_test_images_gives_the_stored_latent_means(bundle):
    picks = np.linspace(0, 9999, 32).astype(int)
    z_mean, z_log_var = LatentCodec(bundle.model).encode(bundle.atlas.images[picks], bundle.atlas.labels[picks])
    np.testing.assert_allclose(z_mean, bundle.atlas.z_mean[picks], atol=1e-4)
    np.testing.assert_allclose(z_log_var, bundle.atlas.z_log_var[picks], atol=1e-4)


def test_metrics_and_run_details_are_recorded_and_finite(bundle):
    metrics, training = bundle.meta.test_metrics, bundle.meta.training
    for name in ("neg_elbo", "reconstruction_nll", "kl", "neg_iw_bound"):
        assert math.isfinite(getattr(metrics, name)), name
    assert metrics.iw_samples >= 100 and metrics.images == 10000 and metrics.knn_k == 5
    assert metrics.neg_iw_bound <= metrics.neg_elbo
    if bundle.meta.model.conditional:  # its z is given the label: no 5-NN accuracy is measured
        assert metrics.knn_accuracy is None
    else:
        assert 0.0 < metrics.knn_accuracy <= 1.0
    assert training.status == "completed"
    assert training.epochs_run == bundle.meta.config.epochs == len(training.history)
    assert training.seconds > 0 and training.machine
    assert bundle.meta.versions["keras"].startswith("3.")


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_each_bundle_is_what_its_recipe_builds(name):
    dataset, recipe = RECIPES[name]
    bundle = load_bundle(PRETRAINED_DIR / name)
    assert bundle.meta.dataset.name == dataset
    assert bundle.meta.config == recipe.with_data(bundle.meta.dataset.image_shape)
    rebuilt = build_vae(bundle.meta.model, seed=recipe.seed)
    as_saved = json.loads(json.dumps(rebuilt.get_config()))  # a saved config has lists for tuples
    assert json.loads(json.dumps(bundle.model.get_config())) == as_saved
    replay = read_replay(bundle.path, bundle.model.latent_dim)
    assert list(replay.epochs) == list(range(1, recipe.epochs + 1)) and replay.latent_means.shape[1] == 1000
    assert (bundle.path / "decoder.onnx").is_file()


def test_the_conditional_bundle_is_conditioned_on_the_ten_digits():
    bundle = load_bundle(PRETRAINED_DIR / "mnist-cvae-2d")
    assert bundle.model.classes == bundle.meta.model.classes == 10
    codec = LatentCodec(bundle.model)
    z = np.zeros((10, 2), np.float32)
    digits = codec.decode(z, np.arange(10))
    assert min(np.abs(digits[i] - digits[j]).mean() for i in range(10) for j in range(i)) > 0.02


def test_atlas_images_are_the_real_test_split(bundle):
    data_dir = os.environ.get("VAE_DATA_DIR")
    name = bundle.meta.dataset.name
    if not data_dir or not (Path(data_dir) / f"{name}.npz").is_file():
        pytest.skip(f"needs the full dataset: set VAE_DATA_DIR to a folder holding {name}.npz")
    with np.load(Path(data_dir) / f"{name}.npz") as data:
        np.testing.assert_array_equal(bundle.atlas.images[..., 0], data["x_test"])
        np.testing.assert_array_equal(bundle.atlas.labels, data["y_test"])
