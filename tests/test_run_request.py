"""A run request: its settings and destination checked in one place before any data is read, its data
opened and its config made for it, and the whole of it sent to another process as it is."""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np
import pytest
from synthetic import synthetic_images

from vae_core.bundles.files import BundleError
from vae_core.config import ConfigError, ModelConfig, TrainConfig
from vae_core.data.datasets import DatasetError
from vae_core.data.source import DataSource
from vae_core.training.run_request import RunRequest, request_run


def upload(images: int, labelled: bool = True) -> DataSource:
    """An uploaded .npz of synthetic images (10% become the test split), with labels or without."""
    x, y = synthetic_images(images, seed=1)
    buffer = io.BytesIO()
    np.savez(buffer, **({"x": x, "y": y} if labelled else {"x": x}))
    return DataSource("squares.npz", buffer.getvalue())


def never_read() -> DataSource:
    raise AssertionError("the data was read for a run that was refused")


def test_a_request_holds_the_settings_data_and_destination_asked_for(models_dir):
    request = request_run({"preset": "mlp", "epochs": 2}, "My Model", lambda: DataSource("mnist"), conditional=True)
    expected = TrainConfig(ModelConfig("mlp"), epochs=2)
    assert request == RunRequest(expected, DataSource("mnist"), models_dir / "my-model", conditional=True)
    assert request_run({}, "ignored", lambda: DataSource("mnist"), out="elsewhere").out_dir == Path("elsewhere")
    assert pickle.loads(pickle.dumps(request)) == request  # sent to the training process as it is


def test_a_refused_request_reads_no_data(models_dir):
    with pytest.raises(ConfigError, match="latent_dim=0"):
        request_run({"latent_dim": 0}, "model", never_read)
    with pytest.raises(ValueError, match="has no letters or digits"):
        request_run({}, "///", never_read)
    with pytest.raises(BundleError, match="too long"):
        request_run({}, "model", never_read, out="a" * 300)


def test_the_app_never_replaces_a_model_and_the_command_line_replaces_only_a_bundle(models_dir):
    (models_dir / "taken").mkdir(parents=True)  # empty: a bundle's place, as a save leaves it
    with pytest.raises(ValueError, match="A model named 'taken' exists already; choose another name."):
        request_run({}, "taken", never_read, replace=False)
    assert request_run({}, "taken", lambda: DataSource("mnist")).out_dir == models_dir / "taken"
    (models_dir / "papers").mkdir()
    (models_dir / "papers" / "notes.txt").write_text("mine")
    with pytest.raises(BundleError, match="not a model bundle"):
        request_run({}, "papers", never_read)
    # A cluster's other processes save nothing, so their destination is not theirs to refuse.
    assert request_run({}, "papers", lambda: DataSource("mnist"), saves=False).out_dir == models_dir / "papers"


def test_the_data_opens_cut_to_a_quick_runs_images_and_the_config_learns_its_classes(tmp_path):
    config = TrainConfig(ModelConfig("mlp"), train_limit=40)
    request = RunRequest(config, upload(142), tmp_path / "model", conditional=True)
    dataset = request.open_data()
    assert len(dataset.x_train) == 40
    fitted = request.config_for(dataset)
    assert fitted.model.classes == 10 and fitted.model.image_shape == (28, 28, 1)
    plain = RunRequest(config, upload(142), tmp_path / "model")
    assert not plain.config_for(plain.open_data()).model.conditional


def test_a_conditional_request_on_unlabelled_data_says_it_needs_labels(tmp_path):
    request = RunRequest(TrainConfig(), upload(40, labelled=False), tmp_path / "model", conditional=True)
    with pytest.raises(DatasetError, match="has no labels"):
        request.config_for(request.open_data())
