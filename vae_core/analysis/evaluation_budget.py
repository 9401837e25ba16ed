"""How much of the test split a quick run's evaluation scores: what a share of its training time affords.

The costly metrics are per scored image: the importance-weighted bound decodes it k times (100 by
default), and the 5-NN vote measures its distance to every training image. Over the whole test
split they cost a two-epoch mlp run on MNIST three to four times its training time on this
machine, and a conv decoder costs about five times more, next to its training, than an mlp's
(bench/RESULTS.md, Train). A person waiting for a quick run should not wait that long for its
figures, so the Train page's runs score only some of the test images, spread evenly over the split,
as many as fit in a quarter of the training time: the longer the run, the more of them.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from vae_core.model.codec import LatentCodec

# The costly metrics' share of the training time, and the fewest images they score (about 2 nats
# of standard error on MNIST's bound).
SCORING_SHARE, MIN_SCORED = 0.25, 200
# Test images an import's bound and k-NN accuracy score by default, spread over the split (its ELBO
# covers every image): it has no training time to take a share of, and a tenth of MNIST's test split
# keeps the import of a small model to about a minute here (bench/RESULTS.md).
IMPORT_SCORED = 1000
# The rows of the batch `scoring_seconds` times: the batches the bound's decoder calls take.
PROBE_ROWS = 1024


def affordable_images(training_seconds: float, seconds_per_image: float, test_images: int) -> int:
    """How many test images fit in `SCORING_SHARE` of a run's training time when scoring one takes
    `seconds_per_image`: at least `MIN_SCORED`, at most all."""
    affordable = SCORING_SHARE * training_seconds / max(seconds_per_image, 1e-9)
    return min(test_images, max(MIN_SCORED, int(affordable)))


def scoring_seconds(codec: LatentCodec, image: np.ndarray, label: int | None, samples: int, references: int) -> float:
    """What scoring one test image costs: `samples` of the bound's decoder passes, timed on a batch
    after one that compiles the call (which the bound would otherwise compile), and its distances
    to `references` training images with the pick of the nearest, timed on random codes."""
    z = np.zeros((PROBE_ROWS, codec.latent_dim), np.float32)
    images, labels = np.repeat(image[None], PROBE_ROWS, axis=0), None if label is None else np.full(PROBE_ROWS, label)
    codec.log_likelihood(z, images, labels)
    started = time.perf_counter()
    codec.log_likelihood(z, images, labels)
    seconds = samples * (time.perf_counter() - started) / PROBE_ROWS
    if references:
        codes = np.random.default_rng(0).standard_normal((references + 64, codec.latent_dim)).astype(np.float32)
        started = time.perf_counter()
        np.argpartition(codes[:64] @ codes[64:].T, 4, axis=1)
        seconds += (time.perf_counter() - started) / 64
    return seconds
