"""Model bundles: a directory holding a trained model, its description and its test-set atlas.

    <name>/model.keras  the VAE, loadable with safe_mode=True
    <name>/meta.json    config, dataset, class names, history, test metrics, versions, time
    <name>/atlas.npz    test set: latent means and log-variances, labels, reconstruction errors,
                        and the uint8 images themselves, so the app needs no dataset to explore
    <name>/decoder.onnx the decoder for browsers, z to intensities (absent where export failed)
    <name>/encoder.onnx an imported ONNX model's encoder, beside its decoder.onnx, in place of
                        model.keras (`vae_core.imports`)
    <name>/replay.npz   training replay: latent means of validation images after each epoch
                        (absent in older bundles, and where no images were held out for validation)
    <name>/code_mixture.npz  a Gaussian mixture fitted to the training codes, written after the rest
                        (`vae_core.analysis.code_mixture`; absent in older and imported bundles)

A bundle is written into a hidden temporary directory and renamed into place, so a save that is
interrupted never leaves a half bundle under a name the registry lists.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from vae_core.bundles.archives import check_bundle
from vae_core.bundles.decoder_export import DecoderExportFailed, export_decoder
from vae_core.bundles.files import (
    ATLAS_ARRAYS,
    ATLAS_FILE,
    DECODER_FILE,
    ENCODER_FILE,
    META_FILE,
    MODEL_FILE,
    BundleError,
    check_destination,
    model_files,
    replace_directory,
    staging_directory,
    write_meta,
)
from vae_core.bundles.meta import BundleMeta
from vae_core.bundles.replay import Replay, write_replay
from vae_core.data.datasets import as_intensities
from vae_core.model.codec import LatentCodec
from vae_core.model.onnx_codec import OnnxModel
from vae_core.model.vae import VAE

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class Atlas:
    """The test set as the model sees it, one row per test image."""

    z_mean: np.ndarray
    z_log_var: np.ndarray
    reconstruction_error: np.ndarray
    images: np.ndarray
    labels: np.ndarray | None = None

    def to_arrays(self) -> dict[str, np.ndarray]:
        arrays = {name: getattr(self, name) for name in ATLAS_ARRAYS}
        return arrays if self.labels is None else {**arrays, "labels": self.labels}


@dataclass(frozen=True)
class Bundle:
    """A loaded bundle."""

    path: Path
    meta: BundleMeta
    model: VAE | OnnxModel
    atlas: Atlas


def build_atlas(codec: LatentCodec, images: np.ndarray, labels: np.ndarray | None) -> Atlas:
    """Encode the test images; reconstruction error is the mean squared error at z = z_mean.

    A conditional model encodes and decodes each image with its own label."""
    z_mean, z_log_var = codec.encode(images, labels)
    errors = np.empty(len(images), np.float32)
    for start in range(0, len(images), 1024):
        x = as_intensities(images[start : start + 1024])
        chunk_labels = None if labels is None else labels[start : start + 1024]
        reconstruction = codec.decode(z_mean[start : start + 1024], chunk_labels)
        errors[start : start + 1024] = np.mean((reconstruction - x) ** 2, axis=(1, 2, 3))
    return Atlas(z_mean, z_log_var, errors, np.asarray(images, np.uint8), labels)


def save_bundle(path: Path, model: VAE, meta: BundleMeta, atlas: Atlas, replay: Replay | None = None) -> Path:
    """Write a bundle atomically at `path`, replacing any bundle already there (and nothing else)."""

    def write(staging: Path) -> None:
        without_optimizer(model).save(staging / MODEL_FILE)
        try:
            export_decoder(model, staging / DECODER_FILE, saved_model=staging / MODEL_FILE)
        except DecoderExportFailed as error:  # the app decodes on the server instead, and says so
            LOGGER.warning("Saving %s without %s: %s", Path(path).name, DECODER_FILE, error)
        if replay is not None and len(replay.epochs):
            write_replay(staging, replay)

    return _save_staged(path, meta, atlas, write)


def save_onnx_bundle(path: Path, encoder: bytes, decoder: bytes, meta: BundleMeta, atlas: Atlas) -> Path:
    """Write an imported ONNX model's bundle atomically at `path`: its encoder and decoder as the
    import rewrote them (`vae_core.imports.onnx_graphs`), in place of model.keras."""

    def write(staging: Path) -> None:
        (staging / ENCODER_FILE).write_bytes(encoder)
        (staging / DECODER_FILE).write_bytes(decoder)

    return _save_staged(path, meta, atlas, write)


def _save_staged(path: Path, meta: BundleMeta, atlas: Atlas, write_model: Callable[[Path], None]) -> Path:
    """The model's files (`write_model`), the atlas and meta.json, written into a hidden staging
    folder beside `path`, then renamed into place."""
    path = Path(path)
    check_destination(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_directory(path)
    try:
        write_model(staging)
        np.savez_compressed(staging / ATLAS_FILE, **atlas.to_arrays())
        write_meta(staging, meta)
        replace_directory(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return path


def without_optimizer(model: VAE) -> VAE:
    """A weight-for-weight copy with no optimizer state, which would triple the file's size."""
    copy = VAE.from_config(model.get_config())
    copy(copy.zeros_input())  # builds it, so Keras saves it as a built model
    copy.set_weights(model.get_weights())
    return copy


def load_atlas(path: Path) -> Atlas:
    """The bundle's atlas arrays; their presence and shapes are `check_bundle`'s to check first."""
    try:
        with np.load(Path(path) / ATLAS_FILE, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except Exception as error:  # damaged data fails in many ways (bad CRC, zlib, truncation)
        raise BundleError(f"{ATLAS_FILE} is not a readable .npz file. Train or copy the model again.") from error
    labels = arrays.get("labels")
    if labels is not None and len(labels) and labels.min() < 0:
        raise BundleError(f"{ATLAS_FILE} has negative labels; labels are class numbers from 0.")
    return Atlas(**{name: arrays[name] for name in ATLAS_ARRAYS}, labels=labels)


def load_model(path: Path) -> VAE:
    """The bundle's VAE, loaded with `safe_mode=True` (no arbitrary code from the file)."""
    try:
        model = keras.saving.load_model(Path(path) / MODEL_FILE, safe_mode=True, compile=False)
    except Exception as error:  # Keras raises many types for a damaged or foreign file
        LOGGER.warning("Keras could not load %s: %s", Path(path) / MODEL_FILE, error)
        raise BundleError(
            f"{MODEL_FILE} could not be loaded ({type(error).__name__}): it may come from another version of"
            " this app, or be damaged. Train or copy the model again."
        ) from error
    if not isinstance(model, VAE):
        raise BundleError(f"{MODEL_FILE} holds a {type(model).__name__}, not a vae_core VAE.")
    return model


def load_bundle(path: Path) -> Bundle:
    """Load and check a whole bundle: meta, model and atlas, and that they agree."""
    meta = check_bundle(path)
    if model_files(meta) == (MODEL_FILE,):
        model: VAE | OnnxModel = load_model(path)
    else:  # checked by check_bundle: their inputs and outputs are meta.json's shapes
        config = meta.model
        model = OnnxModel(
            Path(path) / ENCODER_FILE, Path(path) / DECODER_FILE, config.latent_dim, config.image_shape, config.classes
        )
    atlas = load_atlas(path)
    if atlas.z_mean.shape[1:] != (model.latent_dim,) or atlas.images.shape[1:] != model.image_shape:
        raise BundleError(
            f"{MODEL_FILE} does not match its {META_FILE} and {ATLAS_FILE}: latent size {model.latent_dim},"
            f" images {model.image_shape}."
        )
    if model.classes != meta.model.classes:
        raise BundleError(
            f"{MODEL_FILE} is conditioned on {model.classes} classes and {META_FILE} says {meta.model.classes}."
            " Train or copy the model again."
        )
    if model.classes and (atlas.labels is None or (len(atlas.labels) and atlas.labels.max() >= model.classes)):
        raise BundleError(
            f"{MODEL_FILE} is conditioned on {model.classes} classes, but {ATLAS_FILE} lacks a label"
            " within them for every test image. Train or copy the model again."
        )
    return Bundle(Path(path), meta, model, atlas)
