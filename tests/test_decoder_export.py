"""The decoder saved for browsers: in every bundle, decoding as the model does, never in the way."""

from __future__ import annotations

import logging
import subprocess

import numpy as np
import onnxruntime
import pytest
from synthetic import bundle_meta, synthetic_images

from vae_core.bundles import decoder_export
from vae_core.bundles.bundle import build_atlas, load_bundle, save_bundle
from vae_core.bundles.decoder_export import DecoderExportFailed, export_decoder
from vae_core.bundles.files import BUNDLE_FILES, DECODER_FILE
from vae_core.config import ModelConfig, TrainConfig
from vae_core.model.codec import LatentCodec
from vae_core.model.vae import build_vae


@pytest.fixture(
    scope="module", params=[(2, "conv", (28, 28, 1)), (5, "mlp", (32, 32, 3))], ids=["conv-2d", "mlp-5d-rgb"]
)
def model(request):
    latent_dim, preset, shape = request.param
    return build_vae(ModelConfig(preset, image_shape=shape, latent_dim=latent_dim, hidden_sizes=(16,)), seed=3)


def onnx_decode(path, z: np.ndarray) -> np.ndarray:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"z": z.astype(np.float32)})[0]


def test_the_onnx_decoder_gives_the_models_intensities(model, tmp_path):
    export_decoder(model, tmp_path / DECODER_FILE)
    z = np.random.default_rng(0).normal(size=(10, model.latent_dim)) * 2

    decoded = onnx_decode(tmp_path / DECODER_FILE, z)

    assert decoded.shape == (10, *model.image_shape)
    assert decoded.min() >= 0.0 and decoded.max() <= 1.0
    np.testing.assert_allclose(decoded, LatentCodec(model).decode(z), atol=1e-5)
    assert [path.name for path in tmp_path.iterdir()] == [DECODER_FILE]  # no partial file left


def test_every_saved_bundle_carries_its_decoder(model, tmp_path):
    images, labels = synthetic_images(4, model.image_shape)
    codec = LatentCodec(model)
    config = TrainConfig(ModelConfig("mlp", model.image_shape, model.latent_dim, (16,)))

    path = save_bundle(tmp_path / "saved", model, bundle_meta(config, 4, None), build_atlas(codec, images, labels))

    z = load_bundle(path).atlas.z_mean
    np.testing.assert_allclose(onnx_decode(path / DECODER_FILE, z), codec.decode(z), atol=1e-5)


def test_a_failed_export_saves_the_bundle_without_it_and_says_why(model, tmp_path, monkeypatch, caplog):
    def converter_bug(vae, path):
        path.write_bytes(b"half a file")
        raise RuntimeError("unsupported op\nsecond line")

    monkeypatch.setattr(decoder_export, "_export_here", converter_bug)
    images, labels = synthetic_images(4, model.image_shape)
    config = TrainConfig(ModelConfig("mlp", model.image_shape, model.latent_dim, (16,)))
    atlas = build_atlas(LatentCodec(model), images, labels)

    with pytest.raises(DecoderExportFailed, match=r"^ONNX export failed \(RuntimeError: unsupported op\)$"):
        export_decoder(model, tmp_path / "alone.onnx")
    with caplog.at_level(logging.WARNING):
        path = save_bundle(tmp_path / "saved", model, bundle_meta(config, 4, None), atlas)

    assert sorted(p.name for p in path.iterdir()) == sorted(BUNDLE_FILES)
    assert not any(tmp_path.glob("*.onnx*"))
    assert f"without {DECODER_FILE}: ONNX export failed" in caplog.text
    load_bundle(path)  # still a usable bundle


def test_a_hung_tensorflow_re_export_fails_the_export_not_the_save(model, tmp_path, monkeypatch):
    """Under a backend without its own exporter (JAX without jax2onnx) a TensorFlow process exports;
    one that hangs past its time is an export failure, which `save_bundle` survives."""

    def no_exporter(vae, path):
        raise ImportError("This requires the jax2onnx module.")

    def hangs(*args, **kwargs):
        raise subprocess.TimeoutExpired(args[0], kwargs.get("timeout", 0))

    monkeypatch.setattr(decoder_export, "_export_here", no_exporter)
    monkeypatch.setattr(decoder_export.keras.backend, "backend", lambda: "jax")
    monkeypatch.setattr(decoder_export.subprocess, "run", hangs)

    with pytest.raises(DecoderExportFailed, match=r"through TensorFlow failed \(TimeoutExpired\)"):
        export_decoder(model, tmp_path / DECODER_FILE, saved_model=tmp_path / "model.keras")
    assert list(tmp_path.iterdir()) == []
