"""Files the app writes under `static/` for browsers to fetch (decoders, test-set records): named by
a hash of what they were made from, written whole or not at all, and pruned to the models in use.

Two sessions asking at once write the same bytes under the same name; a browser never fetches half
a file, because each is written under a hidden temporary name and renamed once checked.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path

# Each model a browser has used lately, per kind of file; a re-saved bundle makes new ones.
MAX_CACHED_FILES = 32
# A temporary file this old was left by a killed write.
STALE_PARTIAL_SECONDS = 3600


def prune(cache: Path, suffix: str) -> None:
    """Keep `cache`'s files ending in `suffix` to the `MAX_CACHED_FILES` written most recently (a
    model still in use gets its file again), and drop partial files an hour old."""
    files = sorted(cache.glob(f"*{suffix}"), key=lambda path: path.stat().st_mtime, reverse=True)
    stale = [path for path in cache.glob(".*") if time.time() - path.stat().st_mtime > STALE_PARTIAL_SECONDS]
    for path in files[MAX_CACHED_FILES:] + stale:
        path.unlink(missing_ok=True)


def place(target: Path, write: Callable[[Path], None], check: Callable[[Path], None] = lambda _: None) -> None:
    """`write` the file through a temporary name beside `target`, `check` it (raising to refuse it),
    and rename it into place."""
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
    try:
        write(partial)
        check(partial)
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
