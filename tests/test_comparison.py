"""Comparing models: active units from the atlas, and when two models can be shown side by side."""

from __future__ import annotations

import dataclasses

import numpy as np
from synthetic import bundle_meta

from vae_core.analysis.comparison import active_units, kl_per_dimension, why_not_side_by_side
from vae_core.config import ModelConfig, TrainConfig


def test_a_dimension_at_the_prior_carries_nothing_and_one_that_moves_is_active():
    rng = np.random.default_rng(0)
    z_mean = np.stack([rng.normal(0, 2, 500), np.zeros(500), rng.normal(0, 0.05, 500)], axis=1)
    z_log_var = np.stack([np.full(500, -4.0), np.zeros(500), np.zeros(500)], axis=1)

    kl = kl_per_dimension(z_mean, z_log_var)

    assert kl[1] == 0.0  # q(z|x) = N(0, 1) = the prior, for every image
    expected = 0.5 * (4.0 + np.exp(-4.0) + 4.0 - 1.0)  # E[mu^2] = 4, sigma^2 = e^-4
    assert abs(kl[0] - expected) < 0.3
    assert kl[2] < 0.01  # means that barely move: E[mu^2] / 2 is about 0.00125 nats
    assert active_units(z_mean, z_log_var) == 1


def meta(dataset: str) -> object:
    base = bundle_meta(TrainConfig(ModelConfig("mlp", hidden_sizes=(8,))), 4, None)
    return dataclasses.replace(base, dataset=dataclasses.replace(base.dataset, name=dataset))


def test_models_of_one_test_set_stand_side_by_side_and_others_say_why_not():
    images = np.arange(4 * 28 * 28, dtype=np.uint8).reshape(4, 28, 28, 1)
    same = {"a": meta("mnist"), "b": meta("mnist")}
    assert why_not_side_by_side(same, {"a": images, "b": images.copy()}) is None

    other_dataset = {"a": meta("mnist"), "b": meta("fashion_mnist")}
    assert why_not_side_by_side(other_dataset, {"a": images, "b": images}) == (
        "a was trained on mnist and b on fashion_mnist: they have no test images in common."
    )
    shuffled = images[::-1].copy()
    assert why_not_side_by_side(same, {"a": images, "b": shuffled}) == (
        "a and b were tested on different images of mnist."
    )
