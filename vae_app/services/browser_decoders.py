"""Decoders the browser can fetch: each bundle's decoder.onnx, copied where the app serves static
files, or exported there once from the model for a bundle that has none (older or foreign).

Files are named by a hash of what they were made from (see `static_cache`). A name says only which
bytes, not which model they fit, so the file is checked against the asking bundle's model on every
call, whether it was just written or found in the cache.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from vae_app.services.static_cache import file_digest, place, prune
from vae_core.bundles.archives import MAX_DECODER_BYTES, check_decoder_archive
from vae_core.bundles.decoder_export import DecoderExportFailed, export_decoder
from vae_core.bundles.files import DECODER_FILE, MODEL_FILE, BundleError
from vae_core.model.onnx_codec import OnnxModel
from vae_core.model.vae import VAE


class DecoderUnavailable(Exception):
    """The browser cannot be given this model's decoder; the message says why, in a phrase."""


def served_decoder(bundle: Path, model: VAE | OnnxModel, cache: Path) -> str:
    """The name, within `cache`, of an ONNX decoder for the bundle at `bundle`, checked to fit `model`.

    Raises `DecoderUnavailable` when the bundle's file is unusable or no export works here.
    """
    try:
        return _served_decoder(Path(bundle), model, Path(cache))
    except (OSError, ImportError) as error:  # a read-only app folder, a full disk, no onnx package
        reason = f"the decoder could not be prepared for the browser ({type(error).__name__})"
        raise DecoderUnavailable(reason) from error


def _served_decoder(bundle: Path, model: VAE | OnnxModel, cache: Path) -> str:
    cache.mkdir(parents=True, exist_ok=True)
    prune(cache, ".onnx")
    own = bundle / DECODER_FILE
    if own.is_file():
        if own.stat().st_size > MAX_DECODER_BYTES:  # refused before a large file is hashed and copied
            raise DecoderUnavailable(f"{DECODER_FILE} is larger than {MAX_DECODER_BYTES // 2**20} MB")
        name, write = f"{file_digest(own)}.onnx", lambda partial: shutil.copyfile(own, partial)
    else:
        name, write = (
            f"{file_digest(bundle / MODEL_FILE)}-exported.onnx",
            lambda partial: _export(bundle, model, partial),
        )
    if (cache / name).is_file():
        _check(cache / name, model)  # the same bytes may be there for another model (another latent size)
    else:
        place(cache / name, write, check=lambda partial: _check(partial, model))
    return name


def _export(bundle: Path, model: VAE, destination: Path) -> None:
    try:
        export_decoder(model, destination, bundle / MODEL_FILE)
    except DecoderExportFailed as error:
        raise DecoderUnavailable(f"this model has no {DECODER_FILE}, and {error}") from error


def _check(path: Path, model: VAE | OnnxModel) -> None:
    """Refuse a decoder file that a browser could not run for `model`, in the checker's words."""
    try:
        check_decoder_archive(path, model.latent_dim, model.image_shape, model.classes)
    except BundleError as error:
        raise DecoderUnavailable(str(error).rstrip(".")) from error
