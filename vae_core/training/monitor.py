"""Watching a training run: events for a UI, a stop flag, and a guard against non-finite losses.

`RunMonitor` is one Keras callback because the three jobs share their bookkeeping (which epoch and
batch we are in, what was last good). The events it sends are `vae_core.training.events`'.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from vae_core.bundles.replay import frame_stride
from vae_core.training.events import BatchEnd, EpochEnd, Event, TrainingStarted


class RunMonitor(keras.callbacks.Callback):
    """Records per-epoch history, relays events, obeys a stop flag, and stops on a non-finite loss.

    On a non-finite loss it stops at once and, when training ends, restores the weights the model
    had at the start of that epoch: the last ones known to be finite.

    Args:
        epochs: planned number of epochs, for events.
        batches_per_epoch: gradient steps in one epoch, for events and partial-epoch records.
        listener: called with each `Event`, in the training thread.
        stop_event: when set (from any thread), training ends after the current batch, or the
            current group of batches when the model runs several per execution.
        snapshot_inputs: what the encoder takes (images, and a conditional model's conditions),
            encoded after each epoch into `EpochEnd.latent_means`; the replay's epochs are kept in
            `replay_frames`.
        snapshot_labels: those images' classes, told with `TrainingStarted` (None without labels).
    """

    def __init__(
        self,
        epochs: int,
        batches_per_epoch: int,
        listener: Callable[[Event], None] | None = None,
        stop_event: threading.Event | None = None,
        snapshot_inputs: np.ndarray | tuple | None = None,
        snapshot_labels: np.ndarray | None = None,
    ) -> None:
        super().__init__()
        self.epochs = epochs
        self.batches_per_epoch = batches_per_epoch
        self.listener = listener
        self.stop_event = stop_event
        self.snapshot_inputs, self.snapshot_labels = snapshot_inputs, snapshot_labels
        self.history: list[dict[str, float]] = []
        self._frames: list[tuple[int, np.ndarray]] = []  # (epoch, latent means) for the replay
        self._stride = frame_stride(epochs)
        self.stopped_by_request = False
        self.non_finite_at: tuple[int, int] | None = None
        self._epoch = 0
        self._batches = 0
        self._last_good_weights: list[np.ndarray] | None = None

    def _emit(self, event: Event) -> None:
        if self.listener is not None:
            self.listener(event)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._emit(TrainingStarted(self.epochs, self.batches_per_epoch, self.snapshot_labels))

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch, self._batches = epoch + 1, 0
        self._last_good_weights = self.model.get_weights()

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        # `batch` is the last batch done: with steps_per_execution > 1, Keras calls once per group,
        # and for an epoch's last, shorter group it counts as if the group were full.
        self._batches = min(batch + 1, self.batches_per_epoch)
        loss = float((logs or {}).get("loss", math.nan))
        if not math.isfinite(loss):
            self.non_finite_at = (self._epoch, self._batches)
            self.model.stop_training = True
            return
        self._emit(BatchEnd(self._epoch, self._batches, self.batches_per_epoch, loss))
        if self.stop_event is not None and self.stop_event.is_set():
            self.stopped_by_request = True
            self.model.stop_training = True

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        record = {name: float(value) for name, value in (logs or {}).items()}
        # A loss can stay finite while weights are not (ReLU may map NaN to 0), so check both.
        finite = all(math.isfinite(v) for v in record.values()) and all(
            np.isfinite(w).all() for w in self.model.get_weights()
        )
        if self.non_finite_at is None and not finite:
            self.non_finite_at = (self._epoch, self._batches)
            self.model.stop_training = True
        if self.non_finite_at is not None:
            return
        record = {"epoch": self._epoch, "batches": self._batches, **record}
        self.history.append(record)
        latent_means = None
        inputs = self.snapshot_inputs
        if inputs is not None and len(inputs[0] if isinstance(inputs, tuple) else inputs):
            latent_means = np.asarray(self.model.encoder.predict_on_batch(inputs)[0])
            # The replay keeps every stride-th epoch from the first, and always the latest.
            if self._frames and (self._frames[-1][0] - 1) % self._stride:
                self._frames.pop()
            self._frames.append((self._epoch, latent_means))
        self._emit(EpochEnd(self._epoch, self.epochs, record, latent_means))

    @property
    def replay_frames(self) -> tuple[np.ndarray, np.ndarray]:
        """The kept epochs' numbers (frames,) and snapshots (frames, images, latent_dim)."""
        if not self._frames:
            return np.zeros(0, np.int64), np.zeros((0, 0, 0), np.float32)
        epochs, means = zip(*self._frames, strict=True)
        return np.array(epochs, np.int64), np.stack(means)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.non_finite_at is not None and self._last_good_weights is not None:
            self.model.set_weights(self._last_good_weights)


class KLWarmup(keras.callbacks.Callback):
    """Raises the model's `kl_warmup` factor linearly, epoch / `epochs`, from 0 to 1.

    Starting with a small KL weight lets the decoder learn to use z before the prior pulls the
    posterior onto it (Bowman et al. 2016; Sonderby et al. 2016).
    """

    def __init__(self, epochs: int) -> None:
        super().__init__()
        if epochs < 1:
            raise ValueError(f"Expected warm-up epochs >= 1. Received: epochs={epochs}")
        self.epochs = epochs

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.model.kl_warmup.assign(min(1.0, epoch / self.epochs))

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self.model.kl_warmup.assign(1.0)
