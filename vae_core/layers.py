"""The reparameterisation layer: draws z ~ N(mean, exp(log_var)) so gradients reach the encoder."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="vae_core")
class Sampling(keras.layers.Layer):
    """Samples z = mean + exp(log_var / 2) * eps with eps ~ N(0, I) (Kingma & Welling 2014, eq. 10).

    A layer rather than a `Lambda` so models load with `safe_mode=True`, and seeded through a
    `keras.random.SeedGenerator` so the same seed gives the same noise on every backend run.

    Args:
        seed: integer seed for the noise, or `None` for a fresh one.
    """

    def __init__(self, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if seed is not None and not isinstance(seed, int):
            raise ValueError(f"Expected an integer seed or None. Received: seed={seed!r}")
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, z_mean: Any, z_log_var: Any) -> Any:
        epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    def compute_output_shape(self, z_mean_shape: tuple, z_log_var_shape: tuple) -> tuple:
        return z_mean_shape

    def get_config(self) -> dict[str, Any]:
        base_config = super().get_config()
        return {**base_config, "seed": self.seed}
