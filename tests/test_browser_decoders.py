"""Decoders handed to browsers: the bundle's own, or one exported once for a bundle without it,
and never a file that cannot decode the model's z."""

from __future__ import annotations

import os
import shutil
import time

import numpy as np
import onnxruntime
import pytest
from synthetic import bundle_meta, synthetic_images

from vae_app.services.browser_decoders import DecoderUnavailable, served_decoder
from vae_core.bundle import build_atlas, save_bundle
from vae_core.bundle_files import DECODER_FILE
from vae_core.config import ModelConfig, TrainConfig
from vae_core.decoder_export import export_decoder
from vae_core.inference import LatentCodec
from vae_core.model import build_vae

CONFIG = TrainConfig(ModelConfig("mlp", latent_dim=3, hidden_sizes=(16,)))


@pytest.fixture(scope="module")
def model():
    return build_vae(CONFIG.model, seed=5)


@pytest.fixture
def bundle(model, tmp_path):
    images, labels = synthetic_images(4)
    atlas = build_atlas(LatentCodec(model), images, labels)
    return save_bundle(tmp_path / "bundles" / "small", model, bundle_meta(CONFIG, 4, None), atlas)


def decodes_like(path, model) -> bool:
    z = np.random.default_rng(0).normal(size=(6, model.latent_dim)).astype(np.float32)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return np.allclose(session.run(None, {"z": z})[0], LatentCodec(model).decode(z), atol=1e-5)


def test_the_bundles_own_decoder_is_served_once_under_its_content_hash(bundle, model, tmp_path):
    cache = tmp_path / "static" / "decoders"
    name = served_decoder(bundle, model, cache)

    assert (cache / name).read_bytes() == (bundle / DECODER_FILE).read_bytes()
    assert served_decoder(bundle, model, cache) == name and [p.name for p in cache.iterdir()] == [name]


def test_a_bundle_without_one_gets_one_exported_into_the_cache_not_the_bundle(bundle, model, tmp_path):
    (bundle / DECODER_FILE).unlink()
    cache = tmp_path / "static" / "decoders"

    name = served_decoder(bundle, model, cache)

    assert name.endswith("-exported.onnx") and decodes_like(cache / name, model)
    assert not (bundle / DECODER_FILE).exists()


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda path, other: path.write_bytes(b"\x00not onnx at all" * 100), "is not an ONNX model"),
        (lambda path, other: shutil.copyfile(other, path), "maps [[4]] to [28, 28, 1], not latent size 3"),
    ],
    ids=["garbage", "another-models-decoder"],
)
def test_a_decoder_that_cannot_decode_this_model_is_refused_with_the_reason(bundle, model, tmp_path, damage, expected):
    other = build_vae(ModelConfig("mlp", latent_dim=4, hidden_sizes=(8,)), seed=1)
    export_decoder(other, tmp_path / "other.onnx")
    damage(bundle / DECODER_FILE, tmp_path / "other.onnx")
    cache = tmp_path / "static" / "decoders"

    with pytest.raises(DecoderUnavailable, match=expected.replace("[", r"\[").replace("]", r"\]")):
        served_decoder(bundle, model, cache)
    assert list(cache.iterdir()) == []  # nothing half-checked left for a browser to fetch


def test_a_cache_that_cannot_be_written_is_a_reason_not_a_traceback(bundle, model, tmp_path):
    not_a_folder = tmp_path / "static"
    not_a_folder.write_text("a file where the cache folder should be")

    with pytest.raises(DecoderUnavailable, match=r"could not be prepared for the browser \(\w+Error\)"):
        served_decoder(bundle, model, not_a_folder / "decoders")


def test_the_cache_keeps_the_latest_decoders_and_drops_killed_writes(bundle, model, tmp_path, monkeypatch):
    from vae_app.services import browser_decoders

    monkeypatch.setattr(browser_decoders, "MAX_CACHED_DECODERS", 2)
    cache = tmp_path / "decoders"
    cache.mkdir()
    for age, name in enumerate(["newest.onnx", "older.onnx", "oldest.onnx", ".left.onnx.abc"]):
        (cache / name).write_bytes(b"x")
        os.utime(cache / name, (time.time() - 7200 * (age + 1),) * 2)

    name = served_decoder(bundle, model, cache)

    assert sorted(path.name for path in cache.iterdir()) == sorted([name, "newest.onnx", "older.onnx"])
