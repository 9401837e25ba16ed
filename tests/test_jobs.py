"""Background training jobs: progress from any thread, stop keeps the model, one run at a time."""

from __future__ import annotations

import os
import signal
import time

import pytest
from synthetic import synthetic_dataset

from vae_core.bundle import load_bundle
from vae_core.config import ModelConfig, TrainConfig
from vae_core.jobs import TRAINING_NICENESS, JobBoard, JobBusy

CONFIG = TrainConfig(ModelConfig("mlp", hidden_sizes=(32,)), batch_size=32, epochs=2, validation_split=0.25)


def wait_until(condition, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("the job did not get there in time")
        time.sleep(0.05)


def test_job_streams_progress_and_saves_a_bundle(tmp_path):
    dataset = synthetic_dataset(n_train=128, n_test=32)
    job = JobBoard().start(CONFIG, dataset, tmp_path / "tiny")
    job.join(timeout=300)
    progress = job.progress()
    assert (progress.stage, progress.status) == ("finished", "completed"), progress.message
    assert [record["epoch"] for record in progress.history] == [1, 2]
    assert progress.batch == progress.batches_per_epoch == 3
    assert progress.latent_means.shape == (32, 2) and progress.snapshot_labels.shape == (32,)
    assert progress.finished >= progress.started and "Saved as tiny" in progress.message
    assert load_bundle(tmp_path / "tiny").meta["training"]["epochs_run"] == 2


def test_stop_keeps_the_model_and_a_second_run_waits_its_turn(tmp_path):
    board = JobBoard()
    dataset = synthetic_dataset(n_train=640, n_test=32)
    config = TrainConfig(ModelConfig("mlp", hidden_sizes=(32,)), batch_size=8, epochs=50, steps_per_execution=1)
    job = board.start(config, dataset, tmp_path / "long")
    wait_until(lambda: job.progress().batch >= 2)
    with pytest.raises(JobBusy, match="still training"):
        board.start(config, dataset, tmp_path / "other")
    job.stop()
    job.join(timeout=300)
    progress = job.progress()
    assert progress.status == "stopped" and len(progress.history) == 1
    assert (tmp_path / "long" / "model.keras").is_file()
    assert board.latest() is job
    second = board.start(CONFIG, synthetic_dataset(n_train=64, n_test=16), tmp_path / "second")
    second.join(timeout=300)
    assert second.progress().status == "completed"


def test_a_failing_run_reports_failed_with_the_reason(tmp_path):
    dataset = synthetic_dataset(n_train=64, n_test=16, shape=(32, 32, 3))  # the config expects 28x28x1
    job = JobBoard().start(CONFIG, dataset, tmp_path / "bad")
    job.join(timeout=120)
    progress = job.progress()
    assert progress.status == "failed" and "ValueError" in progress.message and "shape" in progress.message
    assert not (tmp_path / "bad").exists()


def test_the_run_trains_in_a_process_of_its_own_at_a_lower_priority(tmp_path):
    job = JobBoard().start(CONFIG, synthetic_dataset(n_train=64, n_test=16), tmp_path / "own", owner="session-a")
    wait_until(lambda: job.progress().stage != "starting")
    assert job.pid is not None and job.pid != os.getpid() and job.owner == "session-a"
    if hasattr(os, "getpriority"):
        assert os.getpriority(os.PRIO_PROCESS, job.pid) >= os.getpriority(os.PRIO_PROCESS, 0) + TRAINING_NICENESS - 1
    job.join(timeout=300)
    assert job.progress().status == "completed"


def test_stop_during_evaluation_saves_the_model_without_metrics(tmp_path):
    config = TrainConfig(ModelConfig("mlp", hidden_sizes=(32,)), batch_size=64, epochs=1)
    job = JobBoard().start(config, synthetic_dataset(n_train=128, n_test=3000), tmp_path / "unmeasured")
    wait_until(lambda: job.progress().evaluated > 0 or not job.running, seconds=300)
    job.stop()
    job.join(timeout=300)
    progress = job.progress()
    assert progress.status == "stopped" and "saved without test metrics" in progress.message, progress.message
    assert progress.evaluated < 1.0  # the evaluation did not run to its end
    metrics = load_bundle(tmp_path / "unmeasured").meta["test_metrics"]
    assert metrics["neg_elbo"] is None and metrics["neg_iw_bound"] is None


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_killed_training_process_is_reported_as_failed(tmp_path):
    config = TrainConfig(ModelConfig("mlp", hidden_sizes=(32,)), batch_size=8, epochs=50, steps_per_execution=1)
    job = JobBoard().start(config, synthetic_dataset(n_train=640, n_test=32), tmp_path / "killed")
    wait_until(lambda: job.progress().batch >= 2)
    os.kill(job.pid, signal.SIGKILL)
    job.join(timeout=60)
    progress = job.progress()
    assert (progress.stage, progress.status) == ("finished", "failed")
    assert "ended unexpectedly" in progress.message and not (tmp_path / "killed").exists()
