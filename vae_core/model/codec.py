"""Fast encode/decode for interactive pages and evaluation: one compiled call per batch.

`model.predict` builds a data pipeline on every call (tens of milliseconds for one point); a
slider drag cannot afford that. `predict_on_batch` runs the backend's compiled predict function
directly, so one latent point decodes in about a millisecond and a 30x30 grid in a single call.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import keras
import numpy as np
from keras import layers, ops

from vae_core.data.datasets import as_intensities
from vae_core.model.losses import bernoulli_nll
from vae_core.model.precision import FLOAT32, resolve_precision, with_dtype_policy
from vae_core.model.vae import VAE

BATCH_SIZE = 1024
# One batch's inputs (z or images, then the condition) to its outputs: a compiled Keras model, or an
# ONNX Runtime session (`onnx_codec`).
BatchRunner = Callable[[list[np.ndarray]], Any]
# A batch's float32 images stay within this: TensorFlow's allocator keeps the largest batch's
# buffers for reuse, so a batch of 1,024 images of 256 x 256 x 3 (768 MB) would stay held.
BATCH_BYTES = 8 * 2**20


class LatentCodec:
    """Compiled encoder and decoder of one trained VAE, taking and giving numpy arrays.

    Images go in as uint8 (0-255) or floats in [0, 1]; decoded images come out as float32 in [0, 1]
    with shape (n, height, width, channels). Safe to share between threads once constructed.
    A conditional model needs each image's or point's class: `labels` is then an integer label per
    row, one integer label for every row, or a 2-D array of class weights (one-hot, or a mix for a
    morph), one row per row or one for all; a plain model ignores it, so callers may pass what they
    have for either kind.

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
        self.classes = vae.classes
        decoder = intensity_decoder(with_dtype_policy(vae.decoder, resolve_precision(decode_precision)))
        z, images = keras.Input(shape=(self.latent_dim,)), keras.Input(shape=self.image_shape)
        # log p(x|z) per image, computed in the same compiled call as the decoder so importance
        # sampling never moves (samples x pixels) logits through numpy.
        if self.classes:
            condition = keras.Input(shape=(self.classes,))
            logits, inputs = vae.decoder([z, condition]), [z, images, condition]
        else:
            logits, inputs = vae.decoder(z), [z, images]
        log_likelihood = keras.Model(inputs, ops.negative(bernoulli_nll(images, logits)), name="log_likelihood")
        self._encode_batch, self._decode_batch, self._log_likelihood_batch = (
            keras_runner(model) for model in (vae.encoder, decoder, log_likelihood)
        )
        # Compile each predict function now, not on a user's first slider move.
        self.encode(np.zeros((1, *self.image_shape), np.float32), labels=0)
        self.decode(np.zeros((1, self.latent_dim), np.float32), labels=0)

    def encode(self, images: np.ndarray, labels: np.ndarray | int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(z_mean, z_log_var), each (n, latent_dim), for images (n, h, w, c)."""
        parts = self._batched(self._encode_batch, [np.asarray(images)], labels)
        if not parts:
            empty = np.zeros((0, self.latent_dim), np.float32)
            return empty, empty
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def decode(self, z: np.ndarray, labels: np.ndarray | int | None = None) -> np.ndarray:
        """Images in [0, 1], (n, h, w, c), for latent points z of shape (n, latent_dim) or (latent_dim,)."""
        parts = list(self.decode_batches(z, labels))
        return np.concatenate(parts) if parts else np.zeros((0, *self.image_shape), np.float32)

    def decode_batches(self, z: np.ndarray, labels: np.ndarray | int | None = None) -> Iterator[np.ndarray]:
        """`decode`, a batch at a time: a caller that shrinks or converts each batch never holds every
        picture as float32 at once."""
        z = np.asarray(z, dtype=np.float32).reshape(-1, self.latent_dim)
        return self._batches(self._decode_batch, [z], labels)

    def log_likelihood(self, z: np.ndarray, images: np.ndarray, labels: np.ndarray | int | None = None) -> np.ndarray:
        """Bernoulli log p(x|z) in nats, one per row, for paired z (n, d) and images (n, h, w, c)."""
        z = np.asarray(z, dtype=np.float32)
        return np.concatenate(self._batched(self._log_likelihood_batch, [z, np.asarray(images)], labels)).astype(
            np.float64
        )

    def condition(self, labels: np.ndarray | int | None, rows: int) -> np.ndarray:
        """(rows, classes) float32 class weights for `labels` (see the class docstring)."""
        if labels is None:
            raise ValueError("This model is conditional: say which class each image or point is (labels).")
        values = np.asarray(labels)
        if values.ndim <= 1:
            if not np.issubdtype(values.dtype, np.integer):
                raise ValueError(f"Expected integer labels, or rows of class weights. Received: {values.dtype} labels")
            if values.size and (values.min() < 0 or values.max() >= self.classes):
                received = f"{values.min()}..{values.max()}"
                raise ValueError(f"Expected labels from 0 to {self.classes - 1}. Received: {received}")
            values = np.eye(self.classes, dtype=np.float32)[values]
        weights = np.broadcast_to(np.asarray(values, np.float32).reshape(-1, self.classes), (rows, self.classes))
        return np.ascontiguousarray(weights)

    def _batched(self, run: BatchRunner, arrays: list[np.ndarray], labels: np.ndarray | int | None) -> list:
        return list(self._batches(run, arrays, labels))

    def _batches(self, run: BatchRunner, arrays: list[np.ndarray], labels: np.ndarray | int | None) -> Iterator:
        """`run` on each batch of rows of `arrays` (images made intensities a batch at a time), the
        condition appended where the model takes one; a batch holds `BATCH_SIZE` rows or `BATCH_BYTES`
        of images, whichever is fewer."""
        if self.classes:
            arrays = [*arrays, self.condition(labels, len(arrays[0]))]
        rows = max(1, min(BATCH_SIZE, BATCH_BYTES // (4 * math.prod(self.image_shape))))
        for start in range(0, len(arrays[0]), rows):
            chunk = [as_intensities(a[start : start + rows]) for a in arrays]
            yield run(chunk)


def keras_runner(model: keras.Model) -> BatchRunner:
    """A batch through `model`'s compiled predict function, its inputs in order."""
    return lambda chunk: model.predict_on_batch(chunk if len(chunk) > 1 else chunk[0])


def intensity_decoder(decoder: keras.Model) -> keras.Model:
    """z (and a conditional decoder's condition) to pixel intensities in [0, 1]: the decoder's logits
    through a float32 sigmoid."""
    names = ("z", "condition")[: len(decoder.inputs)]
    inputs = [keras.Input(shape=t.shape[1:], name=name) for t, name in zip(decoder.inputs, names, strict=True)]
    logits = decoder(inputs if len(inputs) > 1 else inputs[0])
    intensities = layers.Activation("sigmoid", dtype=FLOAT32)(logits)
    return keras.Model(inputs if len(inputs) > 1 else inputs[0], intensities, name="decode_intensities")
