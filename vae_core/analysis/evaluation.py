"""Test-set metrics: negative ELBO, the importance-weighted bound, and k-NN accuracy of latent means.

All likelihoods are Bernoulli on [0, 1] intensities, in nats per image, whatever loss the model
trained with, so models of every preset and loss compare on one scale. A conditional model is
measured given each image's label: its bounds are on log p(x | label), not log p(x).
"""

from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from vae_core.bundles.meta import TestMetrics

if TYPE_CHECKING:  # a type only: importing the metrics starts no Keras backend
    from vae_core.model.codec import LatentCodec

LOG_2PI = math.log(2.0 * math.pi)
# z samples per image for the ELBO when the bound scores only some test images: over thousands of
# images the mean is within a few hundredths of a nat of a 100-sample one (bench/RESULTS.md, Train).
ELBO_SAMPLES = 1
# About how many (test, training) pairs the 5-NN vote compares in the time of one decoder pass
# (measured on this machine's mlp and conv decoders): the progress bar's share for the vote.
KNN_PAIRS_PER_DECODE = 1000
# Test points voted on at a time: against 60,000 training codes a chunk's distances take 31 MB and
# about half a second, so that the progress moves and a stop is heard.
KNN_CHUNK = 128
BOUND_STEP, ELBO_STEP = "importance-weighted bound", "ELBO of every test image"
# Large pictures (256 x 256 x 3 is 192 KB as uint8) make a chunk of a thousand images a copy of
# hundreds of MB; MNIST's chunks stay as they were.
CHUNK_BYTES = 16 * 2**20


class EvaluationStopped(Exception):
    """The stop flag was set while evaluating; nothing measured so far is reported."""


class EvaluationSteps:
    """The evaluation's steps as one progress from 0 to 1, each step's share its estimated cost (in
    decoder passes), so the bar moves at about one pace; a set `stop` ends it between two chunks."""

    def __init__(
        self,
        costs: dict[str, float],
        stop: threading.Event | None,
        progress: Callable[[float, str], None] | None,
    ) -> None:
        bounds = list(itertools.accumulate(costs.values(), initial=0.0))
        total = bounds[-1] or 1.0
        self.spans = {
            step: (start / total, end / total) for step, start, end in zip(costs, bounds[:-1], bounds[1:], strict=True)
        }
        self.stop, self.progress = stop, progress

    def reporter(self, step: str) -> Callable[[float], None]:
        """What a step calls after each chunk with its own share done."""
        start, end = self.spans[step]
        return lambda done: self.between_chunks(start + (end - start) * done if done < 1 else end, step)

    def begin(self, step: str) -> None:
        """Report `step` under way before its first chunk, for work it does ahead of its chunks."""
        self.between_chunks(self.spans[step][0], step)

    def between_chunks(self, fraction: float, step: str) -> None:
        """Raise `EvaluationStopped` if asked to stop, else report the progress."""
        if self.stop is not None and self.stop.is_set():
            raise EvaluationStopped
        if self.progress is not None:
            self.progress(fraction, step)


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
    return {key: np.concatenate(parts) if parts else np.zeros(0) for key, parts in results.items()}


def knn_accuracy(
    train_z: np.ndarray,
    train_labels: np.ndarray,
    test_z: np.ndarray,
    test_labels: np.ndarray,
    k: int = 5,
    on_chunk: Callable[[float], None] | None = None,
) -> float:
    """Share of test points whose k nearest training points (Euclidean) vote their label; `on_chunk`
    hears the share of test points done after each chunk."""
    train_z, test_z = train_z.astype(np.float32), test_z.astype(np.float32)
    k = min(k, len(train_z))  # a dataset of a few images has fewer neighbours to vote
    train_norms = np.sum(train_z**2, axis=1)
    n_classes = int(max(train_labels.max(), test_labels.max())) + 1
    correct = 0
    for start in range(0, len(test_z), KNN_CHUNK):
        chunk = test_z[start : start + KNN_CHUNK]
        # |a - b|^2 = |a|^2 - 2 a.b + |b|^2; |a|^2 is the same for every candidate of a row.
        distances = train_norms[None, :] - 2.0 * chunk @ train_z.T
        nearest = np.argpartition(distances, k - 1, axis=1)[:, :k]
        votes = np.zeros((len(chunk), n_classes), np.int64)
        np.add.at(votes, (np.arange(len(chunk))[:, None], train_labels[nearest]), 1)
        correct += int(np.sum(votes.argmax(axis=1) == test_labels[start : start + KNN_CHUNK]))
        if on_chunk is not None:
            on_chunk((start + len(chunk)) / len(test_z))
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
    progress: Callable[[float, str], None] | None = None,
    scored: int | None = None,
) -> TestMetrics:
    """All test metrics: the ELBO over every test image; the `iw_samples`-sample bound and k-NN
    accuracy over every test image too, or, given `scored` (see `evaluation_budget`), scored on about
    that many spread evenly over the split (every n-th: a split's first images can differ from its
    last, as MNIST's two writer populations do; see `TestMetrics`), the ELBO then from
    `ELBO_SAMPLES` z per image. k-NN needs labelled training images, and is `None` without them,
    and for a conditional model, whose z is given the label it would recover.

    `progress` hears the share of the work done and the step under way after each chunk; setting
    `stop` ends the evaluation at the next chunk with `EvaluationStopped`.
    """
    if iw_samples < 1:
        raise ValueError(f"Expected iw_samples >= 1. Received: iw_samples={iw_samples}")
    every = _scoring_stride(len(x_test), scored)
    x_scored, y_scored = x_test[::every], None if y_test is None else np.asarray(y_test)[::every]
    with_knn = y_test is not None and x_train is not None and y_train is not None and not codec.classes
    knn_step = f"{knn_k}-NN accuracy"
    costs_in_decoder_passes = {
        BOUND_STEP: len(x_scored) * iw_samples,
        ELBO_STEP: len(x_test) * ELBO_SAMPLES if every > 1 else 0,
        knn_step: len(x_train) * len(x_scored) / KNN_PAIRS_PER_DECODE if with_knn else 0,
    }
    steps = EvaluationSteps(costs_in_decoder_passes, stop, progress)
    bounds = importance_weighted_bounds(
        codec, x_scored, labels=y_scored, samples=iw_samples, seed=seed, on_chunk=steps.reporter(BOUND_STEP)
    )
    elbo = bounds if every == 1 else _elbo_of_every_image(codec, x_test, y_test, seed + 1, steps.reporter(ELBO_STEP))
    accuracy = None
    if with_knn:
        steps.begin(knn_step)  # the encodings take a moment too
        train_z, test_z = codec.encode(x_train)[0], codec.encode(x_scored)[0]
        accuracy = knn_accuracy(train_z, y_train, test_z, y_scored, k=knn_k, on_chunk=steps.reporter(knn_step))
    steps.between_chunks(1.0, knn_step if with_knn else BOUND_STEP)
    return _test_metrics(bounds, elbo, iw_samples, accuracy, knn_k)


def _scoring_stride(n_images: int, scored: int | None) -> int:
    """Score every n-th test image, so that about `scored` of them (all, if not given) spread over the split."""
    return 1 if scored is None else max(1, math.ceil(n_images / max(scored, 1)))


def _elbo_of_every_image(
    codec: LatentCodec,
    images: np.ndarray,
    labels: np.ndarray | None,
    seed: int,
    on_chunk: Callable[[float], None],
) -> dict[str, np.ndarray]:
    """The ELBO's terms for each image from `ELBO_SAMPLES` z, cheap enough for a split the bound only samples."""
    return importance_weighted_bounds(codec, images, labels=labels, samples=ELBO_SAMPLES, seed=seed, on_chunk=on_chunk)


def _test_metrics(
    bounds: dict[str, np.ndarray],
    elbo: dict[str, np.ndarray],
    iw_samples: int,
    accuracy: float | None,
    knn_k: int,
) -> TestMetrics:
    """The metrics of every image (`elbo`'s), given the bound on the scored ones (`bounds`)."""
    reconstruction, kl = float(elbo["reconstruction_nll"].mean()), float(elbo["kl"].mean())
    # The bound on every image: their ELBO less the ELBO-to-bound gap of the scored ones, which
    # varies about twenty times less from image to image than the bound itself (a control variate).
    gap = bounds["reconstruction_nll"] + bounds["kl"] - bounds["neg_iw_bound"]
    return TestMetrics(
        neg_elbo=reconstruction + kl,
        reconstruction_nll=reconstruction,
        kl=kl,
        neg_iw_bound=reconstruction + kl - float(gap.mean()),
        iw_samples=iw_samples,
        images=len(elbo["kl"]),
        knn_accuracy=accuracy,
        knn_k=knn_k,
        scored_images=len(bounds["kl"]),
    )
