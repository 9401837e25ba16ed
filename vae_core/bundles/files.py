"""The on-disk side of model bundles: file names, the format tag, meta.json, atomic writes, and
recovery from saves that were killed halfway.

A save writes `.NAME.partial-*` and renames it to NAME; replacing a bundle first renames the old
one to `.NAME.retired-*`. Kept free of Keras so that listing bundles and checking command-line
arguments start instantly; `vae_core.bundles.bundle` loads and saves the model itself.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from vae_core.bundles.meta import FORMAT, BundleMeta, MetaError
from vae_core.size_limits import array_bytes, npz_headers
from vae_core.wording import abridged, first_line

MODEL_FILE, META_FILE, ATLAS_FILE = "model.keras", "meta.json", "atlas.npz"
BUNDLE_FILES = (MODEL_FILE, META_FILE, ATLAS_FILE)
# The decoder for browsers (`vae_core.bundles.decoder_export`): in every bundle this version saves, where
# the export works, but not required; an older or foreign bundle has none.
DECODER_FILE = "decoder.onnx"
# An imported ONNX model's encoder (`vae_core.imports`): such a bundle holds it and its decoder.onnx
# in place of model.keras.
ENCODER_FILE = "encoder.onnx"
# The training replay (`vae_core.bundles.replay`), optional likewise: bundles saved before it have none.
REPLAY_FILE = "replay.npz"
# A Gaussian mixture fitted to the training codes (`vae_core.analysis.code_mixture`), optional likewise:
# written after the bundle is saved, and absent from older and imported bundles.
CODE_MIXTURE_FILE = "code_mixture.npz"
# 64 components over 64 dimensions take 2 MB; a file past this is not one this app wrote.
MAX_CODE_MIXTURE_BYTES = 4 * 2**20
# The atlas's arrays, one row per test image; an optional `labels` array may follow them.
ATLAS_ARRAYS = ("z_mean", "z_log_var", "reconstruction_error", "images")
# Longest name a file system takes for one path component, and the longest of the names a save
# derives from a bundle's name (`.NAME.retired-`, the time in seconds, '-' and 32 hex digits).
NAME_MAX_BYTES = 255
RETIRED_EXTRA_BYTES = len(".") + len(".retired-") + 12 + len("-") + 32
MAX_BUNDLE_NAME_BYTES = NAME_MAX_BYTES - RETIRED_EXTRA_BYTES
# meta.json holds a run's settings and one line of losses per epoch: a few MB for 10,000 epochs.
MAX_META_BYTES = 16 * 2**20
# A staging folder is written in seconds, after training ends; one this old belongs to a dead save.
STALE_STAGING_SECONDS = 3600
# A replace renames twice within microseconds; a bundle retired this long ago without its successor
# in place was left by a killed save, in whichever process, and is safe to roll back.
STALE_RETIRED_SECONDS = 60
SAVE_LEFTOVER = re.compile(r"\.(?P<name>.+)\.(?:partial-[0-9A-Za-z_]+|retired-(?P<retired_at>[0-9]+)-[0-9a-f]+)")
LOGGER = logging.getLogger(__name__)


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


def staging_directory(path: Path) -> Path:
    """A new, empty `.NAME.partial-*` folder beside `path`, for a save to fill and rename to `path`.

    Made with the permissions of any new folder (the umask's), not `tempfile.mkdtemp`'s owner-only
    ones: the finished bundle is this folder, and a server run by another user must read it.
    """
    staging = path.with_name(f".{path.name}.partial-{uuid.uuid4().hex}")
    os.mkdir(staging)
    return staging


def replace_directory(staging: Path, path: Path) -> None:
    """Rename `staging` to `path`; an existing bundle at `path` is moved aside first and removed after.

    Anything at `path` that is not a bundle is refused (`BundleError`), never replaced.
    """
    if not path.exists():
        os.rename(staging, path)
        return
    if not is_bundle(path):
        raise BundleError(f"{path} exists and is not a model bundle; it was left as it is.")
    retired = path.with_name(f".{path.name}.retired-{int(time.time())}-{uuid.uuid4().hex}")
    os.rename(path, retired)
    os.rename(staging, path)
    shutil.rmtree(retired, ignore_errors=True)


def is_bundle(path: Path) -> bool:
    """Whether `path` is a directory holding a meta.json with this format's tag, or an empty directory."""
    path = Path(path)
    if not path.is_dir():
        return False
    if not any(path.iterdir()):
        return True
    try:
        _tagged_meta(path)
    except BundleError:
        return False
    return True


def check_destination(path: Path) -> None:
    """Refuse, before any training, a save path that holds something other than a bundle, whose name
    is too long for the file system, or where nothing can be written."""
    path = Path(path)
    resolved = path.resolve()
    if len(resolved.name.encode("utf-8")) > MAX_BUNDLE_NAME_BYTES:
        raise BundleError(
            f"The bundle name {abridged(resolved.name, 24)!r} is too long: at most {MAX_BUNDLE_NAME_BYTES} bytes."
        )
    try:
        if resolved.exists() and not is_bundle(resolved):
            kind = "folder" if resolved.is_dir() else "file"
            raise BundleError(
                f"{path} is an existing {kind} that is not a model bundle; only a bundle can be replaced."
                " Choose a new path, such as a name inside it."
            )
        existing = next(parent for parent in (resolved, *resolved.parents) if parent.exists())
        writable = existing.is_dir() and os.access(existing, os.W_OK | os.X_OK)
    except OSError as error:  # a folder name too long, a loop of links, a folder we may not look into
        raise BundleError(
            f"The path {abridged(str(path))!r} cannot be used ({first_line(error)}): choose a shorter or other path."
        ) from None
    if not writable:
        raise BundleError(f"Cannot write into {existing}: choose a path in a folder you can write to.")


def recover_interrupted_saves(directory: Path) -> list[str]:
    """Finish what killed saves left in `directory`; a line for each thing done.

    A `.NAME.retired-TIME-*` folder without NAME, retired over a minute ago, is an old bundle whose
    replacement never arrived: it is renamed back. With NAME present the replacement finished and
    the old copy is removed, as are staging folders older than any save takes. Saves in progress,
    in this process or another, are never touched: they are younger than both limits.
    """
    done, now = [], time.time()
    for entry in Path(directory).iterdir():
        leftover = SAVE_LEFTOVER.fullmatch(entry.name)
        if leftover is None or not entry.is_dir():
            continue
        name, target, retired_at = leftover["name"], Path(directory) / leftover["name"], leftover["retired_at"]
        try:
            if retired_at is not None and not target.exists():
                if now - int(retired_at) > STALE_RETIRED_SECONDS:
                    os.rename(entry, target)
                    done.append(f"{name}: an interrupted replace was rolled back to the earlier model")
            elif retired_at is not None or now - entry.stat().st_mtime > STALE_STAGING_SECONDS:
                shutil.rmtree(entry)
                done.append(f"{name}: removed what an interrupted save left behind")
        except OSError as error:  # a read-only folder: leave it, the listing skips hidden names
            LOGGER.warning("Could not clean up %s: %s", entry, error)
    for line in done:
        LOGGER.info("Recovered %s", line)
    return done


def read_meta(path: Path) -> BundleMeta:
    """The bundle's meta.json, once every bundle file is present and it holds every field readers
    use. Messages name the file within the bundle, not where the bundle is."""
    path = Path(path)
    if not path.is_dir():
        raise BundleError(f"{path.name or path} is not a directory.")
    meta = None
    if (path / META_FILE).is_file():
        try:
            meta = BundleMeta.from_json(_tagged_meta(path))
        except MetaError as error:
            raise BundleError(f"{META_FILE} cannot be used: {error}.") from None
    missing = [name for name in (*model_files(meta), META_FILE, ATLAS_FILE) if not (path / name).is_file()]
    if missing or meta is None:
        raise BundleError(f"not a complete model bundle: missing {', '.join(missing)}.")
    return meta


def model_files(meta: BundleMeta | None) -> tuple[str, ...]:
    """The files that hold the model: model.keras, or an imported model's encoder and decoder (an
    import writes ONNX, whatever files it was given)."""
    if meta is not None and meta.imported is not None:
        return ENCODER_FILE, DECODER_FILE
    return (MODEL_FILE,)


def read_arrays(path: Path, max_bytes: int) -> dict[str, np.ndarray]:
    """The arrays of one of a bundle's .npz files, refused with a `BundleError` naming the file where it
    holds more than `max_bytes` on disk or unpacked (read from its headers, before anything is
    unpacked), or is no .npz of plain arrays."""
    try:
        if path.stat().st_size > max_bytes:
            raise BundleError(f"{path.name} is larger than {max_bytes // 2**20} MB; refused.")
        if sum(array_bytes(header) for header in npz_headers(path).values()) > max_bytes:
            raise BundleError(f"{path.name} unpacks to more than {max_bytes // 2**20} MB; refused.")
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except BundleError:
        raise
    except Exception as error:  # damaged data fails in many ways (bad zip, pickled arrays, zlib)
        raise BundleError(f"{path.name} is not a readable .npz file of arrays.") from error


def write_meta(path: Path, meta: BundleMeta) -> None:
    """Write the bundle's meta.json atomically: the only writer, for a new bundle and a re-measured one."""
    write_json_atomically(Path(path) / META_FILE, meta.to_json())


def _tagged_meta(path: Path) -> dict[str, Any]:
    """The directory's meta.json, read as JSON and carrying this format's tag; nothing else checked."""
    try:
        if (path / META_FILE).stat().st_size > MAX_META_BYTES:
            raise BundleError(f"{META_FILE} is larger than {MAX_META_BYTES // 2**20} MB; refused.")
        meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BundleError(f"{META_FILE} is not valid JSON ({first_line(error)}).") from error
    except RecursionError:  # lists or objects nested thousands deep: no meta.json this project writes
        raise BundleError(f"{META_FILE} is not valid JSON (nested too deeply).") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise BundleError(f"{META_FILE} does not describe a {FORMAT} bundle.")
    return meta
