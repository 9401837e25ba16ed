"""The posterior lens: for one image, the true posterior p(z|x) (up to its normaliser) on a grid
beside the encoder's q(z|x), with the ELBO, an importance-sampled log p(x) and the gap between them,
which is KL(q(z|x) || p(z|x)): how far the encoder's guess is from the posterior it approximates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vae_core.analysis.evaluation import importance_weighted_bounds, log_prior
from vae_core.analysis.latent_tools import Plane
from vae_core.model.codec import LatentCodec

# 28 x 28 points: the heatmap's shape as 64 x 64 showed it (drawn smoothed by the browser), for a fifth
# of the decodes (bench/RESULTS.md, bench.lens_cost).
GRID_SIDE = 28
LENS_SAMPLES = 1000
# The grid reaches this many of q's standard deviations each way, and at least this far in z, so a
# confident encoder's narrow q still shows the posterior's shape around it.
REACH_SIGMAS, MIN_REACH = 4.0, 0.5


@dataclass(frozen=True)
class LensGrid:
    """What the lens draws: log p(x|z) + log p(z) on a grid of plane coordinates, with q's centre
    and spread on the same plane."""

    u: np.ndarray  # (GRID_SIDE,) plane coordinates across
    v: np.ndarray  # (GRID_SIDE,) plane coordinates up
    log_joint: np.ndarray  # (GRID_SIDE, GRID_SIDE), rows along v
    centre: np.ndarray  # (2,) q's mean on the plane: (0, 0), as the plane passes through it
    spread: np.ndarray  # (2,) q's standard deviation along each plane axis


@dataclass(frozen=True)
class LensEvidence:
    """The lens's three numbers, in nats: the ELBO, log p(x) importance-sampled with `samples` draws
    from q, and the gap between them."""

    elbo: float
    log_px: float
    samples: int

    @property
    def gap(self) -> float:
        """log p(x) - ELBO = KL(q(z|x) || p(z|x)), estimated; never below zero but for sampling noise."""
        return self.log_px - self.elbo


@dataclass(frozen=True)
class LensView(LensGrid, LensEvidence):
    """What the lens shows: its grid and its numbers."""


def posterior_grid(
    codec: LatentCodec, image: np.ndarray, axes: np.ndarray, label: int | None = None, grid_side: int = GRID_SIDE
) -> LensGrid:
    """The true posterior, up to its normaliser, for one image (h, w, c) on a `grid_side` square grid
    of the plane through its q(z|x) mean spanned by `axes` (2, d); for a conditional model, given `label`."""
    images = np.asarray(image)[np.newaxis]
    z_mean, z_log_var = (a[0].astype(np.float64) for a in codec.encode(images, label))
    plane = Plane(z_mean, np.asarray(axes, dtype=np.float64))
    spread = plane.spread(z_log_var)
    reach = np.maximum(REACH_SIGMAS * spread, MIN_REACH)
    u = np.linspace(-reach[0], reach[0], grid_side)
    v = np.linspace(-reach[1], reach[1], grid_side) if not plane.is_line else np.zeros(1)
    uu, vv = np.meshgrid(u, v)
    z = plane.lift(np.stack([uu.ravel(), vv.ravel()], axis=1))
    log_joint = codec.log_likelihood(z, np.repeat(images, len(z), axis=0), label) + log_prior(z)
    return LensGrid(u=u, v=v, log_joint=log_joint.reshape(len(v), len(u)), centre=np.zeros(2), spread=spread)


def posterior_evidence(codec: LatentCodec, image: np.ndarray, seed: int = 0, label: int | None = None) -> LensEvidence:
    """The ELBO and the importance-weighted log p(x) of one image, from the same `LENS_SAMPLES` draws."""
    labels = None if label is None else np.array([label])
    bounds = importance_weighted_bounds(
        codec, np.asarray(image)[np.newaxis], labels=labels, samples=LENS_SAMPLES, seed=seed
    )
    elbo = -float(bounds["reconstruction_nll"][0] + bounds["kl"][0])
    return LensEvidence(elbo=elbo, log_px=-float(bounds["neg_iw_bound"][0]), samples=LENS_SAMPLES)


def posterior_lens(
    codec: LatentCodec,
    image: np.ndarray,
    axes: np.ndarray,
    seed: int = 0,
    label: int | None = None,
    grid_side: int = GRID_SIDE,
) -> LensView:
    """The lens for one image: `posterior_grid` and `posterior_evidence` together."""
    grid = posterior_grid(codec, image, axes, label, grid_side)
    evidence = posterior_evidence(codec, image, seed, label)
    return LensView(**vars(grid), **vars(evidence))
