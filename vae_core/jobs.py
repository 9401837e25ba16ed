"""Training runs in the background, shared by every browser session of one app process.

A `TrainingJob` runs `pipeline.train_and_save` in a daemon thread and keeps what its events said
(progress, per-epoch history, the latest latent snapshot) behind a lock, so any session can draw it
at any time. `JobBoard` holds the jobs of the process and refuses a second concurrent run: on a
small machine two trainings would only slow each other down.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from vae_core.config import TrainConfig
from vae_core.datasets import Dataset
from vae_core.monitor import BatchEnd, EpochEnd, EvaluationStarted, Event, TrainingStarted
from vae_core.training import SNAPSHOT_SIZE, split_validation

LOGGER = logging.getLogger(__name__)


class JobBusy(RuntimeError):
    """A training run is already going; only one runs at a time."""


@dataclass(frozen=True)
class JobProgress:
    """What a job has reported so far; a copy, safe to read without the lock.

    `stage` is `starting`, `training`, `evaluating` or `finished`; once finished, `status` is
    `completed`, `stopped`, `diverged` or `failed`, and `message` says what happened.
    """

    name: str
    out_dir: Path
    epochs: int
    stage: str = "starting"
    status: str = ""
    message: str = ""
    epoch: int = 0
    batch: int = 0
    batches_per_epoch: int = 0
    history: tuple[dict[str, float], ...] = ()
    latent_means: np.ndarray | None = field(default=None, compare=False)
    snapshot_labels: np.ndarray | None = field(default=None, compare=False)
    started: float = 0.0
    finished: float | None = None


class TrainingJob:
    """One background training run; `progress()` can be called from any thread."""

    def __init__(self, config: TrainConfig, dataset: Dataset, out_dir: Path) -> None:
        self.config, self.dataset, self.out_dir = config, dataset, Path(out_dir)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        labels = None
        if dataset.y_train is not None:
            _, val_index = split_validation(len(dataset.x_train), config.validation_split, config.seed)
            labels = dataset.y_train[val_index[:SNAPSHOT_SIZE]]
        self._progress = JobProgress(
            self.out_dir.name, self.out_dir, config.epochs, snapshot_labels=labels, started=time.time()
        )
        self._thread = threading.Thread(target=self._run, name=f"train-{self.out_dir.name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Ask the run to end after its current batches; what it learned is still evaluated and saved."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def progress(self) -> JobProgress:
        with self._lock:
            return self._progress

    def _update(self, **changes: object) -> None:
        with self._lock:
            self._progress = replace(self._progress, **changes)

    def _on_event(self, event: Event) -> None:
        if isinstance(event, TrainingStarted):
            self._update(stage="training", batches_per_epoch=event.batches_per_epoch)
        elif isinstance(event, BatchEnd):
            self._update(epoch=event.epoch, batch=event.batch)
        elif isinstance(event, EpochEnd):
            history = (*self.progress().history, event.record)
            self._update(history=history, latent_means=event.latent_means)
        elif isinstance(event, EvaluationStarted):
            self._update(stage="evaluating", status=event.status, message=event.message)

    def _run(self) -> None:
        from vae_core.pipeline import train_and_save  # imports Keras: keep it off the caller's thread

        try:
            result, _ = train_and_save(
                self.config, self.dataset, self.out_dir, listener=self._on_event, stop_event=self._stop
            )
            status, message = result.status, f"{result.message} Saved as {self.out_dir.name}."
        except Exception as error:  # reported to the page, and in full to the server's log
            LOGGER.exception("Training run %s failed", self.out_dir.name)
            status, message = "failed", f"{type(error).__name__}: {error}"
        self._update(stage="finished", status=status, message=message, finished=time.time())


class JobBoard:
    """The process's training jobs, newest last."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: list[TrainingJob] = []

    def start(self, config: TrainConfig, dataset: Dataset, out_dir: Path) -> TrainingJob:
        """Start a run saving to `out_dir`, unless one is still going (`JobBusy`)."""
        with self._lock:
            if self._jobs and self._jobs[-1].running:
                raise JobBusy(f"{self._jobs[-1].out_dir.name} is still training; stop it or wait for it to finish.")
            job = TrainingJob(config, dataset, out_dir)
            self._jobs.append(job)
            job.start()
            return job

    def latest(self) -> TrainingJob | None:
        with self._lock:
            return self._jobs[-1] if self._jobs else None
