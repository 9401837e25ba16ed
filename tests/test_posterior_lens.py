"""The posterior lens on a small trained model: its numbers agree with the test metrics' code,
and the true posterior it draws peaks where the encoder puts q(z|x)."""

from __future__ import annotations

import numpy as np
import pytest
from synthetic import synthetic_images

from vae_core.analysis.evaluation import importance_weighted_bounds
from vae_core.analysis.latent_tools import dimension_plane
from vae_core.analysis.posterior_lens import GRID_SIDE, posterior_evidence, posterior_grid, posterior_lens
from vae_core.config import ModelConfig, TrainConfig
from vae_core.model.codec import LatentCodec
from vae_core.training.train import train_vae


@pytest.fixture(scope="module")
def trained():
    images, _ = synthetic_images(256)
    config = TrainConfig(ModelConfig("mlp", hidden_sizes=(32,)), epochs=4, batch_size=32, validation_split=0.0)
    return LatentCodec(train_vae(config, images).model), images


def test_log_px_agrees_with_the_evaluations_importance_weighted_bound(trained):
    codec, images = trained
    lens = posterior_lens(codec, images[0], dimension_plane(2).axes)
    bound_100 = -importance_weighted_bounds(codec, images[:1], samples=100, seed=1)["neg_iw_bound"][0]

    # More samples tighten the bound: k = 1000 sits at or above k = 100, within Monte Carlo error.
    assert bound_100 - 0.5 < lens.log_px < bound_100 + 2.0
    assert lens.elbo <= lens.log_px + 0.1 and lens.gap >= -0.1


def test_the_grid_centres_on_q_and_the_posterior_peaks_near_it(trained):
    codec, images = trained
    lens = posterior_lens(codec, images[3], dimension_plane(2).axes)

    assert lens.log_joint.shape == (GRID_SIDE, GRID_SIDE) and np.isfinite(lens.log_joint).all()
    row, column = np.unravel_index(np.argmax(lens.log_joint), lens.log_joint.shape)
    peak = np.array([lens.u[column], lens.v[row]])
    assert np.all(np.abs(peak) <= 3 * np.maximum(lens.spread, 0.05))  # the encoder's guess is near the mode


def test_the_grid_and_the_numbers_apart_make_the_lens(trained):
    """The page draws the grid first and estimates the numbers after it: the two halves are the lens."""
    codec, images = trained
    axes = dimension_plane(2).axes
    lens = posterior_lens(codec, images[5], axes)
    grid, evidence = posterior_grid(codec, images[5], axes), posterior_evidence(codec, images[5])

    np.testing.assert_allclose(grid.log_joint, lens.log_joint, rtol=1e-6)
    np.testing.assert_allclose([evidence.elbo, evidence.log_px], [lens.elbo, lens.log_px], rtol=1e-6)
    assert evidence.samples == lens.samples and np.isclose(evidence.gap, lens.gap, atol=1e-4)
