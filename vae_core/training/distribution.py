"""Training on several devices at once with Keras's distribution API, not a trainer of our own.

`keras.distribution.DataParallel` replicates the model on each device and splits each batch among
them; Keras implements it on the JAX backend. The batch size stays the global one, so a run's
losses match a single-device run's with the same batch. The devices are this host's, or, once
`join_cluster` has joined several processes (`keras.distribution.initialize`), every process's:
each then feeds its own share of every batch (`vae_core.data.batches`). A training run sees all
this as one `ClusterRun`.
"""

from __future__ import annotations

import contextlib
import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import keras
import numpy as np

from vae_core.config import ConfigError, TrainConfig
from vae_core.data.batches import Share
from vae_core.data.image_folder import ImageFiles
from vae_core.model.precision import FLOAT32
from vae_core.model.vae import VAE, build_vae


class DataParallelError(ConfigError):
    """Data-parallel training cannot run as asked here; the message says why and what to do."""


def _require_jax() -> None:
    if keras.backend.backend() != "jax":
        raise DataParallelError(
            f"Data-parallel training runs on the JAX backend, and this process uses {keras.backend.backend()}:"
            " start it with KERAS_BACKEND=jax."
        )


def join_cluster(coordinator: str, processes: int, process_id: int) -> None:
    """Make this process number `process_id` of `processes` training together, process 0 listening
    at `coordinator` (HOST:PORT). Call it before anything else runs on JAX; it waits for the others."""
    host, _, port = coordinator.rpartition(":")
    if not host or not port.isdigit():
        raise DataParallelError(f"Expected the coordinator as HOST:PORT, e.g. 10.0.0.1:1234. Received: {coordinator}")
    if processes < 2:
        raise DataParallelError(f"A cluster joins at least 2 processes. Received: {processes}")
    if not 0 <= process_id < processes:
        raise DataParallelError(f"Expected a process id from 0 to {processes - 1}. Received: {process_id}")
    _require_jax()
    import jax

    failed = None
    try:
        keras.distribution.initialize(job_addresses=coordinator, num_processes=processes, process_id=process_id)
    except RuntimeError as error:  # JAX's, e.g. no coordinator answered in time
        raise DataParallelError(f"Could not join the cluster at {coordinator}: {error}") from None
    except AssertionError as error:  # JAX's bare one, from a computation over every process's devices
        failed = error
    if jax.local_device_count() * processes != jax.device_count():
        raise DataParallelError(
            "The processes of this cluster have different numbers of devices: give each the same number,"
            " as each feeds an equal share of every batch."
        ) from None
    if failed is not None:
        raise failed


def leave_cluster() -> None:
    """Let the other processes go: what follows (evaluating, saving) runs on this process alone,
    which JAX would otherwise make every process wait for when it exits."""
    import jax

    jax.distributed.shutdown()


def _same_everywhere(fingerprint: str) -> None:
    """Refuse a run whose processes were given different data or settings (told by `fingerprint`),
    which would otherwise train on mismatched batches or wait on each other for ever."""
    from jax.experimental import multihost_utils

    try:
        multihost_utils.assert_equal(np.uint32(zlib.crc32(fingerprint.encode())))
    except AssertionError:
        raise DataParallelError(
            "The processes of this cluster were given different data or settings: start each with the same"
            " flags, and the same data at the same path."
        ) from None


def _unreadable_everywhere(unreadable: set[str], paths: Sequence[str]) -> set[str]:
    """The files of `paths` that any process of the cluster could not decode, given this process's
    own `unreadable` ones: each process reads only its shares of the batches. Every process calls it."""
    from jax.experimental import multihost_utils

    row = {path: index for index, path in enumerate(paths)}
    failed = np.zeros(len(paths), np.bool_)
    failed[[row[path] for path in unreadable]] = True
    anywhere = np.asarray(multihost_utils.process_allgather(failed)).any(axis=0)
    return {paths[index] for index in np.flatnonzero(anywhere)}


def training_devices() -> list[str]:
    """The devices a data-parallel run spans: every process's GPUs, else CPU devices, e.g. ["cpu:0"]."""
    if keras.backend.backend() != "jax":
        return []
    return keras.distribution.list_devices()


def _process_share() -> Share:
    """This process's share of every batch: all of it, unless it joined a cluster."""
    if keras.backend.backend() != "jax":
        return Share()
    import jax

    return Share(jax.process_index(), jax.process_count())


def data_parallel(batch_size: int) -> keras.distribution.DataParallel:
    """A distribution over every device of the run for global batches of `batch_size` images."""
    _require_jax()
    devices = training_devices()
    if batch_size % len(devices):
        raise DataParallelError(
            f"A batch of {batch_size} images does not split evenly among {len(devices)} devices: use a batch"
            f" size that is a multiple of {len(devices)}."
        )
    # Each process of a cluster feeds its own share of every batch, so Keras need not shard the data.
    return keras.distribution.DataParallel(devices=devices, auto_shard_dataset=False)


@dataclass(frozen=True)
class ClusterRun:
    """How this process takes part in the run `config` asks for: the `distribution` that lays the model
    over the run's devices (`None` without data parallelism), and the `share` of every batch it feeds.

    All a training run needs to know of devices and processes. With one process, what concerns the
    others does nothing; `local_float32` copies only a model in mixed precision or spread over processes.
    """

    config: TrainConfig
    distribution: keras.distribution.DataParallel | None
    share: Share

    @classmethod
    def of(cls, config: TrainConfig) -> ClusterRun:
        """The run as `config` asks: data-parallel over every process's devices, or this process's default device."""
        if not config.data_parallel:
            return cls(config, None, Share())
        return cls(config, data_parallel(config.batch_size), _process_share())

    def scope(self) -> contextlib.AbstractContextManager:
        """Where to build and train the model: its variables are laid out on the run's devices as they are made."""
        return self.distribution.scope() if self.distribution is not None else contextlib.nullcontext()

    def require_same_run(self, images: np.ndarray | ImageFiles) -> None:
        """Refuse a run whose processes were given different settings or images (files by path)."""
        if self.share.processes > 1:
            which = "\n".join(images.paths) if isinstance(images, ImageFiles) else str(images.shape)
            _same_everywhere(json.dumps(self.config.to_dict(), sort_keys=True) + which)

    def unreadable_anywhere(self, unreadable: set[str], images: np.ndarray | ImageFiles) -> set[str]:
        """The image files that any process could not decode, given this process's `unreadable` ones."""
        if self.share.processes > 1 and isinstance(images, ImageFiles):
            return _unreadable_everywhere(unreadable, images.paths)
        return unreadable

    def local_float32(self, vae: VAE) -> VAE:
        """`vae`'s weights in a float32 model of this process alone (`vae` itself where it is one), so
        that evaluation and the saved bundle use full precision and need no other process."""
        if self.config.precision == FLOAT32 and self.share.processes == 1:
            return vae
        float32_vae = build_vae(self.config.model, seed=self.config.seed)
        float32_vae.set_weights(vae.get_weights())
        return float32_vae


def whole_shards(indices: np.ndarray, devices: int) -> np.ndarray:
    """`indices` less its last few (fewer than `devices`), so that every batch, the last included,
    splits evenly among the devices: a JAX array is sharded in equal parts."""
    return indices[: len(indices) - len(indices) % devices]
