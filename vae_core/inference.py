"""Fast encode/decode for interactive pages and evaluation: one compiled call per batch.

`model.predict` builds a data pipeline on every call (tens of milliseconds for one point); a
slider drag cannot afford that. `predict_on_batch` runs the backend's compiled predict function
directly, so one latent point decodes in about a millisecond and a 30x30 grid in a single call.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from vae_core.losses import bernoulli_nll
from vae_core.model import VAE
from vae_core.precision import FLOAT32, resolve_precision, with_dtype_policy

BATCH_SIZE = 1024


class LatentCodec:
    """Compiled encoder and decoder of one trained VAE, taking and giving numpy arrays.

    Images go in as uint8 (0-255) or floats in [0, 1]; decoded images come out as float32 in [0, 1]
    with shape (n, height, width, channels). Safe to share between threads once constructed.

    Args:
        vae: the trained model.
        decode_precision: what `decode` computes in: `float32` (the default; what measurements such
            as the atlas's reconstruction errors need), `mixed_bfloat16` or `auto` (see
            `precision`). Pictures for the eye may take bfloat16, faster where the processor has
            it and close to float32 to the eye (bench/RESULTS.md). Encoding and `log_likelihood`
            always compute in float32.
    """

    def __init__(self, vae: VAE, decode_precision: str = FLOAT32) -> None:
        self.latent_dim = vae.latent_dim
        self.image_shape = vae.image_shape
        self._encoder = vae.encoder
        self._decoder = intensity_decoder(with_dtype_policy(vae.decoder, resolve_precision(decode_precision)))
        z, images = keras.Input(shape=(self.latent_dim,)), keras.Input(shape=self.image_shape)
        # log p(x|z) per image, computed in the same compiled call as the decoder so importance
        # sampling never moves (samples x pixels) logits through numpy.
        self._log_likelihood = keras.Model(
            [z, images], ops.negative(bernoulli_nll(images, vae.decoder(z))), name="log_likelihood"
        )
        # Compile each predict function now, not on a user's first slider move.
        self.encode(np.zeros((1, *self.image_shape), np.float32))
        self.decode(np.zeros((1, self.latent_dim), np.float32))

    def encode(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(z_mean, z_log_var), each (n, latent_dim), for images (n, h, w, c)."""
        x = as_intensities(images)
        parts = [self._encoder.predict_on_batch(x[i : i + BATCH_SIZE]) for i in range(0, len(x), BATCH_SIZE)]
        if not parts:
            empty = np.zeros((0, self.latent_dim), np.float32)
            return empty, empty
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def decode(self, z: np.ndarray) -> np.ndarray:
        """Images in [0, 1], (n, h, w, c), for latent points z of shape (n, latent_dim) or (latent_dim,)."""
        z = np.asarray(z, dtype=np.float32).reshape(-1, self.latent_dim)
        parts = [self._decoder.predict_on_batch(z[i : i + BATCH_SIZE]) for i in range(0, len(z), BATCH_SIZE)]
        return np.concatenate(parts) if parts else np.zeros((0, *self.image_shape), np.float32)

    def log_likelihood(self, z: np.ndarray, images: np.ndarray) -> np.ndarray:
        """Bernoulli log p(x|z) in nats, one per row, for paired z (n, d) and images (n, h, w, c)."""
        z, x = np.asarray(z, dtype=np.float32), as_intensities(images)
        parts = [
            self._log_likelihood.predict_on_batch([z[i : i + BATCH_SIZE], x[i : i + BATCH_SIZE]])
            for i in range(0, len(z), BATCH_SIZE)
        ]
        return np.concatenate(parts).astype(np.float64)


def intensity_decoder(decoder: keras.Model) -> keras.Model:
    """z to pixel intensities in [0, 1]: the decoder's logits through a float32 sigmoid."""
    z = keras.Input(shape=decoder.inputs[0].shape[1:], name="z")
    intensities = layers.Activation("sigmoid", dtype=FLOAT32)(decoder(z))
    return keras.Model(z, intensities, name="decode_intensities")


def as_intensities(images: np.ndarray) -> np.ndarray:
    """float32 intensities in [0, 1]: uint8 images are divided by 255, floats pass unchanged."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255.0
    return images.astype(np.float32, copy=False)
