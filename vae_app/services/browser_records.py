"""The test set as a browser reads it: one fixed-size record per test image, written once per bundle
under `static/`, so a click on Explore's map answers in the browser with a byte-range fetch of
one record (its image, z and error) and a decode of z there, before the server has heard of it.

A record is, little-endian: the label (int32, -1 where the data has none), the reconstruction
error (float32), z mean and z standard deviation (float32 each, latent size long), then the image
(uint8, height x width x channels). `record_layout` tells the browser where each part lies.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from vae_app.services.static_cache import file_digest, place, prune
from vae_core.bundles.files import ATLAS_FILE
from vae_core.data.datasets import as_uint8

if TYPE_CHECKING:
    from vae_core.bundles.bundle import Atlas  # imports Keras: for the type alone

SUFFIX = ".records"
# Bumped when the record's layout changes, so a browser never reads an old file as a new one.
LAYOUT_VERSION = "1"


def record_layout(latent_dim: int, image_shape: tuple[int, ...]) -> dict[str, int]:
    """Byte offsets within a record, and its length: what the browser needs to read one."""
    z_mean = 8
    image = z_mean + 8 * latent_dim
    return {"label": 0, "error": 4, "z_mean": z_mean, "z_std": z_mean + 4 * latent_dim, "image": image,
            "bytes": image + int(np.prod(image_shape))}  # fmt: skip


def record_bytes(atlas: Atlas) -> bytes:
    """Every test image's record, one after another, in test-set order."""
    count, latent_dim = atlas.z_mean.shape
    labels = np.full(count, -1) if atlas.labels is None else atlas.labels
    numbers = np.column_stack([
        labels.astype("<i4").view("<f4"),
        atlas.reconstruction_error.astype("<f4"),
        atlas.z_mean.astype("<f4"),
        np.exp(0.5 * atlas.z_log_var).astype("<f4"),
    ])  # fmt: skip
    pixels = as_uint8(atlas.images).reshape(count, -1)
    return np.hstack([np.ascontiguousarray(numbers).view(np.uint8), pixels]).tobytes()


def served_records(bundle: Path, atlas: Atlas, cache: Path) -> str:
    """The name, within `cache`, of the records of the bundle at `bundle`, whose atlas is `atlas`:
    written on first use, named by the atlas file's hash and the layout's version."""
    cache.mkdir(parents=True, exist_ok=True)
    prune(cache, SUFFIX)
    version = hashlib.sha256(f"{file_digest(bundle / ATLAS_FILE)}|{LAYOUT_VERSION}".encode()).hexdigest()[:24]
    name = f"{version}{SUFFIX}"
    if not (cache / name).is_file():
        place(cache / name, lambda partial: partial.write_bytes(record_bytes(atlas)))
    return name
