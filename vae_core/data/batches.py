"""Batches that `fit` is given as a `keras.utils.PyDataset`: image files read from disk, or arrays
split among the processes of a multi-host run.

Each epoch has one seeded order of the rows, the same in every process; global batch `i` is rows
`i * batch_size` onwards, and each process feeds its own equal part of it, which Keras's JAX
trainer joins into the global batch (`jax.make_array_from_process_local_data`). A run over the
same number of devices therefore sees the same batches however many processes hold them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np


@dataclass(frozen=True)
class Share:
    """Process `index` of `processes`: it takes the `index`-th of `processes` equal parts of every
    global batch, whose size must divide by `processes`."""

    index: int = 0
    processes: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.processes:
            raise ValueError(f"Expected a process index from 0 to {self.processes - 1}. Received: {self.index}")

    def of(self, rows: np.ndarray) -> np.ndarray:
        """This process's part of a global batch's `rows`."""
        if len(rows) % self.processes:
            raise ValueError(f"A batch of {len(rows)} rows does not split among {self.processes} processes.")
        part = len(rows) // self.processes
        return rows[self.index * part : (self.index + 1) * part]


class ShuffledBatches(keras.utils.PyDataset):
    """Global batches of `batch_size` over `rows` rows, reshuffled after every epoch when given a
    seed; a subclass turns this process's rows of a batch into `fit` inputs (`batch_of`)."""

    def __init__(self, rows: int, batch_size: int, shuffle_seed: int | None, share: Share, workers: int = 1) -> None:
        super().__init__(workers=workers, use_multiprocessing=False, max_queue_size=workers)
        self.rows, self.batch_size, self.share = rows, batch_size, share
        self.rng = None if shuffle_seed is None else np.random.default_rng(shuffle_seed)
        self.order = np.arange(rows)
        self.on_epoch_end()

    def __len__(self) -> int:
        return math.ceil(self.rows / self.batch_size)

    def __getitem__(self, index: int) -> np.ndarray | tuple[tuple[np.ndarray, np.ndarray]]:
        return self.batch_of(self.share.of(self.order[index * self.batch_size : (index + 1) * self.batch_size]))

    def batch_of(self, rows: np.ndarray) -> np.ndarray | tuple[tuple[np.ndarray, np.ndarray]]:
        """The model's inputs for `rows`: images, or a conditional model's (images, conditions)
        as one element (a pair would read as inputs and targets)."""
        raise NotImplementedError

    def on_epoch_end(self) -> None:
        """A new order for the next epoch, where shuffling was asked for."""
        if self.rng is not None:
            self.order = self.rng.permutation(self.rows)


class ArrayBatches(ShuffledBatches):
    """Batches of the model's inputs held in memory: images, or (images, conditions)."""

    def __init__(
        self,
        inputs: np.ndarray | tuple[np.ndarray, np.ndarray],
        batch_size: int,
        shuffle_seed: int | None,
        share: Share,
    ) -> None:
        self.arrays = inputs
        super().__init__(len(inputs[0] if isinstance(inputs, tuple) else inputs), batch_size, shuffle_seed, share)

    def batch_of(self, rows: np.ndarray) -> np.ndarray | tuple[tuple[np.ndarray, np.ndarray]]:
        if isinstance(self.arrays, tuple):
            return (tuple(array[rows] for array in self.arrays),)
        return self.arrays[rows]
