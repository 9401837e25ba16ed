"""The on-disk side of model bundles: file names, the format tag, meta.json and atomic writes.

Kept free of Keras so that listing bundles and checking command-line arguments start instantly;
`vae_core.bundle` loads and saves the model itself.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

MODEL_FILE, META_FILE, ATLAS_FILE = "model.keras", "meta.json", "atlas.npz"
BUNDLE_FILES = (MODEL_FILE, META_FILE, ATLAS_FILE)
FORMAT = "vae-bundle/1"


class BundleError(ValueError):
    """A bundle directory is missing a file or holds something unreadable; the message says which."""


def write_json_atomically(path: Path, data: dict[str, Any]) -> None:
    """Write JSON to a temporary file beside `path`, flush it to disk, then rename over `path`."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    with open(temporary, "w", encoding="utf-8") as stream:
        json.dump(data, stream, indent=1, allow_nan=False)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temporary, path)


def replace_directory(staging: Path, path: Path) -> None:
    """Rename `staging` to `path`; an existing `path` is moved aside first and removed after."""
    if not path.exists():
        os.rename(staging, path)
        return
    retired = path.with_name(f".{path.name}.retired-{uuid.uuid4().hex}")
    os.rename(path, retired)
    os.rename(staging, path)
    shutil.rmtree(retired, ignore_errors=True)


def read_meta(path: Path) -> dict[str, Any]:
    """The bundle's meta.json, after checking that every bundle file is present."""
    path = Path(path)
    if not path.is_dir():
        raise BundleError(f"{path} is not a directory.")
    missing = [name for name in BUNDLE_FILES if not (path / name).is_file()]
    if missing:
        raise BundleError(f"{path} is not a complete model bundle: missing {', '.join(missing)}.")
    try:
        meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BundleError(f"{path / META_FILE} is not valid JSON: {error}") from error
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise BundleError(f"{path / META_FILE} does not describe a {FORMAT} bundle.")
    return meta
