"""Test-set metrics: negative ELBO, the importance-weighted bound, and k-NN accuracy of latent means.

All likelihoods are Bernoulli on [0, 1] intensities, in nats per image, whatever loss the model
trained with, so models of every preset and loss compare on one scale. A conditional model is
measured given each image's label: its bounds are on log p(x | label), not log p(x).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # the bundle description reads TestMetrics without starting Keras
    from vae_core.inference import LatentCodec

LOG_2PI = math.log(2.0 * math.pi)
# Share of the evaluation's progress bar given to the bound; the k-NN encodings take the rest.
BOUND_SHARE = 0.9
# Large pictures (256 x 256 x 3 is 192 KB as uint8) make a chunk of a thousand images a copy of
# hundreds of MB; MNIST's chunks stay as they were.
CHUNK_BYTES = 16 * 2**20


class EvaluationStopped(Exception):
    """The stop flag was set while evaluating; nothing measured so far is reported."""


@dataclass(frozen=True)
class TestMetrics:
    """What `evaluate` measured; `None` where a metric does not apply (k-NN without labels) or was
    not measured (an evaluation stopped by the user, see `unmeasured`)."""

    neg_elbo: float | None
    reconstruction_nll: float | None
    kl: float | None
    neg_iw_bound: float | None
    iw_samples: int
    images: int
    knn_accuracy: float | None
    knn_k: int

    @classmethod
    def unmeasured(cls, iw_samples: int, knn_k: int = 5) -> TestMetrics:
        """The metrics of a model whose evaluation was stopped: none at all."""
        return cls(None, None, None, None, iw_samples, 0, None, knn_k)

    def to_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


def between_chunks(stop: threading.Event | None, progress: Callable[[float], None] | None, fraction: float) -> None:
    """Between two chunks of work: raise `EvaluationStopped` if asked to stop, else report progress."""
    if stop is not None and stop.is_set():
        raise EvaluationStopped
    if progress is not None:
        progress(fraction)


def log_prior(z: np.ndarray) -> np.ndarray:
    """log N(z; 0, I) in nats, summed over the last axis (the latent dimensions)."""
    return -0.5 * np.sum(z**2 + LOG_2PI, axis=-1)


def kl_from_prior(z_mean: np.ndarray, z_log_var: np.ndarray) -> np.ndarray:
    """KL(N(z_mean, exp(z_log_var)) || N(0, 1)) in nats, for each latent dimension of each image."""
    return 0.5 * (z_mean**2 + np.exp(z_log_var) - z_log_var - 1.0)


def importance_weighted_bounds(
    codec: LatentCodec,
    images: np.ndarray,
    *,
    labels: np.ndarray | None = None,
    samples: int = 100,
    seed: int = 0,
    chunk_images: int = 64,
    on_chunk: Callable[[float], None] | None = None,
) -> dict[str, np.ndarray]:
    """Per image: the ELBO's terms and the k-sample importance-weighted bound (Burda et al. 2016).

    With z_1..z_k ~ q(z|x): log p(x) >= log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x). The ELBO is
    estimated from the same samples as mean_i log p(x|z_i) minus the closed-form KL. `on_chunk`
    is called after each chunk with the share of images done. `labels`, one per image, condition a
    conditional model (a plain one ignores them).
    """
    rng = np.random.default_rng(seed)
    results: dict[str, list[np.ndarray]] = {"reconstruction_nll": [], "kl": [], "neg_iw_bound": []}
    if len(images):  # a chunk's images, repeated once per sample, stay within CHUNK_BYTES
        chunk_images = max(1, min(chunk_images, CHUNK_BYTES // (samples * np.asarray(images[0]).nbytes)))
    for start in range(0, len(images), chunk_images):
        x = images[start : start + chunk_images]
        y = None if labels is None else np.asarray(labels)[start : start + chunk_images]
        z_mean, z_log_var = (a.astype(np.float64) for a in codec.encode(x, y))
        epsilon = rng.standard_normal((len(x), samples, z_mean.shape[1]))
        z = z_mean[:, None, :] + np.exp(0.5 * z_log_var)[:, None, :] * epsilon
        repeated_y = None if y is None else np.repeat(y, samples, axis=0)
        log_px_z = codec.log_likelihood(z.reshape(-1, z.shape[2]), np.repeat(x, samples, axis=0), repeated_y).reshape(
            len(x), samples
        )
        log_pz = log_prior(z)
        log_qz_x = -0.5 * np.sum(epsilon**2 + z_log_var[:, None, :] + LOG_2PI, axis=2)
        log_weights = log_px_z + log_pz - log_qz_x
        peak = log_weights.max(axis=1, keepdims=True)
        iw_bound = peak[:, 0] + np.log(np.mean(np.exp(log_weights - peak), axis=1))
        kl = kl_from_prior(z_mean, z_log_var).sum(axis=1)
        results["reconstruction_nll"].append(-log_px_z.mean(axis=1))
        results["kl"].append(kl)
        results["neg_iw_bound"].append(-iw_bound)
        if on_chunk is not None:
            on_chunk((start + len(x)) / len(images))
    return {key: np.concatenate(parts) for key, parts in results.items()}


def knn_accuracy(
    train_z: np.ndarray, train_labels: np.ndarray, test_z: np.ndarray, test_labels: np.ndarray, k: int = 5
) -> float:
    """Share of test points whose k nearest training points (Euclidean) vote their label."""
    train_z, test_z = train_z.astype(np.float32), test_z.astype(np.float32)
    k = min(k, len(train_z))  # a dataset of a few images has fewer neighbours to vote
    train_norms = np.sum(train_z**2, axis=1)
    n_classes = int(max(train_labels.max(), test_labels.max())) + 1
    correct = 0
    for start in range(0, len(test_z), 512):
        chunk = test_z[start : start + 512]
        # |a - b|^2 = |a|^2 - 2 a.b + |b|^2; |a|^2 is the same for every candidate of a row.
        distances = train_norms[None, :] - 2.0 * chunk @ train_z.T
        nearest = np.argpartition(distances, k - 1, axis=1)[:, :k]
        votes = np.zeros((len(chunk), n_classes), np.int64)
        np.add.at(votes, (np.arange(len(chunk))[:, None], train_labels[nearest]), 1)
        correct += int(np.sum(votes.argmax(axis=1) == test_labels[start : start + 512]))
    return correct / len(test_z)


def evaluate(
    codec: LatentCodec,
    x_test: np.ndarray,
    y_test: np.ndarray | None = None,
    x_train: np.ndarray | None = None,
    y_train: np.ndarray | None = None,
    iw_samples: int = 100,
    knn_k: int = 5,
    seed: int = 0,
    stop: threading.Event | None = None,
    progress: Callable[[float], None] | None = None,
) -> TestMetrics:
    """All test metrics; k-NN needs labelled training images, and is `None` without them, and for a
    conditional model, whose z is given the label it would be asked to recover.

    `progress` hears the share of the work done after each chunk; setting `stop` ends the
    evaluation at the next chunk with `EvaluationStopped`.
    """
    if iw_samples < 1:
        raise ValueError(f"Expected iw_samples >= 1. Received: iw_samples={iw_samples}")
    bounds = importance_weighted_bounds(
        codec,
        x_test,
        labels=y_test,
        samples=iw_samples,
        seed=seed,
        on_chunk=lambda done: between_chunks(stop, progress, done * BOUND_SHARE),
    )
    accuracy = None
    if y_test is not None and x_train is not None and y_train is not None and not codec.classes:
        between_chunks(stop, progress, BOUND_SHARE)
        accuracy = knn_accuracy(codec.encode(x_train)[0], y_train, codec.encode(x_test)[0], y_test, k=knn_k)
    between_chunks(stop, progress, 1.0)
    reconstruction, kl = float(bounds["reconstruction_nll"].mean()), float(bounds["kl"].mean())
    return TestMetrics(
        neg_elbo=reconstruction + kl,
        reconstruction_nll=reconstruction,
        kl=kl,
        neg_iw_bound=float(bounds["neg_iw_bound"].mean()),
        iw_samples=iw_samples,
        images=len(x_test),
        knn_accuracy=accuracy,
        knn_k=knn_k,
    )
