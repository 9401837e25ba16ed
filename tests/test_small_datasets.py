"""A file of a few images trains from the command line, with a warning that its atlas will be tiny."""

from __future__ import annotations

import numpy as np
from synthetic import synthetic_images

from vae_core.bundles.bundle import load_bundle
from vae_core.cli import train as train_cli


def test_three_images_train_and_save_with_a_warning(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("VAE_MODELS_DIR", str(tmp_path / "models"))
    images, _ = synthetic_images(3)
    np.savez(tmp_path / "three.npz", x=images)
    bundle = tmp_path / "three"
    args = ["--dataset", str(tmp_path / "three.npz"), "--preset", "mlp", "--hidden", "16", "--epochs", "1"]

    status = train_cli.main([*args, "--iw-samples", "2", "--out", str(bundle)])

    printed = capsys.readouterr()
    assert status == 0
    assert "warning: three.npz holds 3 images, so only 1 will be held out" in printed.err
    assert "the atlas will be tiny" in printed.err
    assert "on three: 2 training images" in printed.out and "Trained 1 epoch." in printed.out
    assert len(load_bundle(bundle).atlas.images) == 1


def test_two_images_leave_one_training_image(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("VAE_MODELS_DIR", str(tmp_path / "models"))
    images, _ = synthetic_images(2)
    np.savez(tmp_path / "two.npz", x=images)
    args = ["--dataset", str(tmp_path / "two.npz"), "--preset", "mlp", "--hidden", "16", "--epochs", "1"]

    status = train_cli.main([*args, "--iw-samples", "2", "--out", str(tmp_path / "two")])

    assert status == 0 and "on two: 1 training image from" in capsys.readouterr().out


def test_three_labelled_images_train_and_measure_neighbours_among_the_two_there_are(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_MODELS_DIR", str(tmp_path / "models"))
    images, labels = synthetic_images(3)
    np.savez(tmp_path / "labelled.npz", x=images, y=labels)
    args = ["--dataset", str(tmp_path / "labelled.npz"), "--preset", "mlp", "--hidden", "16", "--epochs", "1"]

    status = train_cli.main([*args, "--iw-samples", "2", "--out", str(tmp_path / "labelled")])

    metrics = load_bundle(tmp_path / "labelled").meta.test_metrics
    assert status == 0 and metrics.knn_accuracy in (0.0, 1.0)  # one test image, voted on by two
