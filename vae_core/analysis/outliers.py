"""How poorly a model explains each image: per-image negative ELBO, the worst-modelled test images,
and where a new image's score falls among the test set's."""

from __future__ import annotations

import numpy as np

from vae_core.analysis.evaluation import importance_weighted_bounds
from vae_core.model.codec import LatentCodec

# One sample of z per image for the ELBO's reconstruction term ranks the test images almost as four
# samples do, at a quarter of the cost; large chunks keep the calls few, so a test set scores in seconds.
SCORE_SAMPLES = 1
CHUNK_IMAGES = 1024


def neg_elbo_per_image(
    codec: LatentCodec, images: np.ndarray, *, labels: np.ndarray | None = None, seed: int = 0
) -> np.ndarray:
    """Negative ELBO of each image, in nats (Bernoulli likelihood on [0, 1] intensities): high is
    unusual. A conditional model scores each image given its label."""
    parts = importance_weighted_bounds(
        codec, images, labels=labels, samples=SCORE_SAMPLES, seed=seed, chunk_images=CHUNK_IMAGES
    )
    return parts["reconstruction_nll"] + parts["kl"]


def most_unusual(scores: np.ndarray, count: int = 24) -> np.ndarray:
    """Indices of the `count` highest scores, highest first."""
    scores = np.asarray(scores)
    count = min(count, len(scores))
    top = np.argpartition(-scores, count - 1)[:count] if count else np.zeros(0, int)
    return top[np.argsort(-scores[top])]


def share_below(score: float, scores: np.ndarray) -> float:
    """The share of `scores` below `score`: 0.973 reads "more unusual than 97.3% of them"."""
    return float(np.mean(np.asarray(scores) < score)) if len(scores) else 0.0
