"""Fit a VAE from a `TrainConfig`: seeded, stoppable, streaming events, guarded against NaNs."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import keras
import numpy as np

from vae_core.bundles.replay import Replay
from vae_core.config import SNAPSHOT_SIZE, TrainConfig
from vae_core.data.feeds import Feeds
from vae_core.data.image_folder import ImageFiles
from vae_core.model.vae import VAE, build_vae
from vae_core.training.distribution import ClusterRun, DataParallelError, training_devices, whole_shards
from vae_core.training.events import Event
from vae_core.training.monitor import KLWarmup, RunMonitor
from vae_core.wording import count


@dataclass
class TrainingResult:
    """A finished run. `status` is `completed`, `stopped` (on request) or `diverged` (non-finite loss).

    `history` has one record per epoch run (a stopped run's last epoch may be partial: compare its
    `batches` with `batches_per_epoch`); a diverged run keeps the last finite epochs and weights.
    `model` computes in float32 whatever `config.precision` training used. `replay` holds the
    latent means of the first validation images (up to `SNAPSHOT_SIZE`, in `validation_indices`
    order) after the epochs it keeps; no frames where nothing was held out for validation.
    """

    model: VAE
    config: TrainConfig
    history: list[dict[str, float]]
    status: str
    message: str
    seconds: float
    batches_per_epoch: int
    validation_indices: np.ndarray
    replay: Replay


def split_validation(n_images: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded (train, validation) index arrays; validation gets round(n * fraction) images."""
    order = np.random.default_rng(seed).permutation(n_images)
    n_val = round(n_images * fraction)
    if fraction > 0 and n_val == 0 and n_images > 1:
        n_val = 1
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def training_split(config: TrainConfig, n_images: int) -> tuple[np.ndarray, np.ndarray]:
    """The (train, validation) rows a run uses: `split_validation`'s, and under data parallelism
    each less its last few, so that every batch splits evenly among the devices.

    A validation split that would be left with no image is refused rather than dropped unsaid, and
    so is a split that leaves nothing to train on. Where no backend that splits batches runs,
    nothing is left out: `data_parallel` refuses the run.
    """
    train_index, val_index = split_validation(n_images, config.validation_split, config.seed)
    if config.data_parallel:
        devices = len(training_devices()) or 1
        if 0 < len(val_index) < devices:
            raise DataParallelError(
                f"The validation split holds {count(len(val_index), 'image')}, fewer than the {devices} devices"
                " that each need one: hold out a larger share, or none."
            )
        train_index, val_index = whole_shards(train_index, devices), whole_shards(val_index, devices)
    if len(train_index) == 0:
        raise ValueError("No training images left after the validation split.")
    return train_index, val_index


def make_optimizer(config: TrainConfig, total_steps: int) -> keras.optimizers.Optimizer:
    """The optimizer named in `config`, at its learning rate, decayed over `total_steps` if asked."""
    learning_rate = config.learning_rate
    if config.lr_schedule == "cosine":
        learning_rate = keras.optimizers.schedules.CosineDecay(config.learning_rate, decay_steps=total_steps)
    optimizers = {"adam": keras.optimizers.Adam, "rmsprop": keras.optimizers.RMSprop}
    return optimizers[config.optimizer](learning_rate=learning_rate, weight_decay=config.weight_decay or None)


def steps_per_execution(config: TrainConfig, batches_per_epoch: int, backend: str) -> int:
    """Gradient steps per compiled call: the config's, at most one epoch's, and one on PyTorch,
    whose Keras trainer takes one step per call and refuses `fit` with more."""
    return 1 if backend == "torch" else min(config.steps_per_execution, batches_per_epoch)


def train_vae(
    config: TrainConfig,
    images: np.ndarray | ImageFiles,
    labels: np.ndarray | None = None,
    *,
    listener: Callable[[Event], None] | None = None,
    stop_event: threading.Event | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int = 0,
) -> TrainingResult:
    """Train a new VAE on `images` as `config` says.

    Args:
        config: model and training settings; `config.model.image_shape` must match the images.
        images: the training split, uint8 or [0, 1] floats (n, h, w, c), or `ImageFiles` read batch by
            batch; `training_split` holds `config.validation_split` of it out for validation.
        labels: the images' classes (int, (n,)); a conditional model is conditioned on them.
        listener: hears `TrainingStarted`, `BatchEnd` and `EpochEnd` (see `RunMonitor`) in this thread.
        stop_event: set from another thread, stops after the current `steps_per_execution` batches.
        callbacks: further Keras callbacks, e.g. a progress bar.
        verbose: Keras's `fit` verbosity (0 silent, 1 progress bar, 2 one line per epoch).
    """
    _require_image_shape(config, images)
    keras.utils.set_random_seed(config.seed)
    cluster = ClusterRun.of(config)
    train_index, val_index = training_split(config, len(images))
    cluster.require_same_run(images)
    feeds = Feeds.of(config, images, labels, train_index, val_index, cluster.share)
    batches_per_epoch = math.ceil(len(train_index) / config.batch_size)
    shown = None if labels is None else labels[val_index[:SNAPSHOT_SIZE]]  # the snapshots' classes
    monitor = RunMonitor(config.epochs, batches_per_epoch, listener, stop_event, feeds.snapshot, shown)
    per_call = steps_per_execution(config, batches_per_epoch, keras.backend.backend())
    with cluster.scope():
        vae = build_vae(config.model, seed=config.seed, dtype_policy=config.precision)
        vae.compile(optimizer=make_optimizer(config, config.epochs * batches_per_epoch), steps_per_execution=per_call)
        started = time.perf_counter()
        vae.fit(
            feeds.train,
            validation_data=feeds.validation,
            epochs=config.epochs,
            callbacks=[*_kl_warmup(config), monitor, *callbacks],
            verbose=verbose,
            **feeds.fit_arguments,
        )
    seconds = time.perf_counter() - started
    status, message = _outcome(monitor, config.epochs, cluster.unreadable_anywhere(feeds.unreadable, images))
    vae = cluster.local_float32(vae)
    replay = Replay(*monitor.replay_frames, shown)
    return TrainingResult(vae, config, monitor.history, status, message, seconds, batches_per_epoch, val_index, replay)


def _require_image_shape(config: TrainConfig, images: np.ndarray | ImageFiles) -> None:
    """Refuse images the model cannot take, before anything is built for them."""
    if tuple(images.shape[1:]) != config.model.image_shape:
        raise ValueError(
            f"Images have shape {tuple(images.shape[1:])} but the model expects {config.model.image_shape}."
        )


def _kl_warmup(config: TrainConfig) -> list[keras.callbacks.Callback]:
    """The KL warm-up callback where `config` asks for one."""
    return [KLWarmup(config.kl_warmup_epochs)] if config.kl_warmup_epochs else []


def _outcome(monitor: RunMonitor, epochs: int, unreadable: set[str]) -> tuple[str, str]:
    """The run's status, and a message saying how it ended and whether any image file was replaced."""
    status, message = _ending(monitor, epochs)
    if unreadable:
        message += f" {count(len(unreadable), 'image file')} could not be decoded; another image was used instead."
    return status, message


def _ending(monitor: RunMonitor, epochs: int) -> tuple[str, str]:
    """How the run ended: completed, stopped on request, or diverged, with what was kept."""
    kept = len(monitor.history)
    if monitor.non_finite_at is not None:
        epoch, batch = monitor.non_finite_at
        return "diverged", (
            f"The loss became non-finite (NaN or infinity) in epoch {epoch}, batch {batch}; training"
            f" stopped and kept the weights from before that epoch ({count(kept, 'finite epoch')})."
            " Try a lower learning rate or a KL warm-up."
        )
    if monitor.stopped_by_request:
        return "stopped", f"Stopped on request during epoch {monitor.history[-1]['epoch']} of {epochs}."
    return "completed", f"Trained {count(kept, 'epoch')}."
