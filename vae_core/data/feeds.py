"""What `fit` is given for a run: training and validation data, from arrays in memory or from image
files read batch by batch, and the encoder inputs of the images the run's snapshots show.

A process of a multi-host run feeds only its share of every batch (`vae_core.data.batches`), so its
arrays go as `ArrayBatches` too: Keras's own batching would give every process whole batches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vae_core.config import SNAPSHOT_SIZE, TrainConfig
from vae_core.data.batches import ArrayBatches, Share
from vae_core.data.datasets import as_intensities
from vae_core.data.image_folder import FileBatches, ImageFiles, stand_in


@dataclass
class Feeds:
    """`train` and `validation` as `fit` takes them, with the keyword arguments they need, and the
    snapshot's encoder inputs (images, and a conditional model's conditions)."""

    train: np.ndarray | tuple | ArrayBatches | FileBatches
    validation: tuple | ArrayBatches | FileBatches | None
    snapshot: np.ndarray | tuple
    fit_arguments: dict[str, object]
    file_batches: tuple[FileBatches, ...] = ()

    @classmethod
    def of(
        cls,
        config: TrainConfig,
        images: np.ndarray | ImageFiles,
        labels: np.ndarray | None,
        train_index: np.ndarray,
        val_index: np.ndarray,
        share: Share = Share(),
    ) -> Feeds:
        """The feeds for rows `train_index` and `val_index` of `images`, of which this process feeds `share`."""
        classes = config.model.classes
        labels = checked_labels(config, labels, len(images))
        shown = val_index[:SNAPSHOT_SIZE]
        if isinstance(images, ImageFiles):
            train = FileBatches(
                images[train_index], _rows(labels, train_index), classes, config.batch_size, config.seed, share
            )
            validation = FileBatches(
                images[val_index], _rows(labels, val_index), classes, config.batch_size, share=share
            )
            pictures, readable = images[shown].read()
            chosen = stand_in(pictures, readable) if len(shown) else np.zeros(0, int)
            snapshot = encoder_inputs(pictures[chosen], _rows(labels, shown[chosen]), classes)
            return cls(train, validation if len(val_index) else None, snapshot, {}, (train, validation))
        x = as_intensities(images)
        train = encoder_inputs(x[train_index], _rows(labels, train_index), classes)
        validation = encoder_inputs(x[val_index], _rows(labels, val_index), classes)
        snapshot = encoder_inputs(x[shown], _rows(labels, shown), classes)
        if share.processes > 1:
            train = ArrayBatches(train, config.batch_size, config.seed, share)
            validation = ArrayBatches(validation, config.batch_size, None, share)
            return cls(train, validation if len(val_index) else None, snapshot, {})
        arguments = {"batch_size": config.batch_size, "shuffle": True}
        return cls(train, (validation,) if len(val_index) else None, snapshot, arguments)

    @property
    def unreadable(self) -> set[str]:
        """Image files that failed to decode during training (each replaced by another)."""
        return set().union(*(batches.unreadable for batches in self.file_batches))


def checked_labels(config: TrainConfig, labels: np.ndarray | None, rows: int) -> np.ndarray | None:
    """The labels a conditional model is conditioned on, checked; None for a plain model."""
    if not config.model.conditional:
        return None
    if labels is None or len(labels) != rows:
        raise ValueError("A conditional VAE trains on labelled images: give one label per image.")
    if len(labels) and (labels.min() < 0 or labels.max() >= config.model.classes):
        raise ValueError(f"Expected labels from 0 to {config.model.classes - 1} for this conditional VAE.")
    return labels


def encoder_inputs(x: np.ndarray, labels: np.ndarray | None, classes: int) -> np.ndarray | tuple:
    """What the model takes: the images, or (images, labels one-hot) for a conditional model."""
    return x if labels is None else (x, np.eye(classes, dtype=np.float32)[labels])


def _rows(labels: np.ndarray | None, index: np.ndarray) -> np.ndarray | None:
    return None if labels is None else labels[index]
