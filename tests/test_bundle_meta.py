"""The typed bundle description: one reader and one writer for meta.json, losing nothing."""

from __future__ import annotations

import json

import pytest
from synthetic import bundle_meta

from vae_core.bundles.meta import FORMAT, BundleMeta, MetaError
from vae_core.config import ModelConfig, TrainConfig

CONFIG = TrainConfig(ModelConfig(preset="mlp", latent_dim=3, hidden_sizes=(8,)), epochs=4, seed=7)


def test_what_is_written_reads_back_equal():
    meta = bundle_meta(CONFIG, test_images=5, class_names=["a", "b"])
    written = json.loads(json.dumps(meta.to_json()))  # through JSON text, as on disk

    assert written["format"] == FORMAT
    assert BundleMeta.from_json(written) == meta


def test_readers_get_typed_configs_not_dicts():
    meta = BundleMeta.from_json(bundle_meta(CONFIG, 5, ["a", "b"]).to_json())

    assert meta.config == CONFIG and meta.model.latent_dim == 3 and meta.model.hidden_sizes == (8,)
    assert meta.dataset.class_names == ("a", "b")


def test_fields_from_a_later_version_are_kept_at_every_level():
    written = bundle_meta(CONFIG, 5, None).to_json()
    written["decoder"] = {"file": "decoder.onnx", "opset": 17}
    written["dataset"]["licence"] = "CC BY-SA 3.0"
    written["config"]["label_smoothing"] = 0.1
    written["config"]["model"]["conditional"] = True

    meta = BundleMeta.from_json(written)

    assert meta.config == CONFIG  # what this version understands is unchanged
    assert meta.unknown == {
        "decoder": {"file": "decoder.onnx", "opset": 17},
        "dataset": {"licence": "CC BY-SA 3.0"},
        "config": {"label_smoothing": 0.1, "model": {"conditional": True}},
    }
    assert meta.to_json() == written


def test_an_older_meta_gets_the_defaults_of_settings_it_predates():
    written = bundle_meta(CONFIG, 5, None).to_json()
    del written["config"]["precision"], written["config"]["steps_per_execution"], written["versions"]
    for optional in ("reconstruction_nll", "kl", "images", "knn_k"):
        del written["test_metrics"][optional]

    meta = BundleMeta.from_json(written)

    assert meta.config.precision == "float32" and meta.config.steps_per_execution == 8
    assert meta.test_metrics.knn_k == 5 and meta.test_metrics.reconstruction_nll is None


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda meta: meta.pop("created"), "created is missing"),
        (lambda meta: meta["dataset"].pop("name"), "dataset.name is missing"),
        (lambda meta: meta["test_metrics"].pop("iw_samples"), "test_metrics.iw_samples is missing"),
        (lambda meta: meta["config"].pop("model"), "config.model section is missing"),
        (lambda meta: meta["training"].update(history={"epoch": 1}), "training.history should be a list"),
        (lambda meta: meta["config"]["model"].update(latent_dim=0), "Expected latent_dim between 1 and 64"),
        (lambda meta: meta.update(versions=[]), "versions should be an object"),
    ],
    ids=["created", "dataset-name", "iw-samples", "config-model", "history", "latent-dim", "versions"],
)
def test_a_missing_or_wrong_field_is_named(change, expected):
    written = bundle_meta(CONFIG, 5, None).to_json()
    change(written)

    with pytest.raises(MetaError, match=expected):
        BundleMeta.from_json(written)
