"""Where bundles live and which ones exist: the shipped `pretrained/` and the user's models dir."""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vae_core.bundles.archives import check_bundle
from vae_core.bundles.files import BUNDLE_FILES, DECODER_FILE, ENCODER_FILE, BundleError, recover_interrupted_saves
from vae_core.bundles.meta import BundleMeta

REPO_ROOT = Path(__file__).resolve().parents[2]
PRETRAINED_DIR = REPO_ROOT / "pretrained"
MODELS_DIR_ENV = "VAE_MODELS_DIR"
TENSORBOARD_DIR_ENV = "VAE_TENSORBOARD_DIR"
CACHE_DIR_ENV = "VAE_CACHE_DIR"
MAX_NAME_LENGTH = 64
LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class BundleInfo:
    """A bundle found on disk, described by its meta.json alone (the model is not loaded)."""

    path: Path
    meta: BundleMeta
    pretrained: bool

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class UnusableBundle:
    """A directory among the bundles that cannot be offered, and why, in one line."""

    name: str
    reason: str

    def __str__(self) -> str:
        return f"{self.name}: {self.reason}"


def user_models_dir() -> Path:
    """Where trained models are saved: `$VAE_MODELS_DIR`, else `models/` in the checkout (beside
    `pretrained/`) or, for the package installed from a wheel, in the working directory."""
    checkout = REPO_ROOT / "models" if PRETRAINED_DIR.is_dir() else Path.cwd() / "models"
    return Path(os.environ.get(MODELS_DIR_ENV) or checkout)


def tensorboard_logs_dir() -> Path:
    """Where the Train form's runs write TensorBoard logs, a folder per model: `$VAE_TENSORBOARD_DIR`,
    else `runs/` beside the models folder (never inside it, where each would be listed as a model).
    The form offers no other folder: no visitor can have the server write where it was not meant to."""
    return Path(os.environ.get(TENSORBOARD_DIR_ENV) or user_models_dir().parent / "runs")


def cache_dir() -> Path:
    """Where the app keeps what it made from a model and can make again (its UMAP and t-SNE maps):
    `$VAE_CACHE_DIR`, else `cache/` beside the models folder."""
    return Path(os.environ.get(CACHE_DIR_ENV) or user_models_dir().parent / "cache")


def safe_model_name(name: str) -> str:
    """A directory name made from `name`: lower-case letters, digits, '-', '_' and '.' only.

    Anything else (slashes, spaces, '..') becomes '-', and leading dots and dashes are dropped, so
    a name can never point outside the models directory or hide itself.
    """
    cleaned = re.sub(r"[^a-z0-9._-]+", "-", name.strip().lower())
    cleaned = re.sub(r"\.{2,}", "-", cleaned).strip(".-")[:MAX_NAME_LENGTH].rstrip(".-")
    if not cleaned:
        raise ValueError(f"Model name {name!r} has no letters or digits; choose a name like 'mnist-conv-2d'.")
    return cleaned


def scan_bundles(directories: Sequence[Path] | None = None) -> tuple[list[BundleInfo], list[UnusableBundle]]:
    """All bundles that pass every check made without Keras, newest first, and the directories that do not.

    Leftovers of killed saves are recovered first (`recover_interrupted_saves`); other hidden
    directories (names starting with '.') are saves in progress, skipped without a word.
    """
    if directories is None:
        directories = (PRETRAINED_DIR, user_models_dir())
    found, unusable = [], []
    for directory in directories:
        if not Path(directory).is_dir():
            continue
        recover_interrupted_saves(directory)
        pretrained = Path(directory).resolve() == PRETRAINED_DIR
        for path in sorted(Path(directory).iterdir()):
            if not path.is_dir() or path.name.startswith("."):
                continue
            try:
                found.append(BundleInfo(path, checked_meta(path), pretrained))
            except BundleError as error:
                unusable.append(UnusableBundle(path.name, str(error)))
            except Exception as error:  # a check's own blind spot must not take every page down
                LOGGER.exception("Could not check %s", path)
                unusable.append(UnusableBundle(path.name, f"could not be read ({type(error).__name__})."))
    found.sort(key=lambda info: info.meta.created, reverse=True)
    return found, unusable


def checked_meta(path: Path) -> BundleMeta:
    """`check_bundle`, done again only when one of the bundle's files has changed since the last time."""
    signature = []
    for name in (*BUNDLE_FILES, ENCODER_FILE, DECODER_FILE):  # an imported ONNX model's files too
        try:
            status = (path / name).stat()
            signature.append((status.st_mtime_ns, status.st_size))
        except OSError:
            signature.append(None)
    return _checked_meta(str(path), tuple(signature))


@functools.lru_cache(maxsize=256)
def _checked_meta(path: str, signature: tuple) -> BundleMeta:
    return check_bundle(Path(path))
