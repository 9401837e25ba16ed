"""The conditional VAE: every preset builds, trains, saves and loads like the plain one; the codec
takes labels; the bounds are given the label; class x z grids, style transfer and class reading."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import onnxruntime
import pytest
from synthetic import synthetic_dataset

from vae_core.analysis.conditional import class_probabilities, every_class, style_of
from vae_core.analysis.evaluation import evaluate, importance_weighted_bounds
from vae_core.bundles.bundle import build_atlas, load_bundle, save_bundle
from vae_core.bundles.files import DECODER_FILE, BundleError
from vae_core.config import PRESETS, SNAPSHOT_SIZE, ModelConfig, TrainConfig
from vae_core.data.datasets import DatasetError
from vae_core.model.codec import LatentCodec
from vae_core.model.vae import build_vae
from vae_core.training.train import train_vae

CLASSES = 10
CONFIG = TrainConfig(
    ModelConfig(preset="conv", latent_dim=2, classes=CLASSES),
    batch_size=32,
    epochs=3,
    validation_split=0.2,
    seed=3,
    steps_per_execution=1,
)


@pytest.fixture(scope="module")
def dataset():
    return synthetic_dataset(n_train=320, n_test=48)


@pytest.fixture(scope="module")
def trained(dataset):
    return train_vae(CONFIG, dataset.x_train, dataset.y_train)


@pytest.fixture(scope="module")
def codec(trained):
    return LatentCodec(trained.model)


@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_builds_a_conditional_model_that_saves_and_loads_in_safe_mode(preset, tmp_path):
    vae = build_vae(ModelConfig(preset=preset, latent_dim=3, classes=4), seed=0)
    assert vae.classes == 4
    assert [tuple(t.shape[1:]) for t in vae.encoder.inputs] == [(28, 28, 1), (4,)]
    assert [tuple(t.shape[1:]) for t in vae.decoder.inputs] == [(3,), (4,)]
    vae.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True, compile=False)
    z = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    np.testing.assert_array_equal(
        LatentCodec(loaded).decode(z, [0, 1, 2, 3, 0]), LatentCodec(vae).decode(z, [0, 1, 2, 3, 0])
    )


def test_a_plain_model_has_no_classes_and_ignores_labels():
    codec = LatentCodec(build_vae(ModelConfig(preset="mlp", latent_dim=2), seed=0))
    z = np.zeros((2, 2), np.float32)
    assert codec.classes == 0
    np.testing.assert_array_equal(codec.decode(z, [3, 4]), codec.decode(z))


def test_training_reports_the_conditional_loss_terms_and_lowers_the_loss(trained):
    assert trained.status == "completed", trained.message
    assert trained.history[-1]["loss"] < trained.history[0]["loss"]
    for record in trained.history:
        assert record["loss"] == pytest.approx(record["reconstruction_loss"] + record["kl_loss"], rel=1e-4)
        assert np.isfinite(record["val_loss"])


def test_training_keeps_a_replay_of_each_epoch(trained, dataset):
    validation = round(320 * CONFIG.validation_split)
    replay = trained.replay
    assert replay.latent_means.shape == (3, min(validation, SNAPSHOT_SIZE), 2)
    assert list(replay.epochs) == [1, 2, 3]
    np.testing.assert_array_equal(replay.labels, dataset.y_train[trained.validation_indices])
    assert not np.allclose(replay.latent_means[0], replay.latent_means[-1])


def test_the_replays_last_epoch_is_what_the_model_encodes(trained, dataset, codec):
    shown = trained.validation_indices
    z_mean, _ = codec.encode(dataset.x_train[shown], dataset.y_train[shown])
    np.testing.assert_allclose(trained.replay.latent_means[-1], z_mean, atol=1e-5)


def test_a_conditional_model_needs_labels_to_train(dataset):
    with pytest.raises(ValueError, match="labelled images"):
        train_vae(CONFIG, dataset.x_train)
    with pytest.raises(ValueError, match="from 0 to 9"):
        train_vae(CONFIG, dataset.x_train, dataset.y_train + 5)


def test_the_codec_asks_for_labels_and_reads_them_as_integers_or_weights(codec, dataset):
    images = dataset.x_test[:4]
    with pytest.raises(ValueError, match="conditional"):
        codec.encode(images)
    with pytest.raises(ValueError, match="from 0 to 9"):
        codec.decode(np.zeros((1, 2)), 10)
    with pytest.raises(ValueError, match="integer labels, or rows of class weights"):
        codec.decode(np.zeros((3, 2)), np.array([1.0, 2.0, 3.0]))
    as_integers = codec.encode(images, np.array([1, 2, 3, 4]))[0]
    as_one_hot = codec.encode(images, np.eye(CLASSES)[[1, 2, 3, 4]])[0]
    np.testing.assert_array_equal(as_integers, as_one_hot)
    z = np.zeros((3, 2), np.float32)
    np.testing.assert_array_equal(codec.decode(z, 7), codec.decode(z, [7, 7, 7]))
    assert not np.allclose(codec.decode(z, 0), codec.decode(z, 5))


def test_bounds_are_conditional_on_each_images_label(codec, dataset):
    images, labels = dataset.x_test[:16], dataset.y_test[:16]
    right = importance_weighted_bounds(codec, images, labels=labels, samples=20, seed=0)["neg_iw_bound"]
    wrong = importance_weighted_bounds(codec, images, labels=(labels + 3) % CLASSES, samples=20, seed=0)
    assert right.mean() < wrong["neg_iw_bound"].mean()


def test_evaluation_is_given_the_labels_and_measures_no_knn_accuracy(codec, dataset):
    metrics = evaluate(codec, dataset.x_test, dataset.y_test, dataset.x_train, dataset.y_train, iw_samples=50)
    given = importance_weighted_bounds(codec, dataset.x_test, labels=dataset.y_test, samples=50, seed=0)
    assert metrics.neg_iw_bound == pytest.approx(given["neg_iw_bound"].mean())
    assert metrics.neg_elbo == pytest.approx((given["reconstruction_nll"] + given["kl"]).mean())
    assert metrics.neg_iw_bound < metrics.neg_elbo  # 50 samples tighten the bound on every image here
    assert metrics.knn_accuracy is None  # z is given the label: recovering it from z measures nothing


def test_every_class_writes_one_z_per_column_as_one_class_per_row(codec):
    z = np.random.default_rng(1).normal(size=(3, 2)).astype(np.float32)
    grid = every_class(codec, z)
    assert grid.shape == (CLASSES * 3, 28, 28, 1)
    np.testing.assert_allclose(grid[4 * 3 : 5 * 3], codec.decode(z, 4), atol=1e-6)


def test_style_transfer_decodes_the_digits_z_as_every_class(codec, dataset):
    image, label = dataset.x_test[0], int(dataset.y_test[0])
    strip = style_of(codec, image, label)
    z_mean, _ = codec.encode(image[None], label)
    assert strip.shape == (CLASSES, 28, 28, 1)
    np.testing.assert_allclose(strip[label], codec.decode(z_mean, label)[0], atol=1e-6)


def test_class_probabilities_are_bayes_rule_over_the_conditional_bounds(codec, dataset):
    image = dataset.x_test[5]
    bounds = importance_weighted_bounds(codec, np.repeat(image[None], CLASSES, 0), labels=np.arange(CLASSES), seed=0)
    log_px_given = -bounds["neg_iw_bound"]
    by_hand = np.exp(log_px_given - log_px_given.max()) / np.exp(log_px_given - log_px_given.max()).sum()
    np.testing.assert_allclose(class_probabilities(codec, image), by_hand, rtol=1e-6)


def test_class_probabilities_sum_to_one_and_favour_the_true_class(codec, dataset):
    reads = [class_probabilities(codec, image) for image in dataset.x_test[:12]]
    assert all(p.shape == (CLASSES,) and p.sum() == pytest.approx(1.0) for p in reads)
    correct = np.mean([p.argmax() == label for p, label in zip(reads, dataset.y_test[:12], strict=True)])
    assert correct >= 0.5  # ten classes: chance is 0.1


def test_a_saved_conditional_bundle_round_trips_with_its_two_input_browser_decoder(trained, dataset, codec, tmp_path):
    from synthetic import bundle_meta

    atlas = build_atlas(codec, dataset.x_test, dataset.y_test)
    config = trained.config
    save_bundle(tmp_path / "cvae", trained.model, bundle_meta(config, len(dataset.x_test), list("0123456789")), atlas)
    bundle = load_bundle(tmp_path / "cvae")
    assert bundle.model.classes == CLASSES and bundle.meta.model.classes == CLASSES
    np.testing.assert_array_equal(bundle.atlas.z_mean, atlas.z_mean)
    session = onnxruntime.InferenceSession(str(tmp_path / "cvae" / DECODER_FILE), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["z", "condition"]
    z = np.random.default_rng(2).normal(size=(6, 2)).astype(np.float32)
    condition = codec.condition(np.arange(6), 6)
    np.testing.assert_allclose(
        session.run(None, {"z": z, "condition": condition})[0], codec.decode(z, np.arange(6)), atol=1e-5
    )


def test_a_conditional_bundle_whose_atlas_lacks_labels_is_refused(trained, dataset, codec, tmp_path):
    from synthetic import bundle_meta

    atlas = dataclasses.replace(build_atlas(codec, dataset.x_test, dataset.y_test), labels=None)
    save_bundle(tmp_path / "cvae", trained.model, bundle_meta(trained.config, len(dataset.x_test), None), atlas)
    with pytest.raises(BundleError, match="conditioned on 10 classes"):
        load_bundle(tmp_path / "cvae")


def test_unlabelled_data_cannot_train_a_conditional_model(dataset):
    unlabelled = dataclasses.replace(dataset, y_train=None, y_test=None, class_names=None)
    assert unlabelled.condition_classes(False) == 0
    assert dataset.condition_classes(True) == CLASSES
    with pytest.raises(DatasetError, match="has no labels"):
        unlabelled.condition_classes(True)
