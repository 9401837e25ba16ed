"""Training on every local device at once with Keras's distribution API, not a trainer of our own.

`keras.distribution.DataParallel` replicates the model on each device and splits each batch among
them; Keras implements it on the JAX backend. The batch size stays the global one, so a run's
losses match a single-device run's with the same batch. Only this host's devices are used: several
hosts would join through `keras.distribution.initialize`, which is not wired in (see README).
"""

from __future__ import annotations

import keras
import numpy as np

from vae_core.config import ConfigError


class DataParallelError(ConfigError):
    """Data-parallel training cannot run as asked here; the message says why and what to do."""


def local_devices() -> list[str]:
    """The devices Keras's distribution API sees here (GPUs, else CPU devices), e.g. ["cpu:0"]."""
    if keras.backend.backend() != "jax":
        return []
    return keras.distribution.list_devices()


def data_parallel(batch_size: int) -> keras.distribution.DataParallel:
    """A distribution over every local device for batches of `batch_size` images."""
    if keras.backend.backend() != "jax":
        raise DataParallelError(
            f"Data-parallel training runs on the JAX backend, and this process uses {keras.backend.backend()}:"
            " start it with KERAS_BACKEND=jax."
        )
    devices = local_devices()
    if batch_size % len(devices):
        raise DataParallelError(
            f"A batch of {batch_size} images does not split evenly among {len(devices)} devices: use a batch"
            f" size that is a multiple of {len(devices)}."
        )
    return keras.distribution.DataParallel(devices=devices)


def whole_shards(indices: np.ndarray, devices: int) -> np.ndarray:
    """`indices` less its last few (fewer than `devices`), so that every batch, the last included,
    splits evenly among the devices: a JAX array is sharded in equal parts."""
    return indices[: len(indices) - len(indices) % devices]
