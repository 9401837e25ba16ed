"""Outlier scores: per-image negative ELBO agrees with the test metrics, ranks and percentiles."""

from __future__ import annotations

import numpy as np
from synthetic import synthetic_images

from vae_core.analysis.evaluation import evaluate
from vae_core.analysis.outliers import most_unusual, neg_elbo_per_image, share_below
from vae_core.config import ModelConfig, TrainConfig
from vae_core.model.codec import LatentCodec
from vae_core.model.vae import build_vae
from vae_core.training.train import train_vae


def test_per_image_scores_average_to_the_test_sets_negative_elbo():
    codec = LatentCodec(build_vae(ModelConfig("mlp", hidden_sizes=(16,)), seed=0))
    images, _ = synthetic_images(64)

    scores = neg_elbo_per_image(codec, images)

    assert scores.shape == (64,) and np.isfinite(scores).all()
    assert abs(scores.mean() - evaluate(codec, images, iw_samples=50).neg_elbo) < 0.5  # Monte Carlo error


def test_a_picture_unlike_the_training_images_scores_as_unusual():
    images, _ = synthetic_images(256)
    config = TrainConfig(ModelConfig("mlp", hidden_sizes=(32,)), epochs=3, batch_size=32, validation_split=0.0)
    codec = LatentCodec(train_vae(config, images).model)
    odd = np.full((1, 28, 28, 1), 255, np.uint8)  # all white, where the training images are dark but one square

    assert share_below(neg_elbo_per_image(codec, odd)[0], neg_elbo_per_image(codec, images[:64])) == 1.0


def test_the_most_unusual_come_highest_first_and_shares_count_strictly_below():
    scores = np.array([3.0, 9.0, 1.0, 7.0, 5.0])
    assert most_unusual(scores, 3).tolist() == [1, 3, 4]
    assert most_unusual(scores, 10).tolist() == [1, 3, 4, 0, 2]
    assert share_below(5.0, scores) == 0.4 and share_below(0.0, scores) == 0.0
