"""The test set as browsers read it: one record per test image, at the offsets `record_layout`
gives, written once per atlas under a name that changes with the atlas."""

from __future__ import annotations

import numpy as np
import pytest
from synthetic import bundle_meta, synthetic_images

from vae_app.services.browser_records import record_bytes, record_layout, served_records
from vae_core.bundles.bundle import Atlas, build_atlas, save_bundle
from vae_core.config import ModelConfig, TrainConfig
from vae_core.model.codec import LatentCodec
from vae_core.model.vae import build_vae

CONFIG = TrainConfig(ModelConfig("mlp", latent_dim=3, hidden_sizes=(16,)))


@pytest.fixture(scope="module")
def model():
    return build_vae(CONFIG.model, seed=5)


def atlas_of(model, count: int, labelled: bool = True) -> Atlas:
    images, labels = synthetic_images(count)
    return build_atlas(LatentCodec(model), images, labels if labelled else None)


def read_record(records: bytes, index: int, layout: dict[str, int], latent_dim: int) -> dict[str, np.ndarray]:
    """Record `index` read as the browser reads it (static/clicked_image/clicked_image.js)."""
    record = records[index * layout["bytes"] : (index + 1) * layout["bytes"]]
    floats = lambda offset: np.frombuffer(record, "<f4", latent_dim, offset)  # noqa: E731
    return {
        "label": np.frombuffer(record, "<i4", 1, layout["label"])[0],
        "error": np.frombuffer(record, "<f4", 1, layout["error"])[0],
        "z_mean": floats(layout["z_mean"]),
        "z_std": floats(layout["z_std"]),
        "image": np.frombuffer(record, np.uint8, offset=layout["image"]),
    }


@pytest.mark.parametrize("labelled", [True, False])
def test_each_record_holds_its_image_label_z_and_error(model, labelled):
    atlas = atlas_of(model, 5, labelled)
    layout = record_layout(3, model.image_shape)
    records = record_bytes(atlas)

    assert len(records) == 5 * layout["bytes"]
    for index in range(5):
        record = read_record(records, index, layout, 3)
        assert record["label"] == (atlas.labels[index] if labelled else -1)
        assert record["error"] == np.float32(atlas.reconstruction_error[index])
        assert np.array_equal(record["z_mean"], atlas.z_mean[index].astype(np.float32))
        assert np.allclose(record["z_std"], np.exp(0.5 * atlas.z_log_var[index]), rtol=1e-6)
        assert np.array_equal(record["image"], atlas.images[index].reshape(-1))


def test_records_are_written_once_per_atlas_and_renamed_when_it_changes(model, tmp_path):
    cache = tmp_path / "static" / "records"
    bundle = save_bundle(tmp_path / "bundles" / "small", model, bundle_meta(CONFIG, 4, None), atlas_of(model, 4))

    name = served_records(bundle, atlas_of(model, 4), cache)
    written = (cache / name).stat().st_mtime_ns
    assert served_records(bundle, atlas_of(model, 4), cache) == name
    assert (cache / name).stat().st_mtime_ns == written and [p.name for p in cache.iterdir()] == [name]

    resaved = save_bundle(tmp_path / "bundles" / "small", model, bundle_meta(CONFIG, 6, None), atlas_of(model, 6))
    assert served_records(resaved, atlas_of(model, 6), cache) != name
