"""The test set's latent codes as a table a person takes elsewhere (pandas, R, a spreadsheet): each
image's index, label, z mean and standard deviation, reconstruction error and negative ELBO."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from vae_core.bundles.bundle import Atlas  # imports Keras: for the type alone


@dataclass(frozen=True)
class LatentCodes:
    """One row per test image chosen; `label` is -1 where the data has no labels."""

    index: np.ndarray  # (n,) test-set indices
    label: np.ndarray  # (n,)
    z_mean: np.ndarray  # (n, latent_dim)
    z_std: np.ndarray  # (n, latent_dim)
    reconstruction_error: np.ndarray  # (n,) mean squared, at z = z mean
    neg_elbo: np.ndarray  # (n,) nats

    def to_npz(self) -> bytes:
        """The arrays by name, as `numpy.load` reads them."""
        stream = io.BytesIO()
        np.savez_compressed(stream, **vars(self))
        return stream.getvalue()

    def to_csv(self) -> bytes:
        """A header, then a row per image: index, label, z_mean_0.., z_std_0.., the two scores."""
        latent_dim = self.z_mean.shape[1]
        header = ["index", "label", *(f"z_mean_{k}" for k in range(latent_dim))]
        header += [*(f"z_std_{k}" for k in range(latent_dim)), "reconstruction_error", "neg_elbo"]
        stream = io.StringIO()
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(header)
        floats = np.column_stack([self.z_mean, self.z_std, self.reconstruction_error, self.neg_elbo])
        for index, label, row in zip(self.index, self.label, floats, strict=True):
            writer.writerow([int(index), int(label), *(f"{value:.6g}" for value in row)])
        return stream.getvalue().encode("utf-8")


def latent_codes(atlas: Atlas, neg_elbo: np.ndarray, indices: np.ndarray | None = None) -> LatentCodes:
    """The codes of the test images at `indices` (all of them by default), in that order."""
    chosen = np.arange(len(atlas.z_mean)) if indices is None else np.asarray(indices, dtype=np.int64)
    labels = np.full(len(atlas.z_mean), -1) if atlas.labels is None else atlas.labels
    return LatentCodes(
        index=chosen,
        label=labels[chosen].astype(np.int64),
        z_mean=atlas.z_mean[chosen].astype(np.float32),
        z_std=np.exp(0.5 * atlas.z_log_var[chosen]).astype(np.float32),
        reconstruction_error=atlas.reconstruction_error[chosen].astype(np.float32),
        neg_elbo=np.asarray(neg_elbo)[chosen].astype(np.float32),
    )
