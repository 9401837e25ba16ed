"""Custom layers: the reparameterised sampling of z, and the convolutions' per-channel bias."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from vae_core.model.precision import FLOAT32


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


# Backends whose gradient of a bfloat16 addition sums in float32 (checked by the tests of ChannelBias).
BACKENDS_SUMMING_GRADIENTS_IN_FLOAT32 = frozenset({"tensorflow"})


@keras.saving.register_keras_serializable(package="vae_core")
class ChannelBias(keras.layers.Layer):
    """Adds a learned bias per channel (the last axis); the convolutions here carry their bias in it.

    Why not Keras's own bias: on TensorFlow it is `tf.nn.bias_add`, whose CPU gradient sums
    bfloat16 in bfloat16, so the sum stalls under mixed bfloat16 and training falls behind float32.
    A plain `+` (not `ops.add`, which TensorFlow turns back into `bias_add`) has a gradient
    TensorFlow sums accurately. JAX sums a bfloat16 `+`'s gradient in bfloat16 too, so other
    backends add in float32; TensorFlow does not, as the casts would cost it most of bfloat16's
    speed. The figures are in bench/RESULTS.md.
    """

    def build(self, input_shape: tuple) -> None:
        # Not autocast: the float32 addition reads the float32 weight, not a bfloat16 copy.
        self.bias = self.add_weight(shape=(input_shape[-1],), initializer="zeros", name="bias", autocast=False)

    def call(self, inputs: Any) -> Any:
        if self.compute_dtype == FLOAT32 or keras.backend.backend() in BACKENDS_SUMMING_GRADIENTS_IN_FLOAT32:
            return inputs + ops.cast(self.bias, inputs.dtype)
        return ops.cast(ops.cast(inputs, FLOAT32) + self.bias, inputs.dtype)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape
