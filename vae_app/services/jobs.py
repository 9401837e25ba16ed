"""Training runs in the background, in a process of their own, watched by every browser session.

A `TrainingJob` opens the data and runs `pipeline.train_and_save` in a child process at a lower
scheduling priority, so pages stay responsive while it trains (it has its own interpreter lock),
and everything the run allocated (the parsed upload, TensorFlow's buffers) goes back to the
system when it ends: the app's process only ever holds the file's bytes.
A thread of the app's process reads the child's events and keeps what they said (progress,
per-epoch history, the latest latent snapshot) behind a lock, so any session can draw it at any
time. `JobBoard` holds the latest job and refuses a second concurrent run: on a small machine two
trainings would only slow each other down.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.synchronize
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np

from vae_core.config import ConfigError, TrainConfig
from vae_core.data_source import DataSource
from vae_core.datasets import DatasetError, DatasetUnavailable
from vae_core.events import BatchEnd, EpochEnd, EvaluationProgress, EvaluationStarted, Event, TrainingStarted

LOGGER = logging.getLogger(__name__)
# Added to the child's niceness: the app's pages get the processor first.
TRAINING_NICENESS = 10
POLL_SECONDS = 0.5
# How long a child that has said its last word may take to exit before it is killed.
EXIT_GRACE_SECONDS = 30.0


class JobBusy(RuntimeError):
    """A training run is already going; only one runs at a time."""


@dataclass(frozen=True)
class DataOpened:
    """The child's first word: the data is open, with what the page needs to draw its snapshots."""

    class_names: tuple[str, ...] | None
    snapshot_labels: np.ndarray | None
    notes: tuple[str, ...]


@dataclass(frozen=True)
class RunEnded:
    """The child's last word: how the run ended, or why it failed."""

    status: str
    message: str


@dataclass(frozen=True)
class JobProgress:
    """What a job has reported so far; a copy, safe to read without the lock.

    `stage` is `starting` (opening the data), `training`, `evaluating` or `finished`; once
    finished, `status` is `completed`, `stopped`, `diverged` or `failed`, and `message` says what
    happened. `notes` are the data's warnings, such as a test split too small to explore.
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


class TrainingJob:
    """One background training run; `progress()` can be called from any thread.

    `owner` names the browser that started it: only that one is offered Stop. `conditional` asks
    for a conditional VAE on the data's labels, whose classes are known once the data is open.
    """

    def __init__(
        self, config: TrainConfig, source: DataSource, out_dir: Path, owner: str = "", conditional: bool = False
    ) -> None:
        self.config, self.out_dir, self.owner, self.conditional = config, Path(out_dir), owner, conditional
        self._progress = JobProgress(self.out_dir.name, self.out_dir, config.epochs, started=time.time())
        self._lock = threading.Lock()
        context = multiprocessing.get_context("spawn")  # a fresh interpreter: no threads or locks inherited
        self._stop = context.Event()
        self._connection, child_end = context.Pipe()
        self._process = context.Process(
            target=train_in_child, args=(child_end, self._stop), name=f"train-{self.out_dir.name}", daemon=True
        )
        self._source: DataSource | None = source  # sent to the child, then let go
        self._follower = threading.Thread(target=self._follow, args=(child_end,), daemon=True)

    def start(self) -> None:
        self._process.start()
        self._follower.start()

    def stop(self) -> None:
        """Ask the run to end within a few seconds: during training what it learned is evaluated and
        saved; during evaluation the model is saved without test metrics."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        self._follower.join(timeout)

    @property
    def pid(self) -> int | None:
        """The child process's id, once started."""
        return self._process.pid

    @property
    def running(self) -> bool:
        return self._follower.is_alive()

    def progress(self) -> JobProgress:
        with self._lock:
            return self._progress

    def _update(self, **changes: object) -> None:
        with self._lock:
            self._progress = replace(self._progress, **changes)

    def _on_event(self, event: Event | DataOpened) -> None:
        if isinstance(event, DataOpened):
            self._update(class_names=event.class_names, snapshot_labels=event.snapshot_labels, notes=event.notes)
        elif isinstance(event, TrainingStarted):
            self._update(stage="training", batches_per_epoch=event.batches_per_epoch)
        elif isinstance(event, BatchEnd):
            self._update(epoch=event.epoch, batch=event.batch)
        elif isinstance(event, EpochEnd):
            self._update(history=(*self.progress().history, event.record), latent_means=event.latent_means)
        elif isinstance(event, EvaluationStarted):
            self._update(stage="evaluating", status=event.status, message=event.message)
        elif isinstance(event, EvaluationProgress):
            self._update(evaluated=event.fraction)

    def _follow(self, child_end: Connection) -> None:
        """Send the child its work, then relay its events until it ends, however it ends: the job
        is always marked finished, and the child never outlives a follower that gave up on it."""
        child_end.close()  # the child holds its own copy; closing ours lets a dead child show as EOF
        ended, scratch = None, None
        try:
            # An uploaded archive is unpacked here: made and removed by this thread, so that not even
            # a killed child leaves it behind.
            scratch = Path(tempfile.mkdtemp(prefix="vae-upload-"))
            self._connection.send((self.config, self._source, self.out_dir, self.conditional, scratch))
            self._source = None
            ended = self._relay_events()
        except (EOFError, OSError):  # the child is gone: its exit code says more below
            pass
        except Exception:  # a message that cannot be read: stop the child rather than lose track of it
            LOGGER.exception("Lost track of training run %s", self.out_dir.name)
        finally:
            self._process.join(timeout=EXIT_GRACE_SECONDS)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
            self._connection.close()
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
        if ended is None:
            code = self._process.exitcode
            ended = RunEnded("failed", f"The training process ended unexpectedly (exit code {code}).")
        self._update(stage="finished", status=ended.status, message=ended.message, finished=time.time())

    def _relay_events(self) -> RunEnded | None:
        """The child's events, passed on until its last word; None if it died without one."""
        while True:
            if not self._connection.poll(POLL_SECONDS):
                if self._process.is_alive():
                    continue
                if not self._connection.poll():  # gone without a word: killed or crashed
                    return None
            message = self._connection.recv()
            if isinstance(message, RunEnded):
                return message
            self._on_event(message)


def train_in_child(connection: Connection, stop: multiprocessing.synchronize.Event) -> None:
    """The child process: open the data, train, evaluate and save, reporting every event."""
    if hasattr(os, "nice"):
        os.nice(TRAINING_NICENESS)
    config, source, out_dir, conditional, scratch = connection.recv()
    try:
        ended = _train(connection, stop, config, source, out_dir, conditional, scratch)
    except (DatasetError, DatasetUnavailable, ConfigError) as error:  # the data cannot be trained on
        ended = RunEnded("failed", str(error))
    except OSError as error:  # a full disk, a folder gone: said without the server's paths
        LOGGER.exception("Training run %s failed", out_dir.name)
        ended = RunEnded("failed", f"Saving the model failed: {error.strerror or type(error).__name__}.")
    except Exception as error:  # reported to the page, and in full to the server's log
        LOGGER.exception("Training run %s failed", out_dir.name)
        ended = RunEnded("failed", f"{type(error).__name__}: {error}")
    connection.send(ended)
    connection.close()


def _train(
    connection: Connection,
    stop: multiprocessing.synchronize.Event,
    config: TrainConfig,
    source: DataSource,
    out_dir: Path,
    conditional: bool,
    scratch: Path,
) -> RunEnded:
    """Open the data (an uploaded archive unpacked into `scratch`), train and save."""
    dataset = source.open(seed=config.seed, unpack_to=scratch)  # a bad file is said before training
    config = config.with_data(dataset.image_shape, dataset.condition_classes(conditional))
    from vae_core.pipeline import train_and_save  # imports Keras, which the app's process need not
    from vae_core.replay import SNAPSHOT_SIZE
    from vae_core.training import training_split

    labels = None
    if dataset.y_train is not None:  # the labels of the images the run's snapshots encode
        _, validation = training_split(config, len(dataset.x_train))
        labels = dataset.y_train[validation[:SNAPSHOT_SIZE]]
    connection.send(DataOpened(dataset.class_names, labels, dataset.notes))
    result, _ = train_and_save(config, dataset, out_dir, listener=connection.send, stop_event=stop)
    return RunEnded(result.status, f"{result.message} Saved as {out_dir.name}.")


class JobBoard:
    """The process's latest training job; finished ones before it are let go."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: TrainingJob | None = None

    def start(
        self, config: TrainConfig, source: DataSource, out_dir: Path, owner: str = "", conditional: bool = False
    ) -> TrainingJob:
        """Start a run on `source` saving to `out_dir`, unless one is still going (`JobBusy`)."""
        with self._lock:
            if self._latest is not None and self._latest.running:
                raise JobBusy(f"{self._latest.out_dir.name} is still training; stop it or wait for it to finish.")
            job = TrainingJob(config, source, out_dir, owner, conditional)
            job.start()  # raises when no process can be started: then the previous job stays the latest
            self._latest = job
            return job

    def latest(self) -> TrainingJob | None:
        with self._lock:
            return self._latest
