"""Training replay: where a fixed set of validation images sat in latent space as training went on.

Training already encodes the first validation images after every epoch (the Train page's live
snapshot); a bundle keeps those snapshots in replay.npz, so Explore can show how the latent map
formed. A long run keeps every epoch up to `MAX_FRAMES`, then evenly spaced ones and the last, so a
replay's size does not grow with the run. The means are stored as float16, ample for a scatter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vae_core.bundles.files import REPLAY_FILE, BundleError, read_arrays
from vae_core.config import SNAPSHOT_SIZE

MAX_FRAMES = 200
# 201 frames x 1000 images x 64 dimensions is 26 MB as float16; a file past this is not one we wrote,
# and is refused before it is unpacked into the server's memory.
MAX_REPLAY_BYTES = 64 * 2**20
FLOAT16_MAX = float(np.finfo(np.float16).max)


@dataclass(frozen=True)
class Replay:
    """Latent means (frames, images, latent_dim) after each kept epoch, those epochs' numbers
    (frames,) counted from 1, and the images' labels (images,) where the data had labels."""

    epochs: np.ndarray
    latent_means: np.ndarray
    labels: np.ndarray | None = None

    def to_arrays(self) -> dict[str, np.ndarray]:
        means = np.clip(self.latent_means, -FLOAT16_MAX, FLOAT16_MAX).astype(np.float16)
        arrays = {"epochs": self.epochs.astype(np.int32), "latent_means": means}
        return arrays if self.labels is None else {**arrays, "labels": self.labels}


def frame_stride(planned_epochs: int) -> int:
    """Keep every `frame_stride`-th epoch (from the first) of a run of `planned_epochs`."""
    return max(1, math.ceil(planned_epochs / MAX_FRAMES))


def write_replay(bundle: Path, replay: Replay) -> None:
    """Save the replay into a bundle directory (one being staged: the bundle's save is atomic)."""
    np.savez_compressed(Path(bundle) / REPLAY_FILE, **replay.to_arrays())


def read_replay(bundle: Path, latent_dim: int) -> Replay | None:
    """The bundle's replay, None where it has none; `BundleError` for a file that is not one."""
    path = Path(bundle) / REPLAY_FILE
    if not path.is_file():
        return None
    arrays = read_arrays(path, MAX_REPLAY_BYTES)
    return _checked(arrays, latent_dim)


def _checked(arrays: dict[str, np.ndarray], latent_dim: int) -> Replay:
    epochs, means, labels = arrays.get("epochs"), arrays.get("latent_means"), arrays.get("labels")
    if (
        means is None
        or means.ndim != 3
        or means.dtype.kind != "f"
        or not 1 <= means.shape[0] <= MAX_FRAMES + 1
        or not 1 <= means.shape[1] <= SNAPSHOT_SIZE
        or means.shape[2] != latent_dim
    ):
        raise BundleError(
            f"{REPLAY_FILE} should hold latent means of shape (epochs, images, {latent_dim}), with 1 to"
            f" {MAX_FRAMES + 1} epochs and 1 to {SNAPSHOT_SIZE} images."
        )
    if not np.isfinite(means).all():
        raise BundleError(f"{REPLAY_FILE} holds latent means that are not finite numbers.")
    if (
        epochs is None
        or epochs.shape != means.shape[:1]
        or epochs.dtype.kind not in "iu"
        or epochs[0] < 1
        or (np.diff(epochs) <= 0).any()
    ):
        raise BundleError(f"{REPLAY_FILE} should number its epochs from 1, in order, one per slice of means.")
    if labels is not None and (labels.shape != means.shape[1:2] or labels.dtype.kind not in "iu" or (labels < 0).any()):
        raise BundleError(f"{REPLAY_FILE} should have one class number (from 0) per image.")
    return Replay(epochs.astype(np.int64), means.astype(np.float32), labels)
