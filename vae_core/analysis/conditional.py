"""What a conditional VAE can do that a plain one cannot: write one z as every class, and say which
class an image most likely is (Bayes' rule over the model's own likelihoods, p(label | x) being
proportional to p(x | label) under a uniform prior over labels)."""

from __future__ import annotations

import numpy as np

from vae_core.analysis.evaluation import importance_weighted_bounds
from vae_core.analysis.latent_tools import interpolate
from vae_core.model.codec import LatentCodec

CLASS_SAMPLES = 100


def every_class(codec: LatentCodec, z: np.ndarray) -> np.ndarray:
    """(classes * n, h, w, c) images for n latent points: row r holds every point decoded as class r."""
    z = np.asarray(z, dtype=np.float32).reshape(-1, codec.latent_dim)
    return codec.decode(np.tile(z, (codec.classes, 1)), np.repeat(np.arange(codec.classes), len(z)))


def class_probabilities(codec: LatentCodec, image: np.ndarray, seed: int = 0) -> np.ndarray:
    """p(label | image) for every class: a softmax over the importance-weighted bounds on log p(x | label)."""
    images = np.repeat(np.asarray(image)[np.newaxis], codec.classes, axis=0)
    labels = np.arange(codec.classes)
    bounds = importance_weighted_bounds(codec, images, labels=labels, samples=CLASS_SAMPLES, seed=seed)
    log_px = -bounds["neg_iw_bound"]
    weights = np.exp(log_px - log_px.max())
    return weights / weights.sum()


def style_of(codec: LatentCodec, image: np.ndarray, label: int) -> np.ndarray:
    """The image written as every class: its z, encoded given `label`, decoded as each class in turn."""
    z_mean, _ = codec.encode(np.asarray(image)[np.newaxis], label)
    return every_class(codec, z_mean)


def interpolation(
    codec: LatentCodec, z_pair: np.ndarray, label_pair: np.ndarray | None, steps: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """`steps` points on the line between two latent points and, for a conditional model, class weights
    morphing from the first label to the second on the way (None for a plain model)."""
    z = interpolate(z_pair[0], z_pair[1], steps)
    if not codec.classes:
        return z, None
    first, last = codec.condition(np.asarray(label_pair), 2)
    return z, interpolate(first, last, steps)
