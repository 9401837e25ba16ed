"""Training runs in the background, in a process of their own, watched by every browser session.

A `TrainingJob` hands its run to a `TrainingProcess` (`training_process`: a child at a lower
priority that opens the data and runs `pipeline.train_and_save`). A thread of the app's process
reads the child's events and keeps what they said (progress, per-epoch history, the latest latent
snapshot, what each step took) behind a lock, so any session can draw it at any time. `JobBoard`
holds the latest job and a process started ahead of the next one, and refuses a second concurrent
run: on a small machine two trainings would only slow each other down.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from vae_app.services.training_process import DataOpened, RunEnded, TrainingProcess, Work
from vae_core.bundles.meta import TestMetrics
from vae_core.training.events import (
    BatchEnd,
    EpochEnd,
    EvaluationProgress,
    EvaluationStarted,
    Event,
    Saving,
    TrainingStarted,
)
from vae_core.training.run_request import RunRequest

LOGGER = logging.getLogger(__name__)
POLL_SECONDS = 0.5
# How long a child that has said its last word may take to exit before it is killed.
EXIT_GRACE_SECONDS = 30.0
# The steps a run goes through, around its evaluation's own (`evaluation.EvaluationSteps`).
OPENING, BUILDING, TRAINING = "opening the data", "building the model", "training"
PREPARING, SAVING = "preparing the evaluation", "saving the model"


class JobBusy(RuntimeError):
    """A training run is already going; only one runs at a time."""


@dataclass(frozen=True)
class JobProgress:
    """What a job has reported so far; a copy, safe to read without the lock.

    `stage` is `starting` (opening the data), `training`, `evaluating` or `finished`; once
    finished, `status` is `completed`, `stopped`, `diverged` or `failed`, and `message` says what
    happened. `notes` are the data's warnings, such as a test split too small to explore. `steps`
    are the steps begun so far, each with the time it began: `OPENING`, `BUILDING`, `TRAINING`,
    `PREPARING`, the evaluation's own steps, `SAVING`; `metrics` are the test figures saved.
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
    evaluated: float = 0.0
    notes: tuple[str, ...] = ()
    class_names: tuple[str, ...] | None = None
    history: tuple[dict[str, float], ...] = ()
    latent_means: np.ndarray | None = field(default=None, compare=False)
    snapshot_labels: np.ndarray | None = field(default=None, compare=False)
    started: float = 0.0
    finished: float | None = None
    steps: tuple[tuple[str, float], ...] = ()
    metrics: TestMetrics | None = None

    @property
    def step(self) -> str:
        """The step under way."""
        return self.steps[-1][0] if self.steps else OPENING

    def step_seconds(self) -> list[tuple[str, float]]:
        """Each step begun and the seconds it took (the one under way: so far)."""
        ends = [when for _, when in self.steps[1:]] + [self.finished or time.time()]
        return [(step, end - began) for (step, began), end in zip(self.steps, ends, strict=True)]


class TrainingJob:
    """One background training run; `progress()` can be called from any thread.

    It keeps what the pages show of its request (the settings, the data's name, the destination,
    whether the model is conditional on the data's labels) but not the data itself. `owner` names
    the browser that started it: only that one is offered Stop. `process` is the child to train in,
    when one was started ahead (`JobBoard.warm`).
    """

    def __init__(self, request: RunRequest, owner: str = "", process: TrainingProcess | None = None) -> None:
        self.config, self.out_dir, self.conditional = request.config, request.out_dir, request.conditional
        self.data_name, self.owner = request.source.name, owner
        now = time.time()
        self._progress = JobProgress(
            self.out_dir.name, self.out_dir, self.config.epochs, started=now, steps=((OPENING, now),)
        )
        self._lock = threading.Lock()
        self._child = process or TrainingProcess()
        self._request: RunRequest | None = request  # sent to the child, then let go with its upload's bytes
        self._follower = threading.Thread(target=self._follow, daemon=True)

    def start(self) -> None:
        self._follower.start()

    def stop(self) -> None:
        """Ask the run to end within a few seconds: during training what it learned is evaluated and
        saved; during evaluation the model is saved without test metrics."""
        self._child.stop.set()

    def join(self, timeout: float | None = None) -> None:
        self._follower.join(timeout)

    @property
    def pid(self) -> int | None:
        """The child process's id."""
        return self._child.process.pid

    @property
    def running(self) -> bool:
        return self._follower.is_alive()

    def progress(self) -> JobProgress:
        with self._lock:
            return self._progress

    def _update(self, step: str | None = None, **changes: object) -> None:
        """Change the progress; a `step` other than the one under way begins now."""
        with self._lock:
            if step is not None and step != self._progress.step:
                changes["steps"] = (*self._progress.steps, (step, time.time()))
            self._progress = replace(self._progress, **changes)

    def _on_event(self, event: Event | DataOpened) -> None:
        if isinstance(event, DataOpened):
            self._update(BUILDING, class_names=event.class_names, notes=event.notes)
        elif isinstance(event, TrainingStarted):
            self._update(
                TRAINING,
                stage="training",
                batches_per_epoch=event.batches_per_epoch,
                snapshot_labels=event.snapshot_labels,
            )
        elif isinstance(event, BatchEnd):
            self._update(epoch=event.epoch, batch=event.batch)
        elif isinstance(event, EpochEnd):
            self._update(history=(*self.progress().history, event.record), latent_means=event.latent_means)
        elif isinstance(event, EvaluationStarted):
            self._update(PREPARING, stage="evaluating", status=event.status, message=event.message)
        elif isinstance(event, EvaluationProgress):
            self._update(event.step or None, evaluated=event.fraction)
        elif isinstance(event, Saving):
            self._update(SAVING)

    def _follow(self) -> None:
        """Send the child its work, then relay its events until it ends, however it ends: the job
        is always marked finished, and the child never outlives a follower that gave up on it."""
        ended, scratch, process = None, None, self._child.process
        try:
            # An uploaded archive is unpacked here: made and removed by this thread, so that not even
            # a killed child leaves it behind.
            scratch = Path(tempfile.mkdtemp(prefix="vae-upload-"))
            self._child.connection.send(Work(self._request, scratch))
            self._request = None
            ended = self._relay_events()
            if ended is not None:  # said at once: the model is saved, and the child's exit can take seconds
                self._finish(ended)
        except (EOFError, OSError):  # the child is gone: its exit code says more below
            pass
        except Exception:  # a message that cannot be read: stop the child rather than lose track of it
            LOGGER.exception("Lost track of training run %s", self.out_dir.name)
        finally:
            process.join(timeout=EXIT_GRACE_SECONDS)
            if process.is_alive():
                process.kill()
                process.join()
            self._child.connection.close()
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
        if ended is None:
            self._finish(RunEnded("failed", f"The training process ended unexpectedly (exit code {process.exitcode})."))

    def _finish(self, ended: RunEnded) -> None:
        self._update(
            stage="finished", status=ended.status, message=ended.message, metrics=ended.metrics, finished=time.time()
        )

    def _relay_events(self) -> RunEnded | None:
        """The child's events, passed on until its last word; None if it died without one."""
        connection, process = self._child.connection, self._child.process
        while True:
            if not connection.poll(POLL_SECONDS):
                if process.is_alive():
                    continue
                if not connection.poll():  # gone without a word: killed or crashed
                    return None
            message = connection.recv()
            if isinstance(message, RunEnded):
                return message
            self._on_event(message)


class JobBoard:
    """The process's latest training job, and a process started ahead of the next; finished jobs
    before the latest are let go."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: TrainingJob | None = None
        self._ready: TrainingProcess | None = None

    def warm(self) -> None:
        """Start a training process ahead of the next run, unless a run is going or one is ready:
        the Train page calls this, so Keras is imported while the form is being filled in."""
        with self._lock:
            if (self._latest is not None and self._latest.running) or (self._ready and self._ready.fresh):
                return
            if self._ready is not None:
                self._ready.dismiss()
            self._ready = TrainingProcess()

    def start(self, request: RunRequest, owner: str = "") -> TrainingJob:
        """Start the run asked for, unless one is still going (`JobBusy`)."""
        with self._lock:
            if self._latest is not None and self._latest.running:
                raise JobBusy(f"{self._latest.out_dir.name} is still training; stop it or wait for it to finish.")
            ready, self._ready = self._ready, None
            if ready is not None and not ready.fresh:
                ready.dismiss()
                ready = None
            # Raises when no process can be started: then the previous job stays the latest.
            job = TrainingJob(request, owner, ready)
            job.start()
            self._latest = job
            return job

    def latest(self) -> TrainingJob | None:
        with self._lock:
            return self._latest
