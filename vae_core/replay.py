"""Training replay: where a fixed set of validation images sat in latent space after each epoch.

Training already encodes the first validation images after every epoch (the Train page's live
snapshot); a bundle keeps those snapshots in replay.npz, so Explore can show how the latent map
formed. The means are stored as float16, ample for a picture of a scatter.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vae_core.bundle_files import REPLAY_FILE, BundleError

# Bigger than any replay training writes (50 epochs x 1000 images x 64 dimensions is 6.4 MB as
# float16), small enough that a hostile file cannot fill the server's memory.
MAX_REPLAY_BYTES = 64 * 2**20


@dataclass(frozen=True)
class Replay:
    """Latent means (epochs, images, latent_dim), one slice per epoch run, and the images' labels."""

    latent_means: np.ndarray
    labels: np.ndarray | None = None

    @property
    def epochs(self) -> int:
        return len(self.latent_means)

    def to_arrays(self) -> dict[str, np.ndarray]:
        arrays = {"latent_means": self.latent_means.astype(np.float16)}
        return arrays if self.labels is None else {**arrays, "labels": self.labels}


def write_replay(bundle: Path, replay: Replay) -> None:
    """Save the replay into a bundle directory (one being staged: the bundle's save is atomic)."""
    np.savez_compressed(Path(bundle) / REPLAY_FILE, **replay.to_arrays())


def read_replay(bundle: Path, latent_dim: int) -> Replay | None:
    """The bundle's replay, None where it has none; `BundleError` for a file that is not one."""
    path = Path(bundle) / REPLAY_FILE
    if not path.is_file():
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            if sum(member.file_size for member in archive.infolist()) > MAX_REPLAY_BYTES:
                raise BundleError(f"{REPLAY_FILE} is larger than {MAX_REPLAY_BYTES // 2**20} MB unpacked; refused.")
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except BundleError:
        raise
    except Exception as error:  # damaged data fails in many ways (bad zip, pickled arrays, zlib)
        raise BundleError(f"{REPLAY_FILE} is not a readable .npz file of arrays.") from error
    means, labels = arrays.get("latent_means"), arrays.get("labels")
    if means is None or means.ndim != 3 or means.shape[2] != latent_dim or means.dtype.kind != "f":
        raise BundleError(f"{REPLAY_FILE} should hold latent means of shape (epochs, images, {latent_dim}).")
    if not np.isfinite(means).all():
        raise BundleError(f"{REPLAY_FILE} holds latent means that are not finite numbers.")
    if labels is not None and (labels.shape != means.shape[1:2] or labels.dtype.kind not in "iu" or (labels < 0).any()):
        raise BundleError(f"{REPLAY_FILE} should have one class number (from 0) per image.")
    return Replay(means.astype(np.float32), labels)
