"""Per-image loss terms of the VAE objective, as pure functions of tensors (any Keras backend).

Each returns one value per image, summed over pixels or latent dimensions, so the figures are in
nats per image like the papers and tutorials report them.
"""

from __future__ import annotations

from typing import Any

from keras import ops


def _sum_per_image(values: Any) -> Any:
    return ops.sum(values, axis=tuple(range(1, len(values.shape))))


def bernoulli_nll(images: Any, logits: Any) -> Any:
    """-log p(x|z) for a Bernoulli decoder on [0, 1] intensities: softplus(l) - x * l, summed.

    Written on logits rather than probabilities so it stays finite where the sigmoid saturates.
    """
    return _sum_per_image(ops.softplus(logits) - images * logits)


def gaussian_sse(images: Any, logits: Any) -> Any:
    """Squared error between images and decoded intensities, summed over pixels.

    This is the unit-variance Gaussian -log p(x|z) up to a factor 1/2 and a constant, the "MSE
    times pixel count" loss of the dense Keras tutorials.
    """
    return _sum_per_image(ops.square(images - ops.sigmoid(logits)))


def kl_divergence(z_mean: Any, z_log_var: Any) -> Any:
    """KL(q(z|x) || N(0, I)) for a diagonal Gaussian q, in closed form (Kingma & Welling, app. B)."""
    return -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)


RECONSTRUCTION_LOSSES = {"bernoulli": bernoulli_nll, "gaussian": gaussian_sse}
