"""Custom layers: the reparameterised sampling of z, and the convolutions' per-channel bias."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from vae_core.precision import FLOAT32


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

    Keras's TensorFlow backend adds a layer's own bias with `tf.nn.bias_add`, whose CPU gradient
    (`BiasAddGrad`) sums bfloat16 in bfloat16: the running sum stops growing once the terms fall
    below its rounding step, so under mixed bfloat16 a transposed convolution's bias gradient of
    36 came out as 1 and training fell behind float32 (by 5 nats of training loss after 6 epochs
    on MNIST). A plain `+` (not `ops.add`, which TensorFlow's backend turns back into `bias_add`)
    has a gradient TensorFlow sums accurately, and in float32 its train step was 8% faster than
    the fused bias's on this project's CPU. JAX sums a bfloat16 `+`'s gradient in bfloat16, so
    other backends add in float32, whose gradient is a float32 sum. TensorFlow does not: there the
    casts took most of bfloat16's gain (1.37x the tutorial's throughput fell to 1.18x).
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
