"""What a training run reports as it goes: plain frozen dataclasses, free of Keras, so the app's
process can receive them from the training process without loading a deep-learning framework."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class TrainingStarted:
    """Sent once, before the first batch, with the classes of the validation images that each
    `EpochEnd.latent_means` encodes (None for unlabelled data)."""

    epochs: int
    batches_per_epoch: int
    snapshot_labels: np.ndarray | None = field(default=None, compare=False)


@dataclass(frozen=True)
class BatchEnd:
    """Sent after every batch: `batch` of `batches_per_epoch` done in `epoch` (both 1-based)."""

    epoch: int
    batch: int
    batches_per_epoch: int
    loss: float


@dataclass(frozen=True)
class EpochEnd:
    """Sent after every epoch with its record (losses, validation losses, batches run).

    `latent_means` holds the validation snapshot's encodings when a snapshot was asked for.
    """

    epoch: int
    epochs: int
    record: dict[str, float]
    latent_means: np.ndarray | None = field(default=None, compare=False)


@dataclass(frozen=True)
class EvaluationStarted:
    """Sent by `pipeline.train_and_save` when training has ended and the test-set evaluation begins."""

    status: str
    message: str


@dataclass(frozen=True)
class EvaluationProgress:
    """Sent as the test-set evaluation goes: `fraction` of its work done, from 0 to 1, and the `step`
    under way (`evaluation.EvaluationSteps`)."""

    fraction: float
    step: str = ""


@dataclass(frozen=True)
class Saving:
    """Sent when the evaluation is over (or was stopped) and the bundle is being written."""


Event = TrainingStarted | BatchEnd | EpochEnd | EvaluationStarted | EvaluationProgress | Saving
