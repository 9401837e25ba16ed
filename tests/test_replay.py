"""Training replay files: written by a training run's save, read back, and refused with a sentence
when damaged, hostile or from another model."""

from __future__ import annotations

import numpy as np
import pytest
from synthetic import synthetic_dataset

from vae_core.bundles.files import REPLAY_FILE, BundleError
from vae_core.bundles.replay import Replay, read_replay, write_replay
from vae_core.config import ModelConfig, TrainConfig
from vae_core.training.pipeline import train_and_save
from vae_core.training.train import train_vae


def replay(epochs: int = 3, images: int = 5, latent_dim: int = 2) -> Replay:
    means = np.random.default_rng(0).normal(size=(epochs, images, latent_dim)).astype(np.float32)
    return Replay(np.arange(1, epochs + 1), means, np.arange(images) % 3)


def test_a_replay_round_trips_at_float16_precision(tmp_path):
    written = replay()
    write_replay(tmp_path, written)
    read = read_replay(tmp_path, 2)
    np.testing.assert_array_equal(read.epochs, [1, 2, 3])
    np.testing.assert_allclose(read.latent_means, written.latent_means, atol=2e-3)
    np.testing.assert_array_equal(read.labels, written.labels)


def test_a_bundle_without_a_replay_reads_as_none(tmp_path):
    assert read_replay(tmp_path, 2) is None


def _write(folder, **arrays) -> None:
    np.savez(folder / REPLAY_FILE, **arrays)


ONE = np.array([1])
SHAPE = r"shape \(epochs, images, 2\)"


@pytest.mark.parametrize(
    ("arrays", "expected"),
    [
        ({"epochs": ONE, "latent_means": np.zeros((1, 5, 4), np.float32)}, SHAPE),
        ({"epochs": ONE, "latent_means": np.zeros((5, 2), np.float32)}, SHAPE),
        ({"epochs": ONE, "other": np.zeros(3)}, SHAPE),
        ({"epochs": ONE, "latent_means": np.zeros((1, 5, 2), np.int64)}, SHAPE),
        ({"epochs": ONE[:0], "latent_means": np.zeros((0, 5, 2), np.float32)}, "1 to 201 epochs"),
        ({"epochs": ONE, "latent_means": np.zeros((1, 0, 2), np.float32)}, "1 to 1000 images"),
        ({"epochs": np.arange(1, 203), "latent_means": np.zeros((202, 5, 2), np.float32)}, "1 to 201 epochs"),
        ({"epochs": ONE, "latent_means": np.full((1, 5, 2), np.nan, np.float32)}, "not finite"),
        ({"latent_means": np.zeros((1, 5, 2), np.float32)}, "number its epochs"),
        ({"epochs": np.array([0]), "latent_means": np.zeros((1, 5, 2), np.float32)}, "number its epochs"),
        ({"epochs": np.array([2, 2]), "latent_means": np.zeros((2, 5, 2), np.float32)}, "number its epochs"),
        ({"epochs": np.array([1.0]), "latent_means": np.zeros((1, 5, 2), np.float32)}, "number its epochs"),
        ({"epochs": ONE, "latent_means": np.zeros((1, 5, 2), np.float32), "labels": np.arange(4)}, "class number"),
        ({"epochs": ONE, "latent_means": np.zeros((1, 5, 2), np.float32), "labels": -np.ones(5, int)}, "class number"),
    ],
)
def test_a_replay_that_does_not_fit_the_model_is_refused(tmp_path, arrays, expected):
    _write(tmp_path, **arrays)
    with pytest.raises(BundleError, match=expected):
        read_replay(tmp_path, 2)


def test_a_damaged_or_pickled_replay_is_refused(tmp_path):
    (tmp_path / REPLAY_FILE).write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(BundleError, match="not a readable"):
        read_replay(tmp_path, 2)
    np.savez(tmp_path / REPLAY_FILE, latent_means=np.array([{"a": 1}], dtype=object))
    with pytest.raises(BundleError, match="not a readable"):
        read_replay(tmp_path, 2)


def test_a_replay_that_unpacks_past_the_cap_is_refused_before_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr("vae_core.bundles.replay.MAX_REPLAY_BYTES", 1000)
    np.savez_compressed(tmp_path / REPLAY_FILE, latent_means=np.zeros(100_000, np.uint8))  # small, unpacks large
    with pytest.raises(BundleError, match="unpacks to more than"):
        read_replay(tmp_path, 2)


def test_a_training_run_saves_one_snapshot_per_epoch_with_the_validation_labels(tmp_path):
    dataset = synthetic_dataset(n_train=100, n_test=20)
    config = TrainConfig(ModelConfig(preset="mlp", latent_dim=2, hidden_sizes=(16,)), batch_size=25, epochs=2)
    result, _ = train_and_save(config, dataset, tmp_path / "bundle", iw_samples=2)
    saved = read_replay(tmp_path / "bundle", 2)
    assert saved.latent_means.shape == (2, 10, 2)
    np.testing.assert_array_equal(saved.epochs, [1, 2])
    np.testing.assert_array_equal(saved.labels, dataset.y_train[result.validation_indices])
    np.testing.assert_allclose(saved.latent_means, result.replay.latent_means, atol=2e-3)


def test_a_long_run_keeps_evenly_spaced_epochs_and_the_last(monkeypatch):
    monkeypatch.setattr("vae_core.bundles.replay.MAX_FRAMES", 4)
    images = synthetic_dataset(n_train=40, n_test=4).x_train
    config = TrainConfig(ModelConfig(preset="mlp", latent_dim=2, hidden_sizes=(8,)), batch_size=40, epochs=11)
    result = train_vae(config, images)
    np.testing.assert_array_equal(result.replay.epochs, [1, 4, 7, 10, 11])  # a stride of ceil(11 / 4) = 3
    assert result.replay.latent_means.shape == (5, 4, 2) and result.replay.labels is None


def test_means_past_float16_are_kept_at_its_largest(tmp_path):
    written = Replay(np.array([1]), np.array([[[1e6, -1e6]]], np.float32))
    write_replay(tmp_path, written)
    np.testing.assert_array_equal(read_replay(tmp_path, 2).latent_means, [[[65504.0, -65504.0]]])
