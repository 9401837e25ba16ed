"""TensorBoard logs of a run: Keras's own scalars and a latent snapshot picture per epoch, read back as
TensorBoard reads them, and log folders refused, before any data is read, with what to do."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from synthetic import synthetic_dataset
from tensorboard.backend.event_processing.event_accumulator import TENSORS, EventAccumulator
from tensorboard.util.tensor_util import make_ndarray

from vae_core.config import ModelConfig, TrainConfig
from vae_core.data.source import DataSource
from vae_core.training import tensorboard_logs
from vae_core.training.events import EpochEnd
from vae_core.training.pipeline import train_and_save
from vae_core.training.run_request import request_run
from vae_core.training.tensorboard_logs import (
    CLASS_COLOURS,
    IMAGE_SIDE,
    IMAGE_TAG,
    NO_TENSORFLOW,
    axis_limit,
    scatter_picture,
)


def logged(folder, tag: str) -> list[tuple[int, np.ndarray]]:
    """Each (step, value) TensorBoard reads for `tag` in the run folder `folder`."""
    events = EventAccumulator(str(folder), size_guidance={TENSORS: 0})
    events.Reload()
    return [(event.step, make_ndarray(event.tensor_proto)) for event in events.Tensors(tag)]


def test_a_run_with_tensorboard_logs_writes_each_epochs_losses_and_latent_snapshot(tmp_path):
    dataset = synthetic_dataset(n_train=100, n_test=20)
    config = TrainConfig(ModelConfig(preset="mlp", latent_dim=2, hidden_sizes=(16,)), batch_size=25, epochs=2)
    heard: list = []
    logs = tmp_path / "logs"
    result, _ = train_and_save(
        config, dataset, tmp_path / "bundle", listener=heard.append, iw_samples=2, tensorboard=logs
    )
    assert [event.epoch for event in heard if isinstance(event, EpochEnd)] == [1, 2]  # still heard by the caller
    for run, prefix in (("train", ""), ("validation", "val_")):
        for term in ("loss", "reconstruction_loss", "kl_loss"):
            scalars = logged(logs / run, f"epoch_{term}")
            assert [step for step, _ in scalars] == [0, 1], (run, term)  # Keras counts epochs from 0
            expected = [record[prefix + term] for record in result.history]
            np.testing.assert_allclose([float(value) for _, value in scalars], expected, rtol=1e-6)
    pictures = logged(logs / "images", IMAGE_TAG)
    assert [step for step, _ in pictures] == [0, 1]
    for _, (width, height, png) in pictures:  # an image summary: width, height, then the PNG
        assert (int(width), int(height)) == (IMAGE_SIDE, IMAGE_SIDE)
        assert Image.open(io.BytesIO(png)).size == (IMAGE_SIDE, IMAGE_SIDE)


def test_the_snapshot_picture_puts_each_class_colour_where_its_point_is():
    means = np.array([[0.0, 0.0], [1.5, 1.5], [-1.5, -1.5]])
    picture = scatter_picture(means, np.array([0, 1, 2]), limit=2.0)
    assert picture.shape == (IMAGE_SIDE, IMAGE_SIDE, 3) and picture.dtype == np.uint8
    middle, reach = IMAGE_SIDE // 2, round((IMAGE_SIDE / 2 - tensorboard_logs.MARGIN) * 0.75)
    where = {0: (middle, middle), 1: (middle - reach, middle + reach), 2: (middle + reach, middle - reach)}
    for label, (row, column) in where.items():  # z1 upwards: a larger z1 is a higher row
        assert tuple(picture[row, column]) == tuple(bytes.fromhex(CLASS_COLOURS[label][1:])), label
    assert scatter_picture(np.array([[0.5]]), None, limit=1.0).shape == (IMAGE_SIDE, IMAGE_SIDE, 3)  # a 1-D code


@pytest.mark.parametrize(("reach", "limit"), [(0.3, 0.5), (1.0, 1.0), (1.7, 2.0), (3.0, 5.0), (12.0, 20.0)])
def test_the_axes_reach_a_round_number_past_the_points(reach, limit):
    assert axis_limit(np.array([[reach, -reach / 2]] * 10)) == pytest.approx(limit)


def never_read() -> DataSource:
    raise AssertionError("the data was read for a run that was refused")


def test_a_request_holds_its_log_folder(models_dir, tmp_path):
    request = request_run({}, "model", lambda: DataSource("mnist"), tensorboard=tmp_path / "runs" / "one")
    assert request.tensorboard == tmp_path / "runs" / "one"
    assert request_run({}, "model", lambda: DataSource("mnist"), tensorboard="").tensorboard is None


def test_log_folders_that_cannot_take_the_logs_are_refused_before_the_data_is_read(models_dir, tmp_path, monkeypatch):
    (tmp_path / "notes.txt").write_text("mine")
    refused = {
        tmp_path / "notes.txt": "notes.txt is a file, or inside one: name a folder, or a path not taken yet.",
        tmp_path / "notes.txt" / "logs": "is a file, or inside one",
        models_dir / "model" / "logs": "is in the model's folder, which saving the model replaces",
    }
    for folder, expected in refused.items():
        with pytest.raises(ValueError, match=expected):
            request_run({}, "model", never_read, tensorboard=folder)
    locked = tmp_path / "locked"
    locked.mkdir()
    access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != locked and access(path, mode))  # root's too
    with pytest.raises(ValueError, match="locked/logs cannot be written to: name a folder you can write to."):
        request_run({}, "model", never_read, tensorboard=locked / "logs")


def test_without_tensorflow_tensorboard_logs_are_refused_in_a_sentence(models_dir, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # as on a JAX-only install: not importable
    with pytest.raises(ValueError) as refused:
        request_run({}, "model", never_read, tensorboard=tmp_path / "logs")
    assert str(refused.value) == NO_TENSORFLOW
    assert NO_TENSORFLOW.count(". ") == 0 and NO_TENSORFLOW.endswith(".")
