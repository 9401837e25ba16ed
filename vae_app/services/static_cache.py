"""Files the app writes under `static/` for browsers to fetch (decoders, test-set records): named by
a hash of what they were made from, written whole or not at all, and pruned to the models in use.

Two sessions asking at once write the same bytes under the same name; a browser never fetches half
a file, because each is written under a hidden temporary name and renamed once checked.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path

# Each model a browser has used lately, per kind of file; a re-saved bundle makes new ones.
MAX_CACHED_FILES = 32
# How every name here begins: a hash of what the file was made from (`file_digest`'s length).
HASH_NAME = "[0-9a-f]{24}"
# A temporary file this old was left by a killed write.
STALE_PARTIAL_SECONDS = 3600


def prune(cache: Path, suffix: str) -> None:
    """Keep `cache`'s files ending in `suffix` to the `MAX_CACHED_FILES` written most recently (a
    model still in use gets its file again), and drop partial files an hour old.

    Only files named as the app names them (a hash first) and their partial files are touched, so a folder
    shared with anything else, such as a cache folder set to a home directory, loses nothing else.
    """
    ours = re.compile(rf"(\.)?{HASH_NAME}[a-z0-9-]*{re.escape(suffix)}(\.[0-9a-f]{{32}})?")
    found = [(path, ours.fullmatch(path.name)) for path in cache.iterdir()]
    found = [(path, match) for path, match in found if match and path.is_file() and not path.is_symlink()]
    kept = sorted((path for path, match in found if not match[1]), key=lambda path: path.stat().st_mtime)
    stale = [path for path, match in found if match[1] and time.time() - path.stat().st_mtime > STALE_PARTIAL_SECONDS]
    for path in kept[:-MAX_CACHED_FILES] + stale:
        path.unlink(missing_ok=True)


def place(target: Path, write: Callable[[Path], None], check: Callable[[Path], None] = lambda _: None) -> None:
    """`write` the file through a temporary name beside `target`, `check` it (raising to refuse it),
    and rename it into place."""
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
    try:
        write(partial)
        check(partial)
        with open(partial, "rb+") as written:  # on disk before it has its name: no empty file after a crash
            os.fsync(written.fileno())
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def file_digest(path: Path) -> str:
    """A short hash of a file's bytes, for the name of what is made from it."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:24]
