"""Background training jobs: progress from any thread, stop keeps the model, one run at a time, a
process started ahead of the run, and what each step took."""

from __future__ import annotations

import dataclasses
import io
import os
import signal
import tempfile
import zipfile

import numpy as np
import pytest
from support import wait_until
from synthetic import synthetic_images, write_image_folder

from vae_app.services import training_process
from vae_app.services.jobs import BUILDING, OPENING, PREPARING, SAVING, TRAINING, JobBoard, JobBusy
from vae_app.services.training_process import TRAINING_NICENESS
from vae_core.bundles.bundle import load_bundle
from vae_core.config import ModelConfig, TrainConfig
from vae_core.data.source import DataSource
from vae_core.training.run_request import RunRequest

pytestmark = pytest.mark.slow  # training runs in child processes

CONFIG = TrainConfig(ModelConfig("mlp", hidden_sizes=(32,)), batch_size=32, epochs=2, validation_split=0.25)


def upload(images: int) -> DataSource:
    """An uploaded .npz of labelled synthetic images, as the Train form hands it over (10% become the test split)."""
    x, y = synthetic_images(images, seed=1)
    buffer = io.BytesIO()
    np.savez(buffer, x=x, y=y)
    return DataSource("squares.npz", buffer.getvalue())


def test_job_streams_progress_and_saves_a_bundle(tmp_path):
    # 128 training images, 96 after validation
    job = JobBoard().start(RunRequest(CONFIG, upload(142), tmp_path / "tiny"))
    job.join(timeout=300)
    progress = job.progress()
    assert (progress.stage, progress.status) == ("finished", "completed"), progress.message
    assert [record["epoch"] for record in progress.history] == [1, 2]
    assert progress.batch == progress.batches_per_epoch == 3
    assert progress.latent_means.shape == (32, 2) and progress.snapshot_labels.shape == (32,)
    assert progress.finished >= progress.started and "Saved as tiny" in progress.message
    meta = load_bundle(tmp_path / "tiny").meta
    assert meta.training.epochs_run == 2 and progress.metrics == meta.test_metrics  # the page shows what was saved
    steps = [step for step, _ in progress.step_seconds()]
    assert steps == [OPENING, BUILDING, TRAINING, PREPARING, "importance-weighted bound", "5-NN accuracy", SAVING]
    assert all(seconds >= 0 for _, seconds in progress.step_seconds())
    assert (meta.test_metrics.images, meta.test_metrics.scored_images) == (14, 14)  # fewer than 200: all scored


def test_a_quick_run_trains_on_the_first_images_it_is_given_and_logs_where_asked(tmp_path):
    config, logs = dataclasses.replace(CONFIG, train_limit=40), tmp_path / "logs"
    job = JobBoard().start(RunRequest(config, upload(142), tmp_path / "quick", tensorboard=logs))
    job.join(timeout=300)
    assert job.progress().status == "completed", job.progress().message
    assert all(any((logs / run).glob("events.out.tfevents.*")) for run in ("train", "validation", "images"))
    meta = load_bundle(tmp_path / "quick").meta
    assert (meta.dataset.train_images, meta.config.train_limit) == (40, 40)
    assert job.progress().batches_per_epoch == 1  # 30 images after the validation split, in one batch of 32


def test_a_process_started_ahead_takes_the_next_run_and_a_stale_one_is_let_go(tmp_path, monkeypatch):
    board = JobBoard()
    board.warm()
    ready = board._ready
    board.warm()  # one is ready already: no second
    assert board._ready is ready and ready.process.is_alive()
    job = board.start(RunRequest(CONFIG, upload(80), tmp_path / "warm"))
    assert job.pid == ready.process.pid and board._ready is None
    job.join(timeout=300)
    assert job.progress().status == "completed", job.progress().message

    board.warm()
    stale = board._ready
    monkeypatch.setattr(training_process, "FRESH_SECONDS", 0.0)  # as if it had waited for a run too long
    board.warm()
    assert board._ready is not stale
    stale.process.join(timeout=60)  # dismissed: it exits rather than wait out its idle time
    assert stale.process.exitcode == 0
    monkeypatch.undo()
    ready = board._ready
    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path))  # the next run's data is found elsewhere
    assert not ready.fresh
    job = board.start(RunRequest(CONFIG, upload(80), tmp_path / "elsewhere"))
    assert job.pid != ready.process.pid
    ready.process.join(timeout=60)
    job.join(timeout=300)


def test_stop_keeps_the_model_and_a_second_run_waits_its_turn(tmp_path):
    board = JobBoard()
    dataset = upload(711)
    config = TrainConfig(ModelConfig("mlp", hidden_sizes=(32,)), batch_size=8, epochs=50, steps_per_execution=1)
    job = board.start(RunRequest(config, dataset, tmp_path / "long"))
    wait_until(lambda: job.progress().batch >= 2, "the run's second batch")
    with pytest.raises(JobBusy, match="still training"):
        board.start(RunRequest(config, dataset, tmp_path / "other"))
    job.stop()
    job.join(timeout=300)
    progress = job.progress()
    assert progress.status == "stopped" and len(progress.history) == 1
    assert progress.evaluated == 1.0  # a stop during training leaves the evaluation to run
    assert load_bundle(tmp_path / "long").meta.test_metrics.neg_elbo is not None
    assert board.latest() is job
    second = board.start(RunRequest(CONFIG, upload(80), tmp_path / "second"))
    second.join(timeout=300)
    assert second.progress().status == "completed"


def test_data_that_cannot_be_opened_fails_the_run_with_the_reason(tmp_path):
    job = JobBoard().start(RunRequest(CONFIG, DataSource("digits.csv", b"label,p0\n1,abc\n"), tmp_path / "bad"))
    job.join(timeout=120)
    progress = job.progress()
    assert progress.status == "failed" and progress.message.startswith("digits.csv: "), progress.message
    assert "do not make a square image" in progress.message and not (tmp_path / "bad").exists()


def test_a_small_upload_carries_its_warning_to_the_page(tmp_path):
    job = JobBoard().start(RunRequest(CONFIG, upload(5), tmp_path / "small"))
    job.join(timeout=300)
    progress = job.progress()
    assert progress.status == "completed", progress.message
    assert any("atlas will be tiny" in note for note in progress.notes)
    assert progress.class_names == tuple(str(label) for label in range(10))


def test_the_run_trains_in_a_process_of_its_own_at_a_lower_priority(tmp_path):
    job = JobBoard().start(RunRequest(CONFIG, upload(80), tmp_path / "own"), owner="session-a")
    wait_until(lambda: job.progress().stage != "starting", "the run's start")
    assert job.pid is not None and job.pid != os.getpid() and job.owner == "session-a"
    if hasattr(os, "getpriority"):
        assert os.getpriority(os.PRIO_PROCESS, job.pid) >= os.getpriority(os.PRIO_PROCESS, 0) + TRAINING_NICENESS - 1
    job.join(timeout=300)
    assert job.progress().status == "completed"


def test_stop_during_evaluation_saves_the_model_without_metrics(tmp_path):
    config = TrainConfig(ModelConfig("mlp", hidden_sizes=(32,)), batch_size=256, epochs=1)
    job = JobBoard().start(RunRequest(config, upload(20000), tmp_path / "unmeasured"))  # 2000 test images to evaluate
    wait_until(lambda: job.progress().evaluated > 0 or not job.running, "the evaluation's first step", seconds=300)
    job.stop()
    job.join(timeout=300)
    progress = job.progress()
    assert progress.status == "stopped" and "saved without test metrics" in progress.message, progress.message
    assert progress.evaluated < 1.0  # the evaluation did not run to its end
    metrics = load_bundle(tmp_path / "unmeasured").meta.test_metrics
    assert metrics.neg_elbo is None and metrics.neg_iw_bound is None


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_killed_training_process_is_reported_as_failed_and_leaves_no_unpacked_upload(tmp_path, monkeypatch):
    scratch = tmp_path / "scratch"  # where temporary folders go, this test's alone
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    folder = write_image_folder(tmp_path / "shapes", per_class=60, side=28)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as members:
        for path in sorted(folder.rglob("*.png")):
            members.write(path, path.relative_to(tmp_path))
    config = TrainConfig(ModelConfig("mlp", hidden_sizes=(32,)), batch_size=8, epochs=50, steps_per_execution=1)
    job = JobBoard().start(RunRequest(config, DataSource("shapes.zip", archive.getvalue()), tmp_path / "killed"))
    wait_until(lambda: job.progress().batch >= 2, "the run's second batch")
    assert [path.name[:11] for path in scratch.iterdir()] == ["vae-upload-"]  # unpacked, training from it
    os.kill(job.pid, signal.SIGKILL)
    job.join(timeout=60)
    progress = job.progress()
    assert (progress.stage, progress.status) == ("finished", "failed")
    assert "ended unexpectedly" in progress.message and not (tmp_path / "killed").exists()
    assert list(scratch.iterdir()) == []
