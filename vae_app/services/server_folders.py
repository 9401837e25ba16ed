"""Image folders on the server that the Train form may offer: only those under the folder the
server's owner names in `VAE_DATA_ROOT`. Unset, none are offered, so no visitor can have the app
read a folder of the server's that was not meant for it."""

from __future__ import annotations

import os
from pathlib import Path

DATA_ROOT_ENV = "VAE_DATA_ROOT"


def data_root() -> Path | None:
    """The folder named in `VAE_DATA_ROOT`, where it is set and is a folder."""
    value = os.environ.get(DATA_ROOT_ENV)
    return Path(value) if value and Path(value).is_dir() else None


def server_folders() -> list[str]:
    """The names of the folders directly under the data root, sorted; links and hidden ones are left
    out, so a link cannot reach outside the root."""
    root = data_root()
    if root is None:
        return []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return []
    return sorted(e.name for e in entries if e.is_dir(follow_symlinks=False) and not e.name.startswith("."))


def server_folder(name: str) -> Path:
    """The folder `name` under the data root, once it is one `server_folders` offers."""
    if name not in server_folders():
        raise ValueError(f"{name!r} is not a folder under the data root.")
    return data_root() / name
