"""Comparing trained models: which latent dimensions each one uses, and whether two can be shown
side by side (the same test images, the same latent size for prior samples).

Plain numpy on atlases and bundle descriptions, so comparing costs no decoding.
"""

from __future__ import annotations

import numpy as np

from vae_core.analysis.evaluation import kl_from_prior
from vae_core.bundles.meta import BundleMeta

# A latent dimension whose KL from the prior, averaged over the test images, is below this carries
# no information about them (Burda et al. 2016 call the others "active units").
ACTIVE_UNIT_NATS = 0.01


def kl_per_dimension(z_mean: np.ndarray, z_log_var: np.ndarray) -> np.ndarray:
    """Average KL(q(z_d|x) || N(0, 1)) over the images, one value per latent dimension, in nats."""
    return kl_from_prior(np.asarray(z_mean, np.float64), np.asarray(z_log_var, np.float64)).mean(axis=0)


def active_units(z_mean: np.ndarray, z_log_var: np.ndarray, threshold: float = ACTIVE_UNIT_NATS) -> int:
    """How many latent dimensions carry more than `threshold` nats about the images on average."""
    return int(np.sum(kl_per_dimension(z_mean, z_log_var) > threshold))


def why_not_side_by_side(metas: dict[str, BundleMeta], test_images: dict[str, np.ndarray]) -> str | None:
    """None when the models were tested on the same images, so their reconstructions can stand in
    one grid; otherwise, in a sentence, why not. `test_images` are each model's atlas images."""
    (first, first_meta), *others = metas.items()
    for name, meta in others:
        if meta.dataset.name != first_meta.dataset.name:
            return (
                f"{first} was trained on {first_meta.dataset.name} and {name} on {meta.dataset.name}:"
                " they have no test images in common."
            )
        if test_images[name].shape != test_images[first].shape or not np.array_equal(
            test_images[name], test_images[first]
        ):
            return f"{first} and {name} were tested on different images of {meta.dataset.name}."
    return None
