"""Where bundles live and which ones exist: the shipped `pretrained/` and the user's models dir."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vae_core.bundle_files import BundleError, read_meta

REPO_ROOT = Path(__file__).resolve().parent.parent
PRETRAINED_DIR = REPO_ROOT / "pretrained"
MODELS_DIR_ENV = "VAE_MODELS_DIR"
MAX_NAME_LENGTH = 64


@dataclass(frozen=True)
class BundleInfo:
    """A bundle found on disk, described by its meta.json alone (the model is not loaded)."""

    path: Path
    meta: dict[str, Any]
    pretrained: bool

    @property
    def name(self) -> str:
        return self.path.name


def user_models_dir() -> Path:
    """Where trained models are saved: `$VAE_MODELS_DIR`, else `models/` in the repository."""
    return Path(os.environ.get(MODELS_DIR_ENV) or REPO_ROOT / "models")


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


def scan_bundles(directories: Sequence[Path] | None = None) -> tuple[list[BundleInfo], list[str]]:
    """All complete bundles, newest first, and a message for each directory that is not one.

    Hidden directories (names starting with '.') are skipped without a message: they are saves in
    progress or interrupted ones.
    """
    if directories is None:
        directories = (PRETRAINED_DIR, user_models_dir())
    found, problems = [], []
    for directory in directories:
        if not Path(directory).is_dir():
            continue
        pretrained = Path(directory).resolve() == PRETRAINED_DIR
        for path in sorted(Path(directory).iterdir()):
            if not path.is_dir() or path.name.startswith("."):
                continue
            try:
                found.append(BundleInfo(path, read_meta(path), pretrained))
            except BundleError as error:
                problems.append(str(error))
    found.sort(key=lambda info: str(info.meta.get("created", "")), reverse=True)
    return found, problems
