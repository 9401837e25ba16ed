"""The process a training run lives in, started before the run is asked for.

A `TrainingProcess` is a fresh interpreter (spawn) at a lower scheduling priority, so pages stay
responsive while it trains (it has its own interpreter lock), and everything a run allocates (the
parsed upload, TensorFlow's buffers) goes back to the system when it ends. It imports Keras as soon
as it starts, then waits for its one run: the Train page starts one while the form is being filled
in, so that the seconds TensorFlow takes to import (most of what "Opening the data" used to cost,
bench/RESULTS.md, Train) are over when Start is pressed. Waiting, it holds what TensorFlow takes
(about 680 MiB here, with JAX installed beside it); one that gets no run within `IDLE_SECONDS`
exits, giving it back.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.synchronize
import os
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from vae_core.bundles.meta import TestMetrics
from vae_core.config import ConfigError
from vae_core.data.datasets import DatasetError, DatasetUnavailable
from vae_core.training.run_request import RunRequest

LOGGER = logging.getLogger(__name__)
# Added to the child's niceness: the app's pages get the processor first.
TRAINING_NICENESS = 10
# How long a process waits for its run before exiting; it is handed a run only while younger than
# FRESH_SECONDS, so that none gives up just as its run is on the way.
IDLE_SECONDS, FRESH_SECONDS = 600.0, 540.0


@dataclass(frozen=True)
class Work:
    """What a process is sent: the run asked for, and the folder an uploaded archive is unpacked into
    (made and removed by the app's process, so that not even a killed child leaves it behind)."""

    request: RunRequest
    scratch: Path


@dataclass(frozen=True)
class DataOpened:
    """The child's first word: the data is open, with its class names and what to warn of."""

    class_names: tuple[str, ...] | None
    notes: tuple[str, ...]


@dataclass(frozen=True)
class RunEnded:
    """The child's last word: how the run ended, or why it failed, and the test figures it saved."""

    status: str
    message: str
    metrics: TestMetrics | None = None


class TrainingProcess:
    """A started child process that will train one run, sent to it with `connection.send(Work)`;
    `stop` asks the run to end early."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")  # a fresh interpreter: no threads or locks inherited
        self.stop = context.Event()
        self.connection, child_end = context.Pipe()
        self.process = context.Process(target=run_in_child, args=(child_end, self.stop), name="vae-train", daemon=True)
        self.process.start()  # raises when no process can be started
        child_end.close()  # the child holds its own copy; closing ours lets a dead child show as EOF
        self.started, self.environment = time.monotonic(), dict(os.environ)

    @property
    def fresh(self) -> bool:
        """Alive, young enough to be handed a run, and started under the environment variables a
        process started now would have (where the data is found, which backend Keras runs on)."""
        young = time.monotonic() - self.started < FRESH_SECONDS
        return self.process.is_alive() and young and self.environment == dict(os.environ)

    def dismiss(self) -> None:
        """Let a process that got no run go: it exits on seeing its connection closed."""
        self.connection.close()


def run_in_child(connection: Connection, stop: multiprocessing.synchronize.Event) -> None:
    """The child process: import Keras, wait for a run, then open the data, train, evaluate and save,
    reporting every event."""
    if hasattr(os, "nice"):
        os.nice(TRAINING_NICENESS)
    with contextlib.suppress(Exception):  # a failing import fails the run again below, saying why
        import vae_core.training.pipeline  # noqa: F401
    try:
        if not connection.poll(IDLE_SECONDS):
            return
        work: Work = connection.recv()
    except (EOFError, OSError):  # dismissed
        return
    try:
        ended = _train(connection, stop, work)
    except (DatasetError, DatasetUnavailable, ConfigError) as error:  # the data cannot be trained on
        ended = RunEnded("failed", str(error))
    except OSError as error:  # a full disk, a folder gone: said without the server's paths
        LOGGER.exception("Training run %s failed", work.request.out_dir.name)
        ended = RunEnded("failed", f"Saving the model failed: {error.strerror or type(error).__name__}.")
    except Exception as error:  # reported to the page, and in full to the server's log
        LOGGER.exception("Training run %s failed", work.request.out_dir.name)
        ended = RunEnded("failed", f"{type(error).__name__}: {error}")
    connection.send(ended)
    connection.close()


def _train(connection: Connection, stop: multiprocessing.synchronize.Event, work: Work) -> RunEnded:
    """Open the data (an uploaded archive unpacked into `work.scratch`), train (writing TensorBoard logs
    where the request names a folder for them) and save."""
    # A bad file is said before training; the run tells its snapshots' classes as it starts.
    request = work.request
    dataset = request.open_data(unpack_to=work.scratch)
    config = request.config_for(dataset)
    from vae_core.training.pipeline import train_and_save

    connection.send(DataOpened(dataset.class_names, dataset.notes))
    # A person is waiting: a quick run's evaluation scores what a share of its training time affords.
    result, metrics = train_and_save(
        config,
        dataset,
        request.out_dir,
        listener=connection.send,
        stop_event=stop,
        affordable=True,
        tensorboard=request.tensorboard,
    )
    return RunEnded(result.status, f"{result.message} Saved as {request.out_dir.name}.", metrics)
